/**
 * The database a benchmark runs on: a fresh SQLite file in its working directory, or, when
 * DATABASE_URL is set (postgres://user@host:5432/database?schema=name), a fresh PostgreSQL
 * schema (jwg_bench if the URL names none). Either way the service's own migrations build it,
 * through the service's data source, and the service and the baseline are pointed at it.
 *
 * The schema is dropped and made again at the start and dropped at the end (unless kept):
 * the benchmark refuses `public`, and a schema that holds tables it did not make. A session
 * advisory lock on the schema's name keeps two benchmarks off the same schema at once.
 */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/config.js';
import { openDatabase } from '../src/database/data-source.js';

export const DEFAULT_SCHEMA = 'jwg_bench';
/** The mark on a schema the benchmark made, so that it only ever drops its own. */
const SCHEMA_COMMENT = 'jwg-bench: made and dropped by the benchmarks';

export type Param = string | number | null;

export interface BenchDatabase {
  kind: 'sqlite' | 'postgres';
  /** For the output: "SQLite" or "PostgreSQL (schema jwg_bench)". */
  label: string;
  /** The compiled baseline that answers on this database, in dist/bench/bench/. */
  baselineScript: string;
  /** What the service and the baseline are told about where the data lives. */
  env: Record<string, string>;
  /** The database, fresh and migrated by the service's own migrations. */
  open(): Promise<DataSource>;
  sizeMb(dataSource: DataSource): Promise<number>;
  /** A count(*) AS n, written with $1..$n placeholders. */
  count(sql: string, params?: Param[]): Promise<number>;
  /** Closes what it opened; drops the schema unless `keep`. */
  close(): Promise<void>;
}

/**
 * The database for a run in `dir`: PostgreSQL when `url` (DATABASE_URL) is set, else SQLite.
 */
export async function benchDatabase(options: {
  dir: string;
  keep: boolean;
  url?: string;
}): Promise<BenchDatabase> {
  return options.url
    ? PostgresBench.create(options.url, options.keep)
    : new SqliteBench(join(options.dir, 'bench.sqlite'));
}

class SqliteBench implements BenchDatabase {
  readonly kind = 'sqlite';
  readonly label = 'SQLite';
  readonly baselineScript = 'baseline-server.js';
  readonly env: Record<string, string>;
  private reader: Database.Database | undefined;

  constructor(private readonly path: string) {
    this.env = { DATABASE_PATH: path };
  }

  open(): Promise<DataSource> {
    return openDatabase({ databasePath: this.path });
  }

  sizeMb(): Promise<number> {
    return Promise.resolve(Math.round(statSync(this.path).size / 1024 / 102.4) / 10);
  }

  count(sql: string, params: Param[] = []): Promise<number> {
    this.reader ??= new Database(this.path, { readonly: true, fileMustExist: true });
    const values: Param[] = [];
    const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
      values.push(params[Number(n) - 1]);
      return '?';
    });
    return Promise.resolve((this.reader.prepare(text).get(...values) as { n: number }).n);
  }

  close(): Promise<void> {
    this.reader?.close();
    return Promise.resolve();
  }
}

class PostgresBench implements BenchDatabase {
  readonly kind = 'postgres';
  readonly baselineScript = 'baseline-server-pg.js';

  private constructor(
    /** The service's DATABASE_URL, with ?schema=. */
    private readonly serviceUrl: string,
    /** Without ?schema=, as the service's config leaves it for the driver. */
    private readonly url: string,
    private readonly schema: string,
    private readonly keep: boolean,
    /** Holds the advisory lock for the whole run; also counts and drops. */
    private readonly client: pg.Client,
  ) {}

  get label(): string {
    return `PostgreSQL (schema ${this.schema})`;
  }

  get env(): Record<string, string> {
    return { DATABASE_URL: this.serviceUrl };
  }

  static async create(raw: string, keep: boolean): Promise<PostgresBench> {
    const withSchema = new URL(raw);
    if (!withSchema.searchParams.has('schema')) {
      withSchema.searchParams.set('schema', DEFAULT_SCHEMA);
    }
    // Read exactly as the service reads it (and refused where the service would refuse it).
    const config = loadConfig({
      DATABASE_URL: withSchema.toString(),
      JWT_SECRET: 'only-to-read-the-url-as-the-service-does',
    });
    const url = config.databaseUrl!;
    const schema = config.databaseSchema;
    if (schema === 'public') {
      throw new Error('the benchmark drops its schema: name one in DATABASE_URL (?schema=...)');
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_lock(hashtext('jwg:bench:' || $1)) AS locked`,
        [schema],
      );
      if (!rows[0].locked) {
        throw new Error(`another benchmark is running on schema ${schema}: name another one`);
      }
      await fresh(client, schema);
      await client.query(`SET search_path TO ${schema}`);
    } catch (error) {
      await client.end();
      throw error;
    }
    return new PostgresBench(withSchema.toString(), url, schema, keep, client);
  }

  open(): Promise<DataSource> {
    return openDatabase({
      databasePath: ':memory:',
      databaseUrl: this.url,
      databaseSchema: this.schema,
    });
  }

  async sizeMb(dataSource: DataSource): Promise<number> {
    const [{ bytes }] = await dataSource.query<{ bytes: string }[]>(
      `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS bytes
       FROM pg_class c INNER JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relkind = 'r'`,
    );
    return Math.round(Number(bytes) / 1024 / 102.4) / 10;
  }

  async count(sql: string, params: Param[] = []): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>(sql, params);
    return Number(rows[0].n);
  }

  async close(): Promise<void> {
    try {
      if (!this.keep) {
        // The servers are gone by now; a connection they left behind must not hang the run.
        await this.client.query(`SET lock_timeout = '10s'`);
        await this.client.query(`DROP SCHEMA ${this.schema} CASCADE`);
      } else {
        console.log(`kept schema ${this.schema} (DATABASE_URL=${this.serviceUrl})`);
      }
    } catch (error) {
      // Not worth hiding the run's own outcome for: the next run drops it first.
      console.error(`could not drop schema ${this.schema}: ${(error as Error).message}`);
    } finally {
      await this.client.end();
    }
  }
}

/** Drops the schema if the benchmark made it (or it holds nothing), and makes it again. */
async function fresh(client: pg.Client, schema: string): Promise<void> {
  const { rows } = await client.query<{ comment: string | null; relations: string }>(
    `SELECT obj_description(n.oid, 'pg_namespace') AS comment,
       (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid) AS relations
     FROM pg_namespace n WHERE n.nspname = $1`,
    [schema],
  );
  if (rows.length > 0 && rows[0].comment !== SCHEMA_COMMENT && Number(rows[0].relations) > 0) {
    throw new Error(
      `schema ${schema} holds tables the benchmark did not make: name another one ` +
        `in DATABASE_URL (?schema=...), or drop it yourself`,
    );
  }
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`COMMENT ON SCHEMA ${schema} IS '${SCHEMA_COMMENT}'`);
}
