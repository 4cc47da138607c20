import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/config.js';
import { ENTITIES, MIGRATIONS } from './entities.js';
import { applyPragmas } from './sqlite-pragmas.js';

export function dataSourceOptions(config: Pick<AppConfig, 'databasePath'>): DataSourceOptions {
  keepPrivate(config.databasePath);
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

/**
 * The database holds password hashes, sessions and delegation-only notes: its directory is
 * created 0700 and the file 0600 before SQLite opens it (the -wal and -shm files take the
 * file's mode), and a file readable by others is made private.
 */
function keepPrivate(path: string): void {
  if (path === ':memory:') {
    return;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, '', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw error;
    }
    if ((statSync(path).mode & 0o077) !== 0) {
      chmodSync(path, 0o600);
    }
  }
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
