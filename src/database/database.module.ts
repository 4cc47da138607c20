import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { dataSourceOptions, openDataSource } from './data-source.js';
import { DatabaseMaintenance } from './maintenance.js';
import { UnitOfWork } from './unit-of-work.js';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ ...dataSourceOptions(config), retryAttempts: 0 }),
      // Migrations run under a lock on PostgreSQL, where instances may start together.
      dataSourceFactory: (options) => openDataSource(options!),
    }),
  ],
  providers: [UnitOfWork, DatabaseMaintenance],
  exports: [UnitOfWork],
})
export class DatabaseModule {}
