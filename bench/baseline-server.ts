/**
 * The floor the service is measured against: node:http and better-sqlite3 on the same file,
 * with the same pragmas, checking the same access token the same way (jsonwebtoken with a
 * prebuilt key, then the session row the service reads on every request), and answering two
 * routes with the same SQL and the same JSON as the service:
 *
 *   GET  /api/v1/me/action-items   the caller's not-closed items by due date, 50 a page
 *   POST /api/v1/action-items      the owner row, then one INSERT ... RETURNING
 *
 * It does nothing else: no validation framework, no audit event, no idempotency record, no
 * code sequence. The gap between the two is what the framework and the product's rules cost.
 *
 *   PORT=... DATABASE_PATH=... JWT_SECRET=... node dist/bench/bench/baseline-server.js
 */
import Database from 'better-sqlite3';
import jwt from 'jsonwebtoken';
import { createSecretKey, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { applyPragmas } from '../src/database/sqlite-pragmas.js';

interface Caller {
  id: string;
  role: string;
  delegation: 'IN' | 'US' | null;
}

interface ItemRow {
  id: string;
  code: string;
  title: string;
  description: string;
  status: string;
  owner_id: string;
  owner_delegation: string;
  due_date: string;
  meeting_id: string | null;
  agenda_item_id: string | null;
  policy_item_id: string | null;
  visibility: string;
  completed_at: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

const PAGE = 50;
const db = new Database(required('DATABASE_PATH'));
applyPragmas(db);
const key = createSecretKey(Buffer.from(required('JWT_SECRET'), 'utf8'));

const sessionRow = db.prepare<
  [string],
  {
    id: string;
    role: string;
    delegation: 'IN' | 'US' | null;
    active: number;
    tokenVersion: number;
    revokedAt: string | null;
  }
>(
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
const ownerRow = db.prepare<
  [string],
  { delegation: 'IN' | 'US' | null; timezone: string; active: number }
>(`SELECT delegation, timezone, active FROM users WHERE id = ?`);
const insertItem = db.prepare<unknown[], ItemRow>(
  `INSERT INTO action_items (id, code, title, description, status, owner_id, owner_delegation,
     due_date, meeting_id, agenda_item_id, policy_item_id, visibility, completed_at, version,
     created_at, updated_at)
   VALUES (?, ?, ?, ?, 'open', ?, ?, ?, NULL, NULL, ?, ?, NULL, 1, ?, ?)
   RETURNING *`,
);
let created = 0;

/** One formatter per timezone, built once. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function todayIn(timezone: string, now: Date): string {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(timezone, format);
  }
  return format.format(now);
}

function present(row: ItemRow, timezone: string, now: Date) {
  const closed = row.status === 'done' || row.status === 'cancelled';
  return {
    id: row.id,
    code: row.code,
    title: row.title,
    description: row.description,
    status: row.status,
    ownerId: row.owner_id,
    ownerDelegation: row.owner_delegation,
    dueDate: row.due_date,
    meetingId: row.meeting_id,
    agendaItemId: row.agenda_item_id,
    policyItemId: row.policy_item_id,
    visibility: row.visibility,
    completedAt: row.completed_at,
    overdue: !closed && row.due_date < todayIn(timezone, now),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function authenticate(request: IncomingMessage): Caller | null {
  const header = request.headers.authorization;
  if (!header?.startsWith('Bearer ')) {
    return null;
  }
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(header.slice(7), key, {
      algorithms: ['HS256'],
      issuer: 'jwg-tracker',
      audience: 'jwg-tracker-api',
    }) as jwt.JwtPayload;
  } catch {
    return null;
  }
  const { typ, sid, tv, sub } = claims as {
    typ?: unknown;
    sid?: unknown;
    tv?: unknown;
    sub?: unknown;
  };
  if (typ !== 'access' || typeof sid !== 'string' || typeof tv !== 'number') {
    return null;
  }
  const row = sessionRow.get(sid);
  if (!row || row.id !== sub || !row.active || row.revokedAt !== null || row.tokenVersion !== tv) {
    return null;
  }
  return { id: row.id, role: row.role, delegation: row.delegation };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': status < 400 ? 'application/json; charset=utf-8' : 'application/problem+json',
    'content-length': Buffer.byteLength(json),
  });
  response.end(json);
}

function problem(response: ServerResponse, status: number, title: string): void {
  send(response, status, { type: 'about:blank', title, status, detail: title });
}

function listMine(response: ServerResponse, caller: Caller): void {
  const scopes = caller.delegation === null ? ['joint', 'joint'] : ['joint', caller.delegation];
  const rows = myItems.all(scopes[0], scopes[1], caller.id);
  const more = rows.length > PAGE;
  const page = more ? rows.slice(0, PAGE) : rows;
  const now = new Date();
  const last = page[page.length - 1];
  send(response, 200, {
    data: page.map((row) => present(row, row.ownerTimezone, now)),
    nextCursor: more
      ? Buffer.from(JSON.stringify([last.due_date, last.id]), 'utf8').toString('base64url')
      : null,
  });
}

function create(response: ServerResponse, caller: Caller, raw: string): void {
  if (caller.role !== 'dsa' && caller.role !== 'secretariat') {
    return problem(response, 403, 'Your role does not allow this');
  }
  let body: {
    title?: unknown;
    description?: unknown;
    ownerId?: unknown;
    dueDate?: unknown;
    policyItemId?: unknown;
    visibility?: unknown;
  };
  try {
    body = JSON.parse(raw) as typeof body;
  } catch {
    return problem(response, 400, 'The body is not JSON');
  }
  const visibility = body.visibility ?? 'joint';
  if (
    typeof body.title !== 'string' ||
    typeof body.ownerId !== 'string' ||
    typeof body.dueDate !== 'string' ||
    (visibility !== 'joint' && visibility !== caller.delegation)
  ) {
    return problem(response, 400, 'The body is not valid');
  }
  const owner = ownerRow.get(body.ownerId);
  if (!owner?.active || owner.delegation === null) {
    return problem(response, 400, 'ownerId must be an active member of a delegation');
  }
  const now = new Date();
  const at = now.toISOString();
  const row = insertItem.get(
    randomUUID(),
    `BL-${process.pid}-${++created}`,
    body.title,
    typeof body.description === 'string' ? body.description : '',
    body.ownerId,
    owner.delegation,
    body.dueDate,
    typeof body.policyItemId === 'string' ? body.policyItemId : null,
    visibility,
    at,
    at,
  )!;
  send(response, 201, present(row, owner.timezone, now));
}

const server = createServer((request, response) => {
  const path = request.url?.split('?')[0];
  if (request.method === 'GET' && path === '/health') {
    db.prepare('SELECT 1').get();
    return send(response, 200, { status: 'ok' });
  }
  const caller = authenticate(request);
  if (!caller) {
    return problem(response, 401, 'Unauthorized');
  }
  if (request.method === 'GET' && path === '/api/v1/me/action-items') {
    return listMine(response, caller);
  }
  if (request.method === 'POST' && path === '/api/v1/action-items') {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => create(response, caller, Buffer.concat(chunks).toString('utf8')));
    return;
  }
  problem(response, 404, 'Not found');
});

server.listen(Number(required('PORT')), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  db.close();
  process.exit(0);
});

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is required`);
  }
  return value;
}
