import type { EntityManager } from 'typeorm';

export type SqlValue = string | number | boolean | null;

export interface SqlResult<T> {
  rows: T[];
  /** Rows changed by an INSERT, UPDATE or DELETE; rows returned for a SELECT or RETURNING. */
  affected: number;
}

const sqliteTexts = new Map<string, { text: string; order: number[] }>();

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
  let query = text;
  let values: unknown[] = params as unknown[];
  if (em.connection.options.type !== 'postgres') {
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
    query = converted.text;
    values = converted.order.map((index) => params[index]);
  }
  const runner = em.queryRunner;
  if (runner && !runner.isReleased) {
    return toResult(await runner.query(query, values, true));
  }
  const own = em.connection.createQueryRunner();
  try {
    return toResult(await own.query(query, values, true));
  } finally {
    await own.release();
  }
}

function toResult<T>(result: { records?: unknown[]; affected?: number }): SqlResult<T> {
  const rows = (result.records ?? []) as T[];
  return { rows, affected: result.affected ?? rows.length };
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
