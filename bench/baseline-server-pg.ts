/**
 * The floor the service is measured against on PostgreSQL: node:http and a pg Pool (as many
 * connections as the service's default pool, DATABASE_POOL_SIZE 10) on the same schema, with
 * the same SQL as the service for the two routes of bench/baseline-common.ts, as named
 * (prepared once per connection) statements.
 *
 *   PORT=... DATABASE_URL=postgres://...?schema=... JWT_SECRET=... \
 *     node dist/bench/bench/baseline-server-pg.js
 */
import pg from 'pg';
import {
  type ItemRow,
  type NewItem,
  type OwnerRow,
  PAGE,
  required,
  serve,
  type SessionRow,
} from './baseline-common.js';

// ?schema= as the service reads it: the tables' schema, first on the search_path.
const url = new URL(required('DATABASE_URL'));
const schema = url.searchParams.get('schema') ?? 'public';
if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
  throw new Error('DATABASE_URL schema must be a lower-case identifier');
}
url.searchParams.delete('schema');
const pool = new pg.Pool({
  connectionString: url.toString(),
  max: 10,
  options: `-c search_path=${schema}`,
});

const SESSION = `SELECT u.id AS id, u.role AS role, u.delegation AS delegation, u.active AS active,
     u.token_version AS "tokenVersion", s.revoked_at AS "revokedAt"
   FROM sessions s INNER JOIN users u ON u.id = s.user_id WHERE s.id = $1`;
const MY_ITEMS = `SELECT ai.*, owner.timezone AS "ownerTimezone"
   FROM action_items ai INNER JOIN users owner ON owner.id = ai.owner_id
   WHERE ai.visibility IN ($1, $2) AND ai.status IN ('open', 'in_progress', 'blocked')
     AND ai.owner_id = $3
   ORDER BY ai.due_date ASC, ai.id ASC LIMIT ${PAGE + 1}`;
const OWNER = `SELECT delegation, timezone, active FROM users WHERE id = $1`;
const INSERT = `INSERT INTO action_items (id, code, title, description, status, owner_id,
     owner_delegation, due_date, meeting_id, agenda_item_id, policy_item_id, visibility,
     completed_at, version, created_at, updated_at)
   VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, NULL, NULL, $8, $9, NULL, 1, $10, $11)
   RETURNING *`;

async function rows<T extends pg.QueryResultRow>(
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  return (await pool.query<T>({ name, text, values })).rows;
}

serve({
  health: async () => {
    await pool.query('SELECT 1');
  },
  session: async (id) => (await rows<SessionRow>('session', SESSION, [id]))[0],
  myItems: ([a, b], ownerId) =>
    rows<ItemRow & { ownerTimezone: string }>('my_items', MY_ITEMS, [a, b, ownerId]),
  owner: async (id) => (await rows<OwnerRow>('owner', OWNER, [id]))[0],
  insert: async (values: NewItem) => (await rows<ItemRow>('insert_item', INSERT, values))[0],
  close: () => pool.end(),
});
