import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The first answer to a `POST /v1/customers` with an MS-RequestId (CONTRACT section 8). */
@Entity({ name: 'idempotency_records' })
export class IdempotencyRecordEntity {
  @PrimaryColumn({ name: 'partner_tenant_id', type: 'varchar', length: 36 })
  partnerTenantId!: string;

  @PrimaryColumn({ name: 'request_key', type: 'varchar', length: 64 })
  requestKey!: string;

  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash!: string;

  @Column({ name: 'customer_id', type: 'varchar', length: 36, nullable: true })
  customerId!: string | null;

  @Column({ name: 'status_code', type: 'int' })
  statusCode!: number;

  /** The response without the password, which is never stored. */
  @Column({ name: 'response_body', type: 'text' })
  responseBody!: string;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}
