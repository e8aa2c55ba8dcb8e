import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { validateEnvironment } from './src/config/environment';
import { dataSourceOptions } from './src/database/data-source-options';

/** The TypeORM CLI's DataSource (npm run migration:run / migration:revert): the app's options. */
const env = validateEnvironment(process.env);
export default new DataSource(
  dataSourceOptions(env.DATABASE_URL ?? 'sqlite:./data/customers.sqlite'),
);
