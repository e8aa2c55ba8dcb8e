import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadEnvFile, validateEnvironment } from './src/config/environment';
import { dataSourceOptions } from './src/database/data-source-options';

/** The TypeORM CLI's DataSource (npm run migration:run / migration:revert): the app's options. */
loadEnvFile();
// Migrations verify no tokens: they run without AUTH_* too.
const env = validateEnvironment(process.env, { requireTokenKeys: false });
export default new DataSource(
  dataSourceOptions(env.DATABASE_URL ?? 'sqlite:./data/customers.sqlite'),
);
