/**
 * What the two baselines (bench/baseline-server.ts on SQLite, bench/baseline-server-pg.ts on
 * PostgreSQL) share: the HTTP server and its two routes, the access-token check (jsonwebtoken
 * with a prebuilt key, then the session row the service reads on every request), and the JSON
 * the service answers with. Each baseline brings only its statements, in a Store.
 *
 *   GET  /api/v1/me/action-items   the caller's not-closed items by due date, 50 a page
 *   POST /api/v1/action-items      the owner row, then one INSERT ... RETURNING
 *
 * No validation framework, no audit event, no idempotency record, no code sequence: the gap
 * between a baseline and the service is what the framework and the product's rules cost.
 * This file imports nothing from src/: the benchmark copies it beside the baselines.
 */
import jwt from 'jsonwebtoken';
import { createSecretKey, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export const PAGE = 50;

export interface ItemRow {
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

export interface SessionRow {
  id: string;
  role: string;
  delegation: 'IN' | 'US' | null;
  /** 1 or true, as the database stores it. */
  active: number | boolean;
  tokenVersion: number;
  revokedAt: string | null;
}

export interface OwnerRow {
  delegation: 'IN' | 'US' | null;
  timezone: string;
  active: number | boolean;
}

/**
 * The values of a new item, in the order of both baselines' INSERT: id, code, title,
 * description, owner_id, owner_delegation, due_date, policy_item_id, visibility, created_at,
 * updated_at.
 */
export type NewItem = [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string | null,
  string,
  string,
  string,
];

/** A baseline's statements; SQLite answers at once, PostgreSQL with a promise. */
export interface Store {
  health(): void | Promise<void>;
  session(id: string): SessionRow | undefined | Promise<SessionRow | undefined>;
  /** Up to PAGE + 1 not-closed items of the owner in one of two visibility scopes. */
  myItems(
    scopes: [string, string],
    ownerId: string,
  ): (ItemRow & { ownerTimezone: string })[] | Promise<(ItemRow & { ownerTimezone: string })[]>;
  owner(id: string): OwnerRow | undefined | Promise<OwnerRow | undefined>;
  insert(values: NewItem): ItemRow | Promise<ItemRow>;
  close(): void | Promise<void>;
}

interface Caller {
  id: string;
  role: string;
  delegation: 'IN' | 'US' | null;
}

export function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is required`);
  }
  return value;
}

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

/** Starts the baseline on PORT with `store`; stops on SIGTERM. */
export function serve(store: Store): void {
  const key = createSecretKey(Buffer.from(required('JWT_SECRET'), 'utf8'));
  let created = 0;

  async function authenticate(request: IncomingMessage): Promise<Caller | null> {
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
    const row = await store.session(sid);
    if (
      !row ||
      row.id !== sub ||
      !row.active ||
      row.revokedAt !== null ||
      row.tokenVersion !== tv
    ) {
      return null;
    }
    return { id: row.id, role: row.role, delegation: row.delegation };
  }

  async function listMine(response: ServerResponse, caller: Caller): Promise<void> {
    const scopes: [string, string] =
      caller.delegation === null ? ['joint', 'joint'] : ['joint', caller.delegation];
    const rows = await store.myItems(scopes, caller.id);
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

  async function create(response: ServerResponse, caller: Caller, raw: string): Promise<void> {
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
    const owner = await store.owner(body.ownerId);
    if (!owner?.active || owner.delegation === null) {
      return problem(response, 400, 'ownerId must be an active member of a delegation');
    }
    const now = new Date();
    const at = now.toISOString();
    const row = await store.insert([
      randomUUID(),
      `BL-${process.pid}-${++created}`,
      body.title,
      typeof body.description === 'string' ? body.description : '',
      body.ownerId,
      owner.delegation,
      body.dueDate,
      typeof body.policyItemId === 'string' ? body.policyItemId : null,
      visibility as string,
      at,
      at,
    ]);
    send(response, 201, present(row, owner.timezone, now));
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = request.url?.split('?')[0];
    if (request.method === 'GET' && path === '/health') {
      await store.health();
      return send(response, 200, { status: 'ok' });
    }
    const caller = await authenticate(request);
    if (!caller) {
      return problem(response, 401, 'Unauthorized');
    }
    if (request.method === 'GET' && path === '/api/v1/me/action-items') {
      return listMine(response, caller);
    }
    if (request.method === 'POST' && path === '/api/v1/action-items') {
      const raw = await new Promise<string>((done, fail) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
        request.on('error', fail);
      });
      return create(response, caller, raw);
    }
    problem(response, 404, 'Not found');
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      console.error(error);
      if (!response.headersSent) {
        problem(response, 500, 'Internal error');
      }
    });
  });
  server.listen(Number(required('PORT')), '127.0.0.1');
  process.on('SIGTERM', () => {
    server.close();
    void Promise.resolve(store.close()).finally(() => process.exit(0));
  });
}
