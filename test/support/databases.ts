import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as mysql from 'mysql2/promise';

export type DatabaseKind = 'sqlite' | 'mariadb';

/** A database of its own for one spec: created before, dropped after. */
export interface TestDatabase {
  kind: DatabaseKind;
  url: string;
  drop(): Promise<void>;
}

export function isAvailable(kind: DatabaseKind): boolean {
  return kind === 'sqlite' || process.env.TEST_MARIADB === 'up';
}

export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  const name = `customers_test_${randomBytes(6).toString('hex')}`;
  if (kind === 'sqlite') {
    const file = join(tmpdir(), `${name}.sqlite`);
    return {
      kind,
      url: `sqlite:${file}`,
      drop: () => {
        for (const suffix of ['', '-wal', '-shm', '-journal'])
          rmSync(file + suffix, { force: true });
        return Promise.resolve();
      },
    };
  }
  const server = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
  const admin = await mysql.createConnection({ uri: server });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    drop: async () => {
      const connection = await mysql.createConnection({ uri: server });
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}

/**
 * Declares the suite once per database: `describe('customers [sqlite]')` and `[mariadb]`.
 * MariaDB's half is skipped (and said so by the global setup) only when it is unreachable outside CI.
 */
export function describeEachDatabase(title: string, body: (kind: DatabaseKind) => void): void {
  for (const kind of ['sqlite', 'mariadb'] as const) {
    (isAvailable(kind) ? describe : describe.skip)(`${title} [${kind}]`, () => body(kind));
  }
}
