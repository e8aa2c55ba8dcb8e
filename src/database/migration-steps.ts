import { QueryRunner, Table, TableCheck, TableForeignKey, TableIndex } from 'typeorm';

/**
 * Schema steps that are safe to run again. MySQL cannot roll back DDL, so a migration that died
 * half-way (process killed, server gone) has left some of its tables, keys and indexes behind; the
 * next start runs the whole migration again, and each step does only what is still missing.
 * (SQLite runs every migration in one transaction, so there these steps always start clean.)
 */

/** Customer data is any Unicode, compared as on utf8mb4_unicode_ci, whatever the database's default. */
const CHARSET = 'utf8mb4';
const COLLATION = 'utf8mb4_unicode_ci';

export function isMysql(queryRunner: QueryRunner): boolean {
  return queryRunner.connection.options.type === 'mysql';
}

/**
 * Creates the table, with its own character set and collation on MySQL (a plain `CREATE DATABASE`
 * may default to latin1, utf8mb3, utf8mb4_bin or utf8mb4_general_ci). Migrations call it before they
 * add the table's foreign keys: MySQL refuses to convert a column a foreign key uses.
 */
export async function ensureTable(queryRunner: QueryRunner, table: Table): Promise<void> {
  if (!(await queryRunner.hasTable(table.name))) await queryRunner.createTable(table);
  if (isMysql(queryRunner)) await ensureUnicode(queryRunner, table.name);
  for (const index of table.indices) await ensureIndex(queryRunner, table.name, index);
}

async function ensureUnicode(queryRunner: QueryRunner, tableName: string): Promise<void> {
  const rows = (await queryRunner.query(
    'SELECT TABLE_COLLATION AS collation FROM information_schema.TABLES ' +
      'WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    [tableName],
  )) as { collation: string }[];
  if (rows[0]?.collation === COLLATION) return;
  // MySQL refuses to convert a column that a foreign key uses, even with the checks off. A key can
  // only be here when an interrupted run (or the release before this one, which converted too
  // late) created it; the migration that owns it creates it again after its tables are converted.
  const foreignKeys = (await queryRunner.query(
    'SELECT TABLE_NAME AS tableName, CONSTRAINT_NAME AS name ' +
      'FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() ' +
      'AND (TABLE_NAME = ? OR REFERENCED_TABLE_NAME = ?)',
    [tableName, tableName],
  )) as { tableName: string; name: string }[];
  for (const { tableName: owner, name } of foreignKeys) {
    await queryRunner.query(`ALTER TABLE \`${owner}\` DROP FOREIGN KEY \`${name}\``);
  }
  await queryRunner.query(
    `ALTER TABLE \`${tableName}\` CONVERT TO CHARACTER SET ${CHARSET} COLLATE ${COLLATION}`,
  );
}

export async function ensureIndex(
  queryRunner: QueryRunner,
  tableName: string,
  index: TableIndex,
): Promise<void> {
  const table = await queryRunner.getTable(tableName);
  if (table?.indices.some(({ name }) => name === index.name)) return;
  await queryRunner.createIndex(tableName, index);
}

export async function ensureForeignKey(
  queryRunner: QueryRunner,
  tableName: string,
  foreignKey: TableForeignKey,
): Promise<void> {
  const table = await queryRunner.getTable(tableName);
  // By what it links rather than by name: SQLite does not report constraint names reliably.
  const present = table?.foreignKeys.some(
    (existing) =>
      existing.referencedTableName.endsWith(foreignKey.referencedTableName) &&
      existing.columnNames.join() === foreignKey.columnNames.join(),
  );
  if (!present) await queryRunner.createForeignKey(tableName, foreignKey);
}

export async function ensurePrimaryKey(
  queryRunner: QueryRunner,
  tableName: string,
  columnNames: string[],
  constraintName: string,
): Promise<void> {
  const table = await queryRunner.getTable(tableName);
  if (table && table.primaryColumns.length > 0) return;
  await queryRunner.createPrimaryKey(tableName, columnNames, constraintName);
}

/**
 * A CHECK constraint. TypeORM writes CHECKs into CREATE TABLE on SQLite only, so on MySQL it is
 * always added here; on SQLite only when the table was made without it.
 */
export async function ensureCheck(
  queryRunner: QueryRunner,
  tableName: string,
  name: string,
  expression: string,
): Promise<void> {
  if (!isMysql(queryRunner)) {
    const table = await queryRunner.getTable(tableName);
    if (!table?.checks.some((check) => check.name === name)) {
      await queryRunner.createCheckConstraint(tableName, new TableCheck({ name, expression }));
    }
    return;
  }
  const rows = (await queryRunner.query(
    'SELECT 1 FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() ' +
      "AND TABLE_NAME = ? AND CONSTRAINT_NAME = ? AND CONSTRAINT_TYPE = 'CHECK'",
    [tableName, name],
  )) as unknown[];
  if (rows.length > 0) return;
  await queryRunner.query(
    `ALTER TABLE \`${tableName}\` ADD CONSTRAINT \`${name}\` CHECK (${expression})`,
  );
}

/** Drops the table if it is there: `down` after a half-applied `up` must work too. */
export async function dropTableIfPresent(queryRunner: QueryRunner, name: string): Promise<void> {
  if (await queryRunner.hasTable(name)) await queryRunner.dropTable(name);
}
