/**
 * The floor the service is measured against on SQLite: node:http and better-sqlite3 on the
 * same file, with the same pragmas, and the same SQL as the service for the two routes of
 * bench/baseline-common.ts.
 *
 *   PORT=... DATABASE_PATH=... JWT_SECRET=... node dist/bench/bench/baseline-server.js
 */
import Database from 'better-sqlite3';
import { applyPragmas } from '../src/database/sqlite-pragmas.js';
import {
  type ItemRow,
  type NewItem,
  type OwnerRow,
  PAGE,
  required,
  serve,
  type SessionRow,
} from './baseline-common.js';

const db = new Database(required('DATABASE_PATH'));
applyPragmas(db);

const sessionRow = db.prepare<[string], SessionRow>(
  `SELECT u.id AS id, u.role AS role, u.delegation AS delegation, u.active AS active,
     u.token_version AS tokenVersion, s.revoked_at AS revokedAt
   FROM sessions s INNER JOIN users u ON u.id = s.user_id WHERE s.id = ?`,
);
const myItems = db.prepare<[string, string, string], ItemRow & { ownerTimezone: string }>(
  `SELECT ai.*, owner.timezone AS ownerTimezone
   FROM action_items ai INNER JOIN users owner ON owner.id = ai.owner_id
   WHERE ai.visibility IN (?, ?) AND ai.status IN ('open', 'in_progress', 'blocked')
     AND ai.owner_id = ?
   ORDER BY ai.due_date ASC, ai.id ASC LIMIT ${PAGE + 1}`,
);
const ownerRow = db.prepare<[string], OwnerRow>(
  `SELECT delegation, timezone, active FROM users WHERE id = ?`,
);
const insertItem = db.prepare<NewItem, ItemRow>(
  `INSERT INTO action_items (id, code, title, description, status, owner_id, owner_delegation,
     due_date, meeting_id, agenda_item_id, policy_item_id, visibility, completed_at, version,
     created_at, updated_at)
   VALUES (?, ?, ?, ?, 'open', ?, ?, ?, NULL, NULL, ?, ?, NULL, 1, ?, ?)
   RETURNING *`,
);

serve({
  health: () => {
    db.prepare('SELECT 1').get();
  },
  session: (id) => sessionRow.get(id),
  myItems: ([a, b], ownerId) => myItems.all(a, b, ownerId),
  owner: (id) => ownerRow.get(id),
  insert: (values) => insertItem.get(...values)!,
  close: () => {
    db.close();
  },
});
