import type { EntityManager } from 'typeorm';
import { sql, type SqlValue } from './sql.js';

/** Rows per statement: 10 columns make 5,000 bound values, well under both databases' limits. */
const ROWS_PER_STATEMENT = 500;
const MAX_VALUES = 30000;

const texts = new Map<string, string>();

/**
 * Inserts many rows with one multi-row statement per chunk. Every chunk but the last has the
 * same size, so the statement text repeats and each database prepares it once; no query
 * builder touches the values. For hot paths where TypeORM's per-row insert building costs more
 * than the writing. `onConflictIgnore` keeps rows whose unique key already exists (SQLite and
 * PostgreSQL).
 */
export async function insertRows(
  em: EntityManager,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly SqlValue[])[],
  options: { onConflictIgnore?: boolean } = {},
): Promise<void> {
  const chunk = Math.max(1, Math.min(ROWS_PER_STATEMENT, Math.floor(MAX_VALUES / columns.length)));
  for (let i = 0; i < rows.length; i += chunk) {
    const slice = rows.slice(i, i + chunk);
    await sql(em, insertText(table, columns, slice.length, options.onConflictIgnore ?? false), [
      ...slice.flat(),
    ]);
  }
}

function insertText(
  table: string,
  columns: readonly string[],
  count: number,
  onConflictIgnore: boolean,
): string {
  const key = `${table}|${columns.join(',')}|${count}|${onConflictIgnore}`;
  let text = texts.get(key);
  if (!text) {
    const tuples: string[] = [];
    for (let r = 0; r < count; r++) {
      const base = r * columns.length;
      tuples.push(`(${columns.map((_, c) => `$${base + c + 1}`).join(', ')})`);
    }
    text =
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}` +
      (onConflictIgnore ? ' ON CONFLICT DO NOTHING' : '');
    texts.set(key, text);
  }
  return text;
}
