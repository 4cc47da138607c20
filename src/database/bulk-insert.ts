import type { EntityManager } from 'typeorm';

/**
 * Inserts many rows with one multi-row statement per chunk, in the driver's own placeholder
 * style. For hot paths where TypeORM's per-row insert building costs more than the writing.
 * `onConflictIgnore` keeps rows whose unique key already exists (SQLite and PostgreSQL).
 */
export async function insertRows(
  em: EntityManager,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly (string | number | null)[])[],
  options: { onConflictIgnore?: boolean } = {},
): Promise<void> {
  // SQLite allows 32766 bound values per statement.
  const chunk = Math.max(1, Math.floor(30000 / columns.length));
  for (let i = 0; i < rows.length; i += chunk) {
    const params: Record<string, string | number | null> = {};
    const tuples = rows.slice(i, i + chunk).map((row, r) => {
      const names = row.map((value, c) => {
        params[`p${r}_${c}`] = value;
        return `:p${r}_${c}`;
      });
      return `(${names.join(', ')})`;
    });
    const [sql, values] = em.connection.driver.escapeQueryWithParameters(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}` +
        (options.onConflictIgnore ? ' ON CONFLICT DO NOTHING' : ''),
      params,
    );
    await em.query(sql, values);
  }
}
