import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { EntityManager, LessThan, Repository } from 'typeorm';
import { ApiError } from '../common/errors/error-catalogue';
import { IdempotencyRecordEntity } from './idempotency-record.entity';

const RETENTION_MS = 24 * 60 * 60 * 1000;

export interface IdempotencyKey {
  requestKey: string;
  requestHash: string;
}

export interface StoredAnswer {
  status: number;
  body: unknown;
}

/**
 * Idempotent create with MS-RequestId (CONTRACT section 8): the first answer is stored with the
 * customer, in the same transaction, keyed per partner tenant; a record older than 24 hours no
 * longer counts.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    @InjectRepository(IdempotencyRecordEntity)
    private readonly records: Repository<IdempotencyRecordEntity>,
  ) {}

  keyFor(requestId: string, body: unknown): IdempotencyKey {
    return { requestKey: sha256(requestId), requestHash: sha256(canonicalJson(body)) };
  }

  /** The stored answer for a repeated request; 409 / 600011 when the body differs. */
  async replayFor(tenantId: string, key: IdempotencyKey): Promise<StoredAnswer | undefined> {
    const record = await this.records.findOneBy({
      partnerTenantId: tenantId,
      requestKey: key.requestKey,
    });
    if (!record || record.createdAt.getTime() < Date.now() - RETENTION_MS) return undefined;
    if (record.requestHash !== key.requestHash) {
      throw new ApiError(
        'requestIdReused',
        'This MS-RequestId was already used with a different request',
      );
    }
    return { status: record.statusCode, body: JSON.parse(record.responseBody) };
  }

  /**
   * Forgets this key's record once it is older than 24 hours, so that the key can be claimed again.
   * Run on its own, before the create transaction and by primary key: inside the transaction its
   * locks on a missing row would make concurrent claims of other keys deadlock.
   */
  async purgeExpired(tenantId: string, key: IdempotencyKey): Promise<void> {
    await this.records.delete({
      partnerTenantId: tenantId,
      requestKey: key.requestKey,
      createdAt: LessThan(new Date(Date.now() - RETENTION_MS)),
    });
  }

  /**
   * Claims the key inside the create transaction, before anything else is written: a concurrent
   * request with the same key waits on it (MySQL) or fails on it (SQLite), then replays.
   */
  async claim(manager: EntityManager, tenantId: string, key: IdempotencyKey): Promise<void> {
    await manager.insert(IdempotencyRecordEntity, {
      partnerTenantId: tenantId,
      ...key,
      customerId: null,
      statusCode: 0,
      responseBody: '{}',
      createdAt: new Date(),
    });
  }

  async complete(
    manager: EntityManager,
    tenantId: string,
    key: IdempotencyKey,
    customerId: string,
    answer: StoredAnswer,
  ): Promise<void> {
    await manager.update(
      IdempotencyRecordEntity,
      { partnerTenantId: tenantId, requestKey: key.requestKey },
      { customerId, statusCode: answer.status, responseBody: JSON.stringify(answer.body) },
    );
  }

  async deleteForCustomer(manager: EntityManager, customerId: string): Promise<void> {
    await manager.delete(IdempotencyRecordEntity, { customerId });
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The same body in any key order or case (after folding) hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
