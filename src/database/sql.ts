import type BetterSqlite3 from 'better-sqlite3';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { type EntityManager, QueryFailedError } from 'typeorm';

export type SqlValue = string | number | boolean | null;

export interface SqlResult<T> {
  rows: T[];
  /** Rows changed by an INSERT, UPDATE or DELETE; rows returned for a SELECT or RETURNING. */
  affected: number;
}

/** A statement written with `$n`, as SQLite takes it: `?` and the order of the values. */
interface SqliteText {
  text: string;
  order: number[];
}

const sqliteTexts = new Map<string, SqliteText>();

/** Prepared statements per SQLite connection; the texts are constants, so few. */
const prepared = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();
const MOST_PREPARED = 500;

/**
 * Runs one statement written once for both databases, with PostgreSQL's `$1..$n`
 * placeholders (SQLite gets `?` and the values in the order they appear). For hot paths and
 * for statements TypeORM's builders cannot express (RETURNING, ON CONFLICT, FOR UPDATE SKIP
 * LOCKED); the text is a constant, so each database prepares it once.
 */
export async function sql<T = Record<string, unknown>>(
  em: EntityManager,
  text: string,
  params: readonly SqlValue[] = [],
): Promise<SqlResult<T>> {
  return em.connection.options.type === 'postgres'
    ? runOnPostgres<T>(em, text, params)
    : runOnSqlite<T>(em, text, params);
}

/** Names of PostgreSQL prepared statements, one per constant text (the same on every connection). */
const statementNames = new Map<string, string>();
const MOST_NAMED = 1000;

/**
 * PostgreSQL: on the unit's connection when `em` belongs to a transaction, else on any pooled
 * one, as a named statement, so each connection parses and plans a text once rather than on
 * every call (TypeORM sends every query unnamed).
 */
async function runOnPostgres<T>(
  em: EntityManager,
  text: string,
  params: readonly SqlValue[],
): Promise<SqlResult<T>> {
  let name = statementNames.get(text);
  if (!name && statementNames.size < MOST_NAMED) {
    name = `jwg_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  const query = { name, text, values: params as unknown[] };
  const runner = em.queryRunner;
  try {
    const result: QueryResult =
      runner && !runner.isReleased
        ? await ((await runner.connect()) as PoolClient).query(query)
        : await (em.connection.driver as unknown as { master: Pool }).master.query(query);
    const rows = result.rows as T[];
    return { rows, affected: result.rowCount ?? rows.length };
  } catch (error) {
    // As TypeORM reports it: the driver's fields, such as the SQLSTATE `code`, are kept.
    throw new QueryFailedError(text, params as unknown[], error as Error);
  }
}

/**
 * SQLite: straight on the driver's one connection, which a unit's transaction (if any) is
 * open on, with statements prepared once. TypeORM's query runner would add a query runner
 * and entity manager per call and several promises per statement, for logging and
 * subscribers this service does not use; on the hot read that was a good part of the time.
 */
function runOnSqlite<T>(
  em: EntityManager,
  text: string,
  params: readonly SqlValue[],
): SqlResult<T> {
  let converted = sqliteTexts.get(text);
  if (!converted) {
    const order: number[] = [];
    const replaced = text.replace(/\$(\d+)/g, (_, n: string) => {
      order.push(Number(n) - 1);
      return '?';
    });
    converted = { text: replaced, order };
    sqliteTexts.set(text, converted);
  }
  // better-sqlite3 binds no booleans.
  const values = converted.order.map((index) => {
    const value = params[index];
    return typeof value === 'boolean' ? Number(value) : value;
  });
  const db = (em.connection.driver as unknown as { databaseConnection: BetterSqlite3.Database })
    .databaseConnection;
  try {
    const statement = preparedStatement(db, converted.text);
    if (statement.reader) {
      const rows = statement.all(values) as T[];
      return { rows, affected: rows.length };
    }
    return { rows: [], affected: statement.run(values).changes };
  } catch (error) {
    // As TypeORM reports it (the driver's code, e.g. SQLITE_CONSTRAINT_UNIQUE, is kept).
    throw new QueryFailedError(converted.text, values, error as Error);
  }
}

function preparedStatement(db: BetterSqlite3.Database, text: string): BetterSqlite3.Statement {
  let statements = prepared.get(db);
  if (!statements) {
    statements = new Map();
    prepared.set(db, statements);
  }
  let statement = statements.get(text);
  if (!statement) {
    statement = db.prepare(text);
    if (statements.size >= MOST_PREPARED) {
      statements.delete(statements.keys().next().value!);
    }
    statements.set(text, statement);
  }
  return statement;
}

/** True when the manager talks to PostgreSQL. */
export function isPostgres(em: EntityManager): boolean {
  return em.connection.options.type === 'postgres';
}

/**
 * The database's clock as an ISO 8601 UTC timestamp, for times several instances compare
 * (claims and their expiry): their own clocks may disagree, the database's is one.
 */
export async function databaseNow(em: EntityManager): Promise<string> {
  const { rows } = await sql<{ now: string }>(
    em,
    isPostgres(em)
      ? `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS now`
      : `SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now') AS now`,
  );
  return rows[0].now;
}
