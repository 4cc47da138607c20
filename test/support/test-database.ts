import { randomBytes } from 'node:crypto';
import pg from 'pg';

/*
 * `npm run test:pg` sets TEST_DATABASE_URL: every app a test creates then gets its own fresh
 * PostgreSQL schema (the same migrations run in it), dropped when the app closes. Without it
 * the tests run on SQLite files.
 */

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

/** The JWT secret test instances share on PostgreSQL, where one is required. */
export const TEST_JWT_SECRET = 'test-secret-shared-by-instances-0123456789';

export interface TestSchema {
  /** DATABASE_URL for the service, with `?schema=`. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty schema for one test app (or several instances sharing it). */
export function freshSchema(): TestSchema {
  if (!TEST_DATABASE_URL) {
    throw new Error('TEST_DATABASE_URL is not set');
  }
  const name = `jwg_test_${process.pid}_${randomBytes(5).toString('hex')}`;
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('schema', name);
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await withClient((client) => client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`));
    },
  };
}

/** Runs `work` with a short-lived connection to the test database. */
export async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
