import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/config.js';
import { ENTITIES, MIGRATIONS } from './entities.js';
import { applyPragmas } from './sqlite-pragmas.js';

/** Where the data lives: a SQLite file, or PostgreSQL when databaseUrl is set. */
export type DatabaseConfig = Pick<AppConfig, 'databasePath'> &
  Partial<Pick<AppConfig, 'databaseUrl' | 'databaseSchema' | 'databasePoolSize'>>;

export function dataSourceOptions(config: DatabaseConfig): DataSourceOptions {
  if (config.databaseUrl) {
    const schema = config.databaseSchema ?? 'public';
    return {
      type: 'postgres',
      url: config.databaseUrl,
      schema,
      poolSize: config.databasePoolSize ?? 10,
      // COUNT(*) is bigint: read it as the number SQLite gives (counts stay far below 2^53).
      parseInt8: true,
      // Unqualified names in migrations and raw statements resolve to the schema.
      extra: { options: `-c search_path=${schema}` },
      entities: ENTITIES,
      migrations: MIGRATIONS,
      migrationsTransactionMode: 'each',
      synchronize: false,
    };
  }
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

/** Opens the database and brings its schema up to date. */
export function openDatabase(config: DatabaseConfig): Promise<DataSource> {
  return openDataSource(dataSourceOptions(config));
}

export async function openDataSource(options: DataSourceOptions): Promise<DataSource> {
  if (options.type === 'postgres') {
    await createSchema(options.url!, options.schema!);
  }
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  try {
    await migrate(dataSource);
  } catch (error) {
    // A failed migration must not leave the file open (and its WAL behind) for the caller.
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}

/**
 * Runs pending migrations. On PostgreSQL several instances may start at once: a session
 * advisory lock lets one migrate while the others wait, then find nothing left to do.
 */
async function migrate(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== 'postgres') {
    await dataSource.runMigrations();
    return;
  }
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock(hashtext('jwg:migrations:' || current_schema()))`);
    await dataSource.runMigrations();
  } finally {
    await runner.query(
      `SELECT pg_advisory_unlock(hashtext('jwg:migrations:' || current_schema()))`,
    );
    await runner.release();
  }
}

/** Creates the schema if it is missing (the name was checked as a plain identifier). */
async function createSchema(url: string, schema: string): Promise<void> {
  // Loaded here, not at the top: a SQLite instance never needs pg (~35 modules at start).
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (error) {
    // Two instances creating it at the same moment: one wins, the other finds it there.
    if ((error as { code?: string }).code !== '23505') {
      throw error;
    }
  } finally {
    await client.end();
  }
}
