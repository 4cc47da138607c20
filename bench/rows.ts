/**
 * Bulk inserts for the benchmarks' synthetic data, on the schema the service's migrations
 * built: on SQLite, one prepared statement run row by row in one transaction per batch; on
 * PostgreSQL, one `INSERT ... SELECT * FROM unnest($1::type[], ...)` per batch (a handful of
 * parameters, however many rows), all in one transaction with the schema's secondary indexes
 * set aside and built again at the end, then VACUUM ANALYZE of the schema's tables so that
 * the planner knows their sizes before the first request.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { DataSource, QueryRunner } from 'typeorm';

export type Cell = string | number | boolean | null;

/** The users columns the bench fills (both seeders). */
export const USER_COLUMNS = [
  'id',
  'username',
  'display_name',
  'role',
  'delegation',
  'email',
  'timezone',
  'active',
  'password_hash',
  'created_at',
  'updated_at',
] as const;

/** The meetings columns the bench fills (both seeders). */
export const MEETING_COLUMNS = [
  'id',
  'number',
  'title',
  'kind',
  'starts_on',
  'ends_on',
  'location',
  'host_delegation',
  'status',
  'created_at',
  'updated_at',
] as const;

export interface RowWriter {
  insert(table: string, columns: readonly string[], rows: readonly Cell[][]): Promise<void>;
  /** Commits what was written and leaves the database ready to be measured. */
  finish(): Promise<void>;
}

export async function rowWriter(dataSource: DataSource): Promise<RowWriter> {
  if (dataSource.options.type === 'postgres') {
    return PostgresWriter.open(dataSource);
  }
  const db = (dataSource.driver as unknown as { databaseConnection: BetterSqlite3.Database })
    .databaseConnection;
  // A larger page cache for the bulk load only: it is not stored in the file.
  db.pragma('cache_size = -262144');
  return new SqliteWriter(db);
}

class SqliteWriter implements RowWriter {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly db: BetterSqlite3.Database) {}

  insert(table: string, columns: readonly string[], rows: readonly Cell[][]): Promise<void> {
    const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    const run = statement;
    // better-sqlite3 binds no booleans: SQLite stores them as 0 and 1.
    this.db.transaction(() => {
      for (const row of rows) {
        run.run(row.map((cell) => (typeof cell === 'boolean' ? Number(cell) : cell)));
      }
    })();
    return Promise.resolve();
  }

  finish(): Promise<void> {
    // Closing the last connection checkpoints the WAL into the file.
    return Promise.resolve();
  }
}

class PostgresWriter implements RowWriter {
  /** Per table, the type of each column, for the casts of the unnest arrays. */
  private readonly types = new Map<string, Map<string, string>>();

  private constructor(
    private readonly dataSource: DataSource,
    private readonly runner: QueryRunner,
    /** The indexes set aside for the load, as the migrations made them. */
    private readonly indexes: { name: string; definition: string }[],
  ) {}

  static async open(dataSource: DataSource): Promise<PostgresWriter> {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    // Nothing is lost if the machine stops mid-seed: the schema is made again next run.
    await runner.query(`SET synchronous_commit = off`);
    await runner.query(`SET maintenance_work_mem = '256MB'`);
    await runner.startTransaction();
    // Inserting 100k rows into a table with ten indexes one row at a time costs ten times
    // what building those indexes afterwards does: the indexes that back no constraint are
    // dropped, and made again from their own definitions (unique ones check then) in finish().
    const indexes = (await runner.query(
      `SELECT quote_ident(c.relname) AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i
         INNER JOIN pg_class c ON c.oid = i.indexrelid
         INNER JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema()
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
    )) as { name: string; definition: string }[];
    for (const index of indexes) {
      await runner.query(`DROP INDEX ${index.name}`);
    }
    return new PostgresWriter(dataSource, runner, indexes);
  }

  async insert(table: string, columns: readonly string[], rows: readonly Cell[][]): Promise<void> {
    if (rows.length === 0) {
      return;
    }
    const types = await this.columnTypes(table);
    const arrays = columns.map((column, c) => {
      if (!types.has(column)) {
        throw new Error(`${table} has no column ${column}`);
      }
      return rows.map((row) => row[c]);
    });
    const casts = columns.map((column, c) => `$${c + 1}::${types.get(column)}[]`);
    await this.runner.query(
      `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${casts.join(', ')})`,
      arrays,
    );
  }

  async finish(): Promise<void> {
    try {
      for (const index of this.indexes) {
        await this.runner.query(index.definition);
      }
      await this.runner.commitTransaction();
    } finally {
      await this.runner.release();
    }
    // Only this schema's tables: a bare VACUUM would go through the whole database.
    const tables = await this.dataSource.query<{ name: string }[]>(
      `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = current_schema()`,
    );
    await this.dataSource.query(`VACUUM (ANALYZE) ${tables.map((t) => t.name).join(', ')}`);
  }

  private async columnTypes(table: string): Promise<Map<string, string>> {
    let types = this.types.get(table);
    if (!types) {
      const rows = (await this.runner.query(
        `SELECT column_name, udt_name FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1`,
        [table],
      )) as { column_name: string; udt_name: string }[];
      types = new Map(rows.map((row) => [row.column_name, row.udt_name]));
      this.types.set(table, types);
    }
    return types;
  }
}
