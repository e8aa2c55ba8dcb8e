import { Global, Module } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { databaseConfig } from '../config/configuration';
import { dataSourceOptions } from './data-source-options';
import { DatabaseStartup } from './database-startup';
import { Transactions } from './transactions';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [databaseConfig.KEY],
      useFactory: (config: ConfigType<typeof databaseConfig>) => ({
        ...dataSourceOptions(config.url, config.timeouts),
        autoLoadEntities: true,
        // DatabaseStartup connects (and retries) in the background, so the process listens at once.
        manualInitialization: true,
      }),
    }),
  ],
  providers: [Transactions, DatabaseStartup],
  exports: [Transactions, DatabaseStartup],
})
export class DatabaseModule {}
