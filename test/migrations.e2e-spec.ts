import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options';
import { runMigrations } from '../src/database/migrate';
import { MIGRATIONS } from '../src/database/migrations';
import { createTestDatabase, describeEachDatabase, TestDatabase } from './support/databases';

const TABLES = [
  'customers',
  'billing_profiles',
  'idempotency_records',
  'billing_profile_changes',
  'relationship_requests',
];

describeEachDatabase('migrations', (kind) => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    dataSource = await new DataSource(dataSourceOptions(database.url)).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const tableNames = async () => {
    const runner = dataSource.createQueryRunner();
    try {
      const present = await Promise.all(TABLES.map((table) => runner.hasTable(table)));
      return TABLES.filter((_, index) => present[index]);
    } finally {
      await runner.release();
    }
  };

  it('migrates up, all the way down, and up again', async () => {
    await runMigrations(dataSource);
    expect(await tableNames()).toEqual(TABLES);

    for (let i = 0; i < MIGRATIONS.length; i++) await dataSource.undoLastMigration();
    expect(await tableNames()).toEqual([]);

    await runMigrations(dataSource);
    expect(await tableNames()).toEqual(TABLES);
    expect(await dataSource.showMigrations()).toBe(false);
  });

  it('is safe when several instances migrate at once', async () => {
    const other = await createTestDatabase(kind);
    const sources = await Promise.all(
      [1, 2, 3].map(() => new DataSource(dataSourceOptions(other.url)).initialize()),
    );
    try {
      await Promise.all(sources.map((source) => runMigrations(source)));
      const applied = await sources[0].query<unknown[]>('SELECT name FROM migrations');
      expect(applied).toHaveLength(MIGRATIONS.length);
    } finally {
      await Promise.all(sources.map((source) => source.destroy()));
      await other.drop();
    }
  });
});
