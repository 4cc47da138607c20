import { DataSource, type DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/config.js';
import { ENTITIES, MIGRATIONS } from './entities.js';
import { applyPragmas } from './sqlite-pragmas.js';

export function dataSourceOptions(config: Pick<AppConfig, 'databasePath'>): DataSourceOptions {
  return {
    type: 'better-sqlite3',
    database: config.databasePath,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    prepareDatabase: applyPragmas,
  };
}

/** Opens the database and brings its schema up to date. For the CLI scripts. */
export async function openDatabase(config: Pick<AppConfig, 'databasePath'>): Promise<DataSource> {
  const dataSource = new DataSource(dataSourceOptions(config));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
  } catch (error) {
    // A failed migration must not leave the file open (and its WAL behind) for the caller.
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}
