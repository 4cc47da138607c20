import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer, Reflector } from '@nestjs/core';
import ICAL from 'ical.js';
import jwt from 'jsonwebtoken';
import passport from 'passport';
import { createHash, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { DataSource } from 'typeorm';
import { JwtStrategy, LocalStrategy } from '../../src/auth/strategies.js';
import { IS_PUBLIC, ROLES_KEY } from '../../src/common/decorators.js';
import { PERMISSIONS, type Role } from '../../src/common/permissions.js';
import {
  ACCOUNTS,
  API,
  type Account,
  createTestApp,
  SEED_PASSWORD,
  type TestApp,
} from '../support/test-app.js';

/**
 * The OWASP API Security Top 10 (2023), item by item, against the real application. Where the
 * role x route matrix (authorization.e2e-spec.ts) checks one expected answer per case, these
 * tests derive their cases from what the app serves (app.routes), what its controllers
 * declare (@Roles, @Public) and what its OpenAPI document promises, so a new route is
 * covered, or makes a test fail, without anyone remembering to add it here.
 */

const ROLE_OF: Record<Account, Role> = {
  admin: 'admin',
  'dsa.in': 'dsa',
  'dsa.us': 'dsa',
  'sec.in': 'secretariat',
  'sec.us': 'secretariat',
  'delegate.in': 'delegate',
  'delegate.us': 'delegate',
  'observer.in': 'observer',
  'observer.us': 'observer',
};
/** Everyone who must never see India's delegation-only records. */
const OUTSIDERS: Account[] = ['admin', 'dsa.us', 'sec.us', 'delegate.us', 'observer.us'];
/** Written into every India-only record, so a leak shows in any response text. */
const MARK = 'Qz7IndiaOnlyQz7';
/** A week before DUE, 08:30 in Kolkata: a reminder pass sends due-soon reminders for DUE. */
const DUE = '2031-03-10';
const WEEK_BEFORE = '2031-03-03T03:00:00.000Z';
const DAY_AFTER = '2031-03-11T03:00:00.000Z';
const UUID = '00000000-0000-4000-8000-000000000000';

type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head';

/** A request with an optional bearer (an account's, or a raw token) and a body. */
function call(
  app: TestApp,
  method: string,
  url: string,
  options: { as?: Account; token?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  let req = app.http[method.toLowerCase() as HttpMethod](url);
  const token = options.token ?? (options.as ? app.token(options.as) : undefined);
  if (token !== undefined) {
    req = req.set('authorization', `Bearer ${token}`);
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    req = req.set(name, value);
  }
  return options.body === undefined ? req : req.send(options.body as object);
}

function expectProblem(res: { status: number; headers: Record<string, string>; body: unknown }) {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status: res.status, title: expect.any(String) });
}

// ---------------------------------------------------------------------------------------
// What the controllers declare: every route with its @Roles and @Public metadata

interface DeclaredRoute {
  method: string;
  url: string;
  roles: readonly Role[] | undefined;
  isPublic: boolean;
}

type Handler = (...args: unknown[]) => unknown;

function declaredRoutes(app: TestApp): DeclaredRoute[] {
  const reflector = new Reflector();
  const routes: DeclaredRoute[] = [];
  for (const module of app.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (Handler & { prototype: object }) | null;
      if (!controller) {
        continue;
      }
      const base = reflector.get<string>(PATH_METADATA, controller) ?? '';
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function') {
          continue;
        }
        const path = reflector.get<string | undefined>(PATH_METADATA, handler as Handler);
        const method = reflector.get<RequestMethod | undefined>(
          METHOD_METADATA,
          handler as Handler,
        );
        if (path === undefined || method === undefined) {
          continue;
        }
        const segments = [base === 'health' ? '' : 'api/v1', base, path]
          .map((s) => s.replace(/^\/+|\/+$/g, ''))
          .filter(Boolean);
        const targets = [handler as Handler, controller];
        routes.push({
          method: RequestMethod[method],
          url: `/${segments.join('/')}`,
          roles: reflector.getAllAndOverride<readonly Role[] | undefined>(ROLES_KEY, targets),
          isPublic: reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets) === true,
        });
      }
    }
  }
  return routes;
}

/** The served routes of the API (and /health), HEAD included unless asked otherwise. */
function apiRoutes(app: TestApp, options: { head?: boolean } = {}) {
  return app.routes.filter(
    (r) =>
      (r.url.startsWith(`${API}/`) || r.url === '/health') &&
      (options.head !== false || r.method !== 'HEAD'),
  );
}

const key = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

/** The audit trail: refusals (403) are recorded there, and only there. */
const AUDIT_TABLES = ['audit_events', 'audit_head'];

/** expect(actual).toEqual(expected), with the case named in the failure's diff. */
function expectIn(context: Record<string, unknown>, actual: unknown, expected: unknown): void {
  expect({ ...context, actual }).toEqual({ ...context, actual: expected });
}

/** Every row of every table: equal before and after means nothing was written. */
async function dbState(app: TestApp, except: string[] = []): Promise<string> {
  const ds = app.app.get(DataSource);
  const tables = await ds.query<{ name: string }[]>(
    ds.options.type === 'postgres'
      ? `SELECT table_name AS name FROM information_schema.tables
         WHERE table_schema = current_schema() ORDER BY table_name`
      : `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`,
  );
  const hash = createHash('sha256');
  for (const { name } of tables) {
    // Throttling counters (PostgreSQL keeps them in a table) count every sign-in attempt.
    if (!except.includes(name) && name !== 'rate_limits') {
      hash.update(name).update(JSON.stringify(await ds.query(`SELECT * FROM "${name}"`)));
    }
  }
  return hash.digest('hex');
}

async function auditActions(app: TestApp): Promise<string[]> {
  const rows = await app.app
    .get(DataSource)
    .query<{ action: string }[]>(`SELECT action FROM audit_events ORDER BY seq`);
  return rows.map((r) => r.action);
}

// ---------------------------------------------------------------------------------------
// The records every item works on

interface Fixture {
  users: Record<Account, string>;
  seededMeeting: string;
  joint: { policy: string; action: string; agenda: string };
  /** India's delegation-only records, each carrying MARK. */
  india: {
    policy: string;
    agenda: string;
    action: string;
    update: string;
    notes: string[];
    notification: string;
  };
  /** The calendar feed path of each outsider. */
  feeds: Partial<Record<Account, string>>;
}

/** The ids no outsider may ever receive. */
const indiaIds = (fx: Fixture) => [
  fx.india.policy,
  fx.india.agenda,
  fx.india.action,
  fx.india.update,
  fx.india.notification,
  ...fx.india.notes,
];

async function buildFixture(app: TestApp): Promise<Fixture> {
  const users = Object.fromEntries(
    await Promise.all(ACCOUNTS.map(async (a) => [a, await app.userId(a)] as const)),
  ) as Record<Account, string>;
  const seededMeeting = (await app.as('admin', 'get', '/meetings?limit=1').expect(200)).body.data[0]
    .id as string;
  const created = async (as: Account, path: string, body: object) =>
    (await app.as(as, 'post', path).send(body).expect(201)).body.id as string;

  const jointPolicy = await created('sec.in', '/policy-items', { title: 'Joint policy item' });
  const jointAgenda = await created('sec.in', `/meetings/${seededMeeting}/agenda-items`, {
    title: 'Joint agenda item',
  });
  const jointAction = await created('sec.in', '/action-items', {
    title: 'Joint action item',
    ownerId: users['delegate.in'],
    dueDate: DUE,
  });

  const policy = await created('sec.in', '/policy-items', {
    title: `${MARK} policy item`,
    description: `${MARK} description`,
    isaReference: `${MARK} clause`,
    leads: { IN: users['dsa.in'] },
    visibility: 'IN',
  });
  for (const status of ['under_discussion', 'agreed_in_principle']) {
    await app.as('sec.in', 'patch', `/policy-items/${policy}`).send({ status }).expect(200);
  }
  const agenda = await created('sec.in', `/meetings/${seededMeeting}/agenda-items`, {
    title: `${MARK} agenda item`,
    description: MARK,
    policyItemId: policy,
    leadDelegation: 'IN',
    visibility: 'IN',
  });
  const action = await created('sec.in', '/action-items', {
    title: `${MARK} action item`,
    description: MARK,
    ownerId: users['delegate.in'],
    dueDate: DUE,
    policyItemId: policy,
    agendaItemId: agenda,
    visibility: 'IN',
  });
  const update = await created('delegate.in', `/action-items/${action}/updates`, {
    note: `${MARK} progress`,
    status: 'in_progress',
  });
  const notes: string[] = [];
  for (const parent of [
    `/meetings/${seededMeeting}`,
    `/policy-items/${policy}`,
    `/action-items/${action}`,
    `/policy-items/${jointPolicy}`,
    `/action-items/${jointAction}`,
  ]) {
    notes.push(await created('sec.in', `${parent}/notes`, { body: `${MARK} note` }));
  }

  // A pass a week before DUE reminds delegate.in of both items; admin's report lists only the
  // joint one and counts the other.
  const pass = await app
    .as('admin', 'post', '/reminders/run')
    .send({ now: WEEK_BEFORE })
    .expect(200);
  const listed = (pass.body.data as { subjectId: string }[]).map((r) => r.subjectId);
  expect(listed).toContain(jointAction);
  expect(listed).not.toContain(action);
  expect(pass.body.hidden).toBeGreaterThanOrEqual(1);
  const mine = await app.as('delegate.in', 'get', '/me/notifications?limit=200').expect(200);
  const notification = (mine.body.data as { id: string; subjectId: string }[]).find(
    (n) => n.subjectId === action,
  )!.id;

  const feeds: Partial<Record<Account, string>> = {};
  for (const account of OUTSIDERS) {
    const res = await app.as(account, 'post', '/me/calendar-feed').expect(201);
    feeds[account] = new URL(res.body.url as string).pathname;
  }
  return {
    users,
    seededMeeting,
    joint: { policy: jointPolicy, action: jointAction, agenda: jointAgenda },
    india: { policy, agenda, action, update, notes, notification },
    feeds,
  };
}

/** A path with its :params replaced by joint records of the right kind. */
function jointPath(url: string, fx: Fixture, actor?: Account): string {
  return url
    .replace(/^\/api\/v1\/users\/:id/, `${API}/users/${fx.users['delegate.in']}`)
    .replace(/^\/api\/v1\/meetings\/:id/, `${API}/meetings/${fx.seededMeeting}`)
    .replace(/^\/api\/v1\/agenda-items\/:id/, `${API}/agenda-items/${fx.joint.agenda}`)
    .replace(/^\/api\/v1\/policy-items\/:id/, `${API}/policy-items/${fx.joint.policy}`)
    .replace(/^\/api\/v1\/action-items\/:id/, `${API}/action-items/${fx.joint.action}`)
    .replace(/^\/api\/v1\/me\/notifications\/:id/, `${API}/me/notifications/${UUID}`)
    .replace(/^\/api\/v1\/calendar\/:feed$/, (whole) =>
      actor && fx.feeds[actor] ? fx.feeds[actor] : whole.replace(':feed', `${'x'.repeat(43)}.ics`),
    );
}

/** Valid bodies, as the role that may send them, for every route that reads a body. */
function validBodies(fx: Fixture): Record<string, { as: Account | null; body: unknown }> {
  const u = fx.users;
  return {
    'POST /api/v1/auth/login': { as: null, body: { username: 'sec.in', password: SEED_PASSWORD } },
    'POST /api/v1/auth/refresh': { as: null, body: { refreshToken: 'not-a-token' } },
    'POST /api/v1/users': {
      as: 'admin',
      body: {
        username: `valid.${randomUUID().slice(0, 8)}`,
        displayName: 'Valid',
        role: 'delegate',
        delegation: 'IN',
        email: 'valid@in.jwg.example',
        timezone: 'Asia/Kolkata',
        password: 'a-long-password',
      },
    },
    'PATCH /api/v1/users/:id': {
      as: 'admin',
      body: {
        displayName: 'IN Delegate',
        role: 'delegate',
        email: 'delegate@in.jwg.example',
        timezone: 'Asia/Kolkata',
        active: true,
      },
    },
    'POST /api/v1/me/password': {
      as: 'observer.in',
      body: { currentPassword: 'wrong-on-purpose', newPassword: 'another-long-password' },
    },
    'PATCH /api/v1/working-group': {
      as: 'dsa.in',
      body: { name: 'JWG', mandate: 'Align', cadenceMonths: 6 },
    },
    'POST /api/v1/meetings': {
      as: 'sec.in',
      body: {
        title: 'Meeting',
        kind: 'virtual',
        startsOn: '2031-01-05',
        endsOn: '2031-01-06',
        location: 'Online',
        hostDelegation: 'US',
      },
    },
    'PATCH /api/v1/meetings/:id': {
      as: 'sec.in',
      body: {
        title: 'Meeting',
        kind: 'virtual',
        startsOn: '2031-01-05',
        endsOn: '2031-01-06',
        location: 'Online',
        hostDelegation: 'US',
        status: 'planned',
      },
    },
    'POST /api/v1/meetings/:id/outcomes': {
      as: 'sec.in',
      body: {
        attendees: [u['dsa.in']],
        agendaOutcomes: [{ agendaItemId: fx.joint.agenda, status: 'discussed', outcome: 'Done' }],
        decisions: ['Agreed'],
        actionItems: [
          {
            title: 'Follow up',
            description: 'Details',
            ownerId: u['delegate.in'],
            dueDate: '2031-06-30',
            meetingId: fx.seededMeeting,
            agendaItemId: fx.joint.agenda,
            policyItemId: fx.joint.policy,
            visibility: 'joint',
          },
        ],
        minutes: 'Draft',
      },
    },
    'PUT /api/v1/meetings/:id/minutes': { as: 'sec.in', body: { text: 'Minutes' } },
    'POST /api/v1/meetings/:id/minutes/approve': { as: 'dsa.in', body: { delegation: 'IN' } },
    'POST /api/v1/meetings/:id/agenda-items': {
      as: 'sec.in',
      body: {
        title: 'Item',
        description: 'Text',
        position: 1,
        leadDelegation: 'IN',
        policyItemId: fx.joint.policy,
        visibility: 'joint',
      },
    },
    'PATCH /api/v1/agenda-items/:id': {
      as: 'sec.in',
      body: {
        title: 'Item',
        description: 'Text',
        position: 1,
        leadDelegation: 'IN',
        policyItemId: fx.joint.policy,
        visibility: 'joint',
        status: 'discussed',
        outcome: 'Outcome',
      },
    },
    'POST /api/v1/policy-items': {
      as: 'sec.in',
      body: {
        title: 'Policy',
        description: 'Text',
        isaReference: 'ISA',
        leads: { IN: u['dsa.in'], US: u['dsa.us'] },
        targetDate: '2031-12-31',
        visibility: 'joint',
      },
    },
    'PATCH /api/v1/policy-items/:id': {
      as: 'sec.in',
      body: {
        title: 'Policy',
        description: 'Text',
        isaReference: 'ISA',
        leads: { IN: u['dsa.in'], US: u['dsa.us'] },
        targetDate: '2031-12-31',
        visibility: 'joint',
        status: 'proposed',
      },
    },
    'POST /api/v1/policy-items/:id/concur': { as: 'dsa.in', body: { delegation: 'IN' } },
    'POST /api/v1/action-items': {
      as: 'sec.in',
      body: {
        title: 'Action',
        description: 'Text',
        ownerId: u['delegate.in'],
        dueDate: '2031-05-31',
        meetingId: fx.seededMeeting,
        agendaItemId: fx.joint.agenda,
        policyItemId: fx.joint.policy,
        visibility: 'joint',
      },
    },
    'PATCH /api/v1/action-items/:id': {
      as: 'sec.in',
      body: {
        title: 'Action',
        description: 'Text',
        ownerId: u['delegate.in'],
        dueDate: '2031-05-31',
        meetingId: fx.seededMeeting,
        agendaItemId: fx.joint.agenda,
        policyItemId: fx.joint.policy,
        visibility: 'joint',
        status: 'open',
      },
    },
    'POST /api/v1/action-items/:id/updates': {
      as: 'delegate.in',
      body: { note: 'Progress', status: 'in_progress' },
    },
    'POST /api/v1/meetings/:id/notes': { as: 'delegate.in', body: { body: 'Internal' } },
    'POST /api/v1/policy-items/:id/notes': { as: 'delegate.in', body: { body: 'Internal' } },
    'POST /api/v1/action-items/:id/notes': { as: 'delegate.in', body: { body: 'Internal' } },
    'POST /api/v1/reminders/run': { as: 'admin', body: { now: WEEK_BEFORE } },
  };
}

/** The OpenAPI path of a served route (`:id` -> `{id}`). */
const docPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

// ---------------------------------------------------------------------------------------
// OpenAPI request schemas

interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  maxLength?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  allOf?: Schema[];
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, Schema> };
}

interface OpenApiOperation {
  security?: Record<string, string[]>[];
  responses: Record<string, unknown>;
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

function resolve(doc: OpenApiDocument, schema: Schema): Schema {
  let current = schema;
  while (current.$ref) {
    current = doc.components.schemas[current.$ref.replace('#/components/schemas/', '')];
  }
  if (current.allOf) {
    const parts = current.allOf.map((part) => resolve(doc, part));
    return {
      type: 'object',
      properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})) as Record<
        string,
        Schema
      >,
    };
  }
  return current;
}

/** Every string and array in a request schema, with its path ("actionItems[0].title"). */
function boundedFields(
  doc: OpenApiDocument,
  schema: Schema,
  path = '',
): { path: string; schema: Schema }[] {
  const resolved = resolve(doc, schema);
  if (resolved.type === 'array') {
    return [
      { path, schema: resolved },
      ...(resolved.items ? boundedFields(doc, resolved.items, `${path}[0]`) : []),
    ];
  }
  if (resolved.properties) {
    return Object.entries(resolved.properties).flatMap(([name, child]) =>
      boundedFields(doc, child, path ? `${path}.${name}` : name),
    );
  }
  return resolved.type === 'string' ? [{ path, schema: resolved }] : [];
}

function pathParts(path: string): (string | number)[] {
  return path
    .split(/\.|\[(\d+)\]/)
    .filter((p) => p !== undefined && p !== '')
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function getAt(value: unknown, path: string): unknown {
  return pathParts(path).reduce<unknown>(
    (current, part) =>
      current === null || typeof current !== 'object'
        ? undefined
        : (current as Record<string | number, unknown>)[part],
    value,
  );
}

function setAt(value: unknown, path: string, replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  const parts = pathParts(path);
  let current = copy;
  for (const part of parts.slice(0, -1)) {
    current = current[part] as Record<string | number, unknown>;
  }
  current[parts[parts.length - 1]] = replacement;
  return copy;
}

/** Whether a 400 names the field (an error on the field itself or on the array holding it). */
function namesField(errors: { field: string }[], path: string): boolean {
  return errors.some(
    (e) => e.field === path || path.startsWith(`${e.field}[`) || path.startsWith(`${e.field}.`),
  );
}

// ---------------------------------------------------------------------------------------

describe('OWASP API Security Top 10 (2023)', () => {
  let app: TestApp;
  let fx: Fixture;
  let declared: DeclaredRoute[];
  let doc: OpenApiDocument;

  beforeAll(async () => {
    app = await createTestApp();
    fx = await buildFixture(app);
    declared = declaredRoutes(app);
    doc = (await app.http.get('/api/openapi.json').expect(200)).body as OpenApiDocument;
  });
  afterAll(() => app.close());

  /**
   * Runs a test against a second app with other settings. Passport keeps one strategy registry
   * per process and every app registers its own on creation: the main app's are put back after.
   */
  async function withOtherApp(
    env: Record<string, string>,
    options: { signIn?: boolean },
    test: (other: TestApp) => Promise<void>,
  ): Promise<void> {
    const other = await createTestApp(env, options);
    try {
      await test(other);
    } finally {
      await other.close();
      passport.use(app.app.get(JwtStrategy));
      passport.use(app.app.get(LocalStrategy));
    }
  }

  const rolesOf = (method: string, url: string) =>
    declared.find((r) => r.method === (method === 'HEAD' ? 'GET' : method) && r.url === url)?.roles;
  const refusedByRole = (actor: Account, method: string, url: string) => {
    const roles = rolesOf(method, url);
    return roles !== undefined && !roles.includes(ROLE_OF[actor]);
  };

  describe('API1:2023 Broken Object Level Authorization', () => {
    /**
     * The id of the India-only record each :id route is tried on, or 'meeting' or 'user' for
     * the routes checked otherwise (below).
     */
    function indiaTarget(url: string): string {
      const rules: [RegExp, string][] = [
        [/^\/api\/v1\/users\/:id$/, 'user'],
        [/^\/api\/v1\/meetings\/:id(\/|$)/, 'meeting'],
        [/^\/api\/v1\/agenda-items\/:id$/, fx.india.agenda],
        [/^\/api\/v1\/policy-items\/:id(\/(concur|notes))?$/, fx.india.policy],
        [/^\/api\/v1\/action-items\/:id(\/(updates|notes))?$/, fx.india.action],
        [/^\/api\/v1\/me\/notifications\/:id\/read$/, fx.india.notification],
      ];
      const rule = rules.find(([pattern]) => pattern.test(url));
      if (!rule) {
        throw new Error(`No India-only record for ${url}: add the route to indiaTarget()`);
      }
      return rule[1];
    }

    it('refuses every :id route on an India-only record to every US user and admin (404, or 403 for the role first), writing nothing', async () => {
      const bodies = validBodies(fx);
      const routes = apiRoutes(app).filter((r) => r.url.includes(':id'));
      const before = await dbState(app, AUDIT_TABLES);
      let checked = 0;
      for (const route of routes) {
        const target = indiaTarget(route.url);
        if (target === 'meeting' || target === 'user') {
          continue;
        }
        const url = route.url.replace(':id', target);
        for (const actor of OUTSIDERS) {
          const expected = refusedByRole(actor, route.method, route.url) ? 403 : 404;
          const res = await call(app, route.method, url, {
            as: actor,
            body: bodies[key(route)]?.body,
          });
          expectIn({ route: key(route), actor }, res.status, expected);
          if (route.method !== 'HEAD') {
            expectProblem(res);
            expect(res.text).not.toContain(MARK);
          }
          checked += 1;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(15 * OUTSIDERS.length);
      // Refusals are audited; nothing else changed.
      expect(await dbState(app, AUDIT_TABLES)).toBe(before);
      const item = await app.as('sec.in', 'get', `/action-items/${fx.india.action}`).expect(200);
      expect(item.body.title).toContain(MARK);
    });

    it('lets no US user manage an Indian account, though the directory entry is public', async () => {
      const target = fx.users['observer.in'];
      const before = await dbState(app, AUDIT_TABLES);
      for (const actor of OUTSIDERS.filter((a) => a !== 'admin')) {
        await app.as(actor, 'get', `/users/${target}`).expect(200);
        const res = await app
          .as(actor, 'patch', `/users/${target}`)
          .send({ displayName: 'Taken over', active: false });
        expect(res.status).toBe(403);
      }
      expect(await dbState(app, AUDIT_TABLES)).toBe(before);
    });

    it('keeps what hangs off a joint meeting India-only: US writes cannot reach it, US reads do not show it', async () => {
      // Meetings have no delegation-only form (SPEC 4 names action, policy and agenda items);
      // their India-only parts are agenda items, notes and action items.
      const meeting = (
        await app
          .as('sec.in', 'post', '/meetings')
          .send({
            title: 'Joint meeting',
            kind: 'virtual',
            startsOn: '2031-04-01',
            endsOn: '2031-04-01',
            hostDelegation: 'IN',
          })
          .expect(201)
      ).body.id as string;
      const agenda = (
        await app
          .as('sec.in', 'post', `/meetings/${meeting}/agenda-items`)
          .send({ title: `${MARK} item`, visibility: 'IN' })
          .expect(201)
      ).body.id as string;
      await app
        .as('sec.in', 'post', `/meetings/${meeting}/notes`)
        .send({ body: `${MARK} note` })
        .expect(201);
      const hidden = [agenda, fx.india.policy, fx.india.action];

      const before = await dbState(app, AUDIT_TABLES);
      for (const actor of ['sec.us', 'dsa.us'] as const) {
        const unknownAgenda = await app
          .as(actor, 'post', `/meetings/${meeting}/outcomes`)
          .send({ agendaOutcomes: [{ agendaItemId: agenda, status: 'deferred' }] });
        expect(unknownAgenda.status).toBe(400);
        const unknownPolicy = await app.as(actor, 'post', `/meetings/${meeting}/outcomes`).send({
          actionItems: [
            {
              title: 'Spy',
              ownerId: fx.users['delegate.us'],
              dueDate: DUE,
              policyItemId: fx.india.policy,
            },
          ],
        });
        expect(unknownPolicy.status).toBe(400);
        const agendaRef = await app
          .as(actor, 'post', `/meetings/${meeting}/agenda-items`)
          .send({ title: 'Spy', policyItemId: fx.india.policy });
        expect(agendaRef.status).toBe(400);
        const actionRef = await app.as(actor, 'post', '/action-items').send({
          title: 'Spy',
          ownerId: fx.users['delegate.us'],
          dueDate: DUE,
          agendaItemId: agenda,
        });
        expect(actionRef.status).toBe(400);
        const intoIndia = await app
          .as(actor, 'post', `/meetings/${meeting}/agenda-items`)
          .send({ title: 'Planted', visibility: 'IN' });
        expect(intoIndia.status).toBe(403);
      }
      expect(await dbState(app, AUDIT_TABLES)).toBe(before);

      // The joint meeting itself is the US side's to work on too; no answer carries India's parts.
      const answers = [
        await app.as('sec.us', 'patch', `/meetings/${meeting}`).send({ location: 'Online' }),
        await app.as('sec.us', 'put', `/meetings/${meeting}/minutes`).send({ text: 'Draft' }),
        await app.as('sec.us', 'post', `/meetings/${meeting}/minutes/circulate`),
        await app.as('dsa.us', 'post', `/meetings/${meeting}/minutes/approve`),
        await app.as('delegate.us', 'post', `/meetings/${meeting}/notes`).send({ body: 'US' }),
        await app.as('observer.us', 'get', `/meetings/${meeting}`),
        await app.as('observer.us', 'get', `/meetings/${meeting}/agenda-items`),
        await app.as('observer.us', 'get', `/meetings/${meeting}/notes`),
      ];
      for (const res of answers) {
        expect(res.status).toBeLessThan(300);
        expect(res.text).not.toContain(MARK);
        for (const id of hidden) {
          expect(res.text).not.toContain(id);
        }
      }
      // Admin sees the joint meeting but runs none of it.
      for (const res of [
        await app.as('admin', 'patch', `/meetings/${meeting}`).send({ location: 'Elsewhere' }),
        await app.as('admin', 'put', `/meetings/${meeting}/minutes`).send({ text: 'Admin' }),
        await app.as('admin', 'post', `/meetings/${meeting}/minutes/circulate`),
        await app.as('admin', 'post', `/meetings/${meeting}/agenda-items`).send({ title: 'A' }),
      ]) {
        expect(res.status).toBe(403);
      }
    });

    it('never shows India-only data in any list, search, CSV, calendar, notification or audit answer a US user or admin can get', async () => {
      const extraQueries: Record<string, string[]> = {
        '/api/v1/action-items': [
          `q=${MARK}`,
          `policyItemId=${fx.india.policy}`,
          `meetingId=${fx.seededMeeting}`,
          'delegation=IN',
          `owner=${fx.users['delegate.in']}`,
          'status=open,in_progress,blocked,done,cancelled&limit=200',
          `dueBefore=2031-03-11&dueAfter=2031-03-09`,
        ],
        '/api/v1/action-items/export.csv': [`q=${MARK}`, 'delegation=IN'],
        '/api/v1/policy-items': [`q=${MARK}`, 'limit=200', 'status=agreed_in_principle'],
        '/api/v1/meetings/:id/agenda-items': ['limit=200'],
        '/api/v1/audit-events': [
          'limit=200',
          `entityId=${fx.india.action}`,
          'entityType=action_item&limit=200',
          'entityType=note&limit=200',
          `entityId=${fx.india.policy}`,
        ],
        '/api/v1/reminders/preview': [`now=${WEEK_BEFORE}`, `now=${DAY_AFTER}`],
        '/api/v1/me/notifications': ['limit=200', 'unread=true'],
        '/api/v1/users': ['limit=200'],
      };
      const secrets = indiaIds(fx);
      const gets = apiRoutes(app, { head: false }).filter((r) => r.method === 'GET');
      let answers = 0;
      for (const route of gets) {
        for (const actor of OUTSIDERS) {
          for (const query of ['', ...(extraQueries[route.url] ?? [])]) {
            const path = jointPath(route.url, fx, actor);
            const res = await call(app, 'GET', query ? `${path}?${query}` : path, { as: actor });
            const expected = refusedByRole(actor, 'GET', route.url) ? 403 : 200;
            expectIn({ route: route.url, query, actor }, res.status, expected);
            expect(res.text).not.toContain(MARK);
            for (const id of secrets) {
              expect(res.text).not.toContain(id);
            }
            answers += 1;
          }
        }
      }
      expect(answers).toBeGreaterThan(150);
      // The same answers do carry India's records to India: the check above is not vacuous.
      const india = await app.as('observer.in', 'get', `/action-items?q=${MARK}`).expect(200);
      expect(india.text).toContain(MARK);
      const feed = await app.as('delegate.in', 'post', '/me/calendar-feed').expect(201);
      const ics = await app.http.get(new URL(feed.body.url as string).pathname).expect(200);
      expect(ics.text).toContain(MARK);
      const audit = await app.as('dsa.in', 'get', `/audit-events?entityId=${fx.india.action}`);
      expect(audit.body.data.length).toBeGreaterThan(0);
    });

    it('reports a reminder pass to admin without naming India-only subjects (counted, not listed)', async () => {
      const preview = await app
        .as('admin', 'get', `/reminders/preview?now=${DAY_AFTER}`)
        .expect(200);
      expect(preview.body.hidden).toBeGreaterThanOrEqual(1);
      expect(preview.text).not.toContain(fx.india.action);
    });
  });

  describe('API2:2023 Broken Authentication', () => {
    const PUBLIC = [
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/refresh',
      'GET /api/v1/calendar/:feed',
      'HEAD /api/v1/calendar/:feed',
      'GET /health',
      'HEAD /health',
    ];

    /** Tokens that must all be refused, built from a real one. */
    function badTokens(): Record<string, string | null> {
      const real = app.token('observer.us');
      const [header, payload, signature] = real.split('.');
      const claims = jwt.decode(real) as Record<string, unknown>;
      const now = Math.floor(Date.now() / 1000);
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      return {
        'no token': null,
        garbage: 'garbage',
        'a payload tampered with (sub -> admin)': `${header}.${encode({ ...claims, sub: fx.users.admin })}.${signature}`,
        'a payload tampered with (tv + 1)': `${header}.${encode({ ...claims, tv: Number(claims.tv) + 1 })}.${signature}`,
        expired: jwt.sign({ ...claims, iat: now - 3600, exp: now - 1800 }, app.config.jwtSecret, {
          algorithm: 'HS256',
        }),
        'alg none': `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.`,
        'signed with another key': jwt.sign(claims, 'x'.repeat(48), { algorithm: 'HS256' }),
        'HS512 with the right key': jwt.sign(claims, app.config.jwtSecret, { algorithm: 'HS512' }),
        'signature removed': `${header}.${payload}.`,
      };
    }

    it('serves exactly login, refresh, the calendar feed and /health without a token', async () => {
      expect(
        declared
          .filter((r) => r.isPublic)
          .map(key)
          .sort(),
      ).toEqual(PUBLIC.filter((r) => !r.startsWith('HEAD')).sort());
      // Each of them works without a token.
      const login = await app.http
        .post(`${API}/auth/login`)
        .send({ username: 'observer.in', password: SEED_PASSWORD })
        .expect(200);
      await app.http
        .post(`${API}/auth/refresh`)
        .send({ refreshToken: login.body.refreshToken })
        .expect(200);
      await app.http.get(fx.feeds['observer.us']!).expect(200);
      await app.http.get('/health').expect(200);
    });

    it('answers 401 on every other route to no token, garbage, a tampered, expired, unsigned or foreign JWT', async () => {
      const tokens = badTokens();
      const routes = apiRoutes(app).filter((r) => !PUBLIC.includes(key(r)));
      expect(routes.length).toBeGreaterThan(60);
      const before = await dbState(app, AUDIT_TABLES);
      for (const route of routes) {
        const url = route.url.replace(/:\w+/g, UUID);
        for (const [name, token] of Object.entries(tokens)) {
          // An invalid body too: 401 comes before 400.
          const body = ['POST', 'PUT', 'PATCH'].includes(route.method) ? { bogus: 1 } : undefined;
          const res = await call(app, route.method, url, { token: token ?? undefined, body });
          expectIn({ route: key(route), token: name }, res.status, 401);
          if (route.method !== 'HEAD') {
            expectProblem(res);
          }
        }
      }
      expect(await dbState(app, AUDIT_TABLES)).toBe(before);
    });

    it('accepts the same claims signed with the service key (the refusals above are about the token)', async () => {
      const claims = jwt.decode(app.token('observer.us')) as Record<string, unknown>;
      const now = Math.floor(Date.now() / 1000);
      const resigned = jwt.sign({ ...claims, iat: now, exp: now + 600 }, app.config.jwtSecret, {
        algorithm: 'HS256',
      });
      const me = await call(app, 'GET', `${API}/me`, { token: resigned }).expect(200);
      expect(me.body.username).toBe('observer.us');
    });

    it('refuses a refresh token as a bearer, a logged-out session and a deactivated account', async () => {
      const tokens = await app.login('delegate.us');
      await call(app, 'GET', `${API}/me`, { token: tokens.refreshToken }).expect(401);
      await call(app, 'POST', `${API}/auth/logout`, { token: tokens.accessToken }).expect(204);
      await call(app, 'GET', `${API}/me`, { token: tokens.accessToken }).expect(401);
      await app.http
        .post(`${API}/auth/refresh`)
        .send({ refreshToken: tokens.refreshToken })
        .expect(401);

      const id = await app.createUser({
        username: 'leaver.us',
        role: 'observer',
        delegation: 'US',
      });
      await app.as('leaver.us', 'get', '/me').expect(200);
      await app.as('dsa.us', 'patch', `/users/${id}`).send({ active: false }).expect(200);
      await app.as('leaver.us', 'get', '/me').expect(401);
      await app.http
        .post(`${API}/auth/login`)
        .send({ username: 'leaver.us', password: SEED_PASSWORD })
        .expect(401);
    });

    it('gives an unknown user and a wrong password the same answer', async () => {
      const unknown = await app.http
        .post(`${API}/auth/login`)
        .send({ username: 'nobody.here', password: 'wrong-password' });
      const wrong = await app.http
        .post(`${API}/auth/login`)
        .send({ username: 'observer.us', password: 'wrong-password' });
      expect(unknown.status).toBe(401);
      expect(wrong.status).toBe(401);
      expect(unknown.body).toEqual(wrong.body);
    });
  });

  describe('API3:2023 Broken Object Property Level Authorization', () => {
    /** Server-owned fields no body may set, beyond the route's own rules. */
    const SERVER_OWNED: Record<string, unknown> = {
      id: UUID,
      version: 99,
      createdAt: '2020-01-01T00:00:00.000Z',
      updatedAt: '2020-01-01T00:00:00.000Z',
      code: 'PA-999',
      ownerDelegation: 'US',
      concurrence: { IN: { userId: UUID, at: '2020-01-01T00:00:00.000Z' }, US: null },
      completedAt: '2020-01-01T00:00:00.000Z',
      passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$AAAA$BBBB',
      tokenVersion: 0,
    };
    const ROUTE_OWNED: Record<string, Record<string, unknown>> = {
      'POST /api/v1/auth/login': { role: 'admin' },
      'POST /api/v1/auth/refresh': { userId: UUID },
      'POST /api/v1/users': { active: false },
      'PATCH /api/v1/users/:id': {
        delegation: 'US',
        username: 'renamed',
        password: 'x'.repeat(12),
      },
      'POST /api/v1/me/password': { role: 'admin', delegation: 'US', active: true },
      'POST /api/v1/meetings': { number: 99, status: 'held', decisions: [], attendees: [] },
      'PATCH /api/v1/meetings/:id': { number: 99, minutes: { status: 'agreed' }, decisions: [] },
      'POST /api/v1/meetings/:id/outcomes': { status: 'held', number: 99 },
      'PUT /api/v1/meetings/:id/minutes': { status: 'agreed', approvals: [] },
      'POST /api/v1/meetings/:id/minutes/approve': { userId: UUID, at: '2020-01-01' },
      'POST /api/v1/meetings/:id/agenda-items': {
        meetingId: UUID,
        status: 'discussed',
        outcome: 'x',
        carriedFromId: UUID,
      },
      'PATCH /api/v1/agenda-items/:id': { meetingId: UUID, carriedFromId: UUID },
      'POST /api/v1/policy-items': { status: 'aligned' },
      'POST /api/v1/policy-items/:id/concur': { userId: UUID, at: '2020-01-01', status: 'aligned' },
      'POST /api/v1/action-items': { status: 'done', overdue: false },
      'PATCH /api/v1/action-items/:id': { overdue: false },
      'POST /api/v1/action-items/:id/updates': { authorId: UUID, actionItemId: UUID },
      'POST /api/v1/meetings/:id/notes': { authorId: UUID, delegation: 'US' },
      'POST /api/v1/policy-items/:id/notes': { authorId: UUID, delegation: 'US' },
      'POST /api/v1/action-items/:id/notes': { authorId: UUID, delegation: 'US' },
      'POST /api/v1/reminders/run': { recipientId: UUID },
    };

    it('refuses server-owned and foreign fields on every body with 400 naming them, and writes nothing', async () => {
      const bodies = validBodies(fx);
      const withBody = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops)
          .filter(([, op]) => op.requestBody)
          .map(([method]) => `${method.toUpperCase()} ${path}`),
      );
      // Every route that reads a body has a valid one here.
      expect(
        Object.keys(bodies)
          .map((k) => docPath(k))
          .sort(),
      ).toEqual(withBody.sort());
      const before = await dbState(app);
      let cases = 0;
      for (const [route, { as, body }] of Object.entries(bodies)) {
        const [method, url] = route.split(' ');
        const fields = { ...SERVER_OWNED, ...ROUTE_OWNED[route] };
        for (const [field, value] of Object.entries(fields)) {
          const res = await call(app, method, jointPath(url, fx), {
            as: as ?? undefined,
            body: { ...(body as object), [field]: value },
          });
          expectIn({ route, field }, res.status, 400);
          expect(namesField(res.body.errors as { field: string }[], field)).toBe(true);
          cases += 1;
        }
      }
      expect(cases).toBeGreaterThan(250);
      expect(await dbState(app)).toBe(before);
    });

    it('lets no one give themselves a role or another delegation', async () => {
      const attempts: [Account, object, number][] = [
        ['delegate.in', { role: 'dsa' }, 403],
        ['observer.us', { role: 'admin' }, 403],
        ['dsa.us', { role: 'admin' }, 403],
        ['sec.in', { active: true, displayName: 'Still me' }, 403],
        ['delegate.in', { delegation: 'US' }, 400],
        ['dsa.in', { delegation: null }, 400],
      ];
      const before = await dbState(app, AUDIT_TABLES);
      for (const [actor, fields, status] of attempts) {
        const res = await app.as(actor, 'patch', `/users/${fx.users[actor]}`).send(fields);
        expectIn({ actor, fields }, res.status, status);
      }
      expect(await dbState(app, AUDIT_TABLES)).toBe(before);
      const me = await app.as('delegate.in', 'get', '/me').expect(200);
      expect(me.body).toMatchObject({ role: 'delegate', delegation: 'IN' });
    });

    it('sends no password hash, token version, token or token hash in any answer', async () => {
      const password = 'secret-of-the-new-user';
      const created = await app
        .as('admin', 'post', '/users')
        .send({
          username: 'secret.keeper',
          displayName: 'Keeper',
          role: 'observer',
          delegation: 'IN',
          password,
        })
        .expect(201);
      const tokens = await app.login('secret.keeper', password);
      const feed = await app.as('observer.in', 'post', '/me/calendar-feed').expect(201);
      const feedToken = /calendar\/([\w-]{43})\.ics$/.exec(feed.body.url as string)![1];
      const changed = await call(app, 'POST', `${API}/me/password`, {
        token: tokens.accessToken,
        body: { currentPassword: password, newPassword: 'newer-secret-password' },
      }).expect(200);
      const secrets = [
        SEED_PASSWORD,
        password,
        'newer-secret-password',
        tokens.refreshToken,
        createHash('sha256').update(tokens.refreshToken).digest('base64url'),
        createHash('sha256').update(tokens.refreshToken).digest('hex'),
        feedToken,
        createHash('sha256').update(feedToken).digest('base64url'),
        createHash('sha256').update(feedToken).digest('hex'),
        changed.body.refreshToken as string,
      ];
      const FORBIDDEN_KEYS =
        /^(password|passwordHash|tokenVersion|tv|tokenHash|refreshToken(Hash)?|feedToken|secret|jwtSecret|sid)$/i;

      const answers: { what: string; text: string; body: unknown }[] = [
        { what: 'POST /users', text: created.text, body: created.body },
      ];
      for (const actor of ['admin', 'dsa.in', 'observer.in'] as const) {
        for (const route of apiRoutes(app, { head: false }).filter((r) => r.method === 'GET')) {
          if (route.url.endsWith('/calendar/:feed')) {
            continue;
          }
          const res = await call(app, 'GET', jointPath(route.url, fx), { as: actor });
          answers.push({ what: `${actor} GET ${route.url}`, text: res.text, body: res.body });
        }
      }
      // The account events of the creation, sign-in and password change above.
      const audit = await app.as('admin', 'get', '/audit-events?limit=200');
      answers.push({ what: 'audit', text: audit.text, body: audit.body });
      const keysOf = (value: unknown): string[] =>
        Array.isArray(value)
          ? value.flatMap(keysOf)
          : value && typeof value === 'object'
            ? Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)])
            : [];
      for (const { what, text, body } of answers) {
        expectIn(
          { what },
          keysOf(body).filter((k) => FORBIDDEN_KEYS.test(k)),
          [],
        );
        expectIn({ what }, /\$argon2/.test(text), false);
        for (const secret of secrets) {
          expectIn({ what }, text.includes(secret), false);
        }
      }
    });

    it('shows email and timezone only to the user, admin and the DSA of their delegation', async () => {
      for (const account of ACCOUNTS) {
        await app
          .as('admin', 'patch', `/users/${fx.users[account]}`)
          .send({ email: `${account}@jwg.example` })
          .expect(200);
      }
      const delegationOf = (account: Account) =>
        account === 'admin' ? null : account.endsWith('.in') ? 'IN' : 'US';
      for (const viewer of ACCOUNTS) {
        const list = await app.as(viewer, 'get', '/users?limit=200').expect(200);
        for (const entry of list.body.data as {
          id: string;
          username: string;
          delegation: string | null;
        }[]) {
          const target = ACCOUNTS.find((a) => a === entry.username);
          if (!target) {
            continue;
          }
          const allowed =
            viewer === target ||
            viewer === 'admin' ||
            (ROLE_OF[viewer] === 'dsa' && delegationOf(viewer) === entry.delegation);
          const single = await app.as(viewer, 'get', `/users/${entry.id}`).expect(200);
          for (const shown of [entry, single.body as object]) {
            expectIn(
              { viewer, target },
              ['email' in shown, 'timezone' in shown],
              [allowed, allowed],
            );
          }
        }
      }
    });
  });

  describe('API4:2023 Unrestricted Resource Consumption', () => {
    it('bounds ?limit on every collection GET: 0, 201 and nonsense are 400, 1 and 200 are fine', async () => {
      const collections: string[] = [];
      for (const route of apiRoutes(app, { head: false }).filter((r) => r.method === 'GET')) {
        const actor: Account = refusedByRole('dsa.in', 'GET', route.url) ? 'admin' : 'dsa.in';
        const path = jointPath(route.url, fx, 'admin');
        const probe = await call(app, 'GET', path, { as: actor });
        if (!(probe.body && 'data' in probe.body && 'nextCursor' in probe.body)) {
          continue;
        }
        collections.push(route.url);
        for (const limit of ['0', '201', '-1', '1.5', 'abc', '', '1e2', '99999999999999999999']) {
          const res = await call(app, 'GET', `${path}?limit=${limit}`, { as: actor });
          expectIn({ route: route.url, limit }, res.status, 400);
          expectProblem(res);
        }
        const junkCursor = await call(app, 'GET', `${path}?cursor=${'!'.repeat(20)}`, {
          as: actor,
        });
        expectIn({ route: route.url }, junkCursor.status, 400);
        const one = await call(app, 'GET', `${path}?limit=1`, { as: actor }).expect(200);
        expect(one.body.data.length).toBeLessThanOrEqual(1);
        await call(app, 'GET', `${path}?limit=200`, { as: actor }).expect(200);
      }
      expect(collections).toEqual(
        expect.arrayContaining([
          '/api/v1/users',
          '/api/v1/delegations',
          '/api/v1/meetings',
          '/api/v1/meetings/:id/agenda-items',
          '/api/v1/meetings/:id/notes',
          '/api/v1/policy-items',
          '/api/v1/policy-items/:id/notes',
          '/api/v1/action-items',
          '/api/v1/me/action-items',
          '/api/v1/action-items/:id/updates',
          '/api/v1/action-items/:id/notes',
          '/api/v1/me/notifications',
          '/api/v1/audit-events',
        ]),
      );
    });

    it('refuses a body over 100 KiB with 413 on every POST, PUT and PATCH route', async () => {
      const bodies = validBodies(fx);
      const big = JSON.stringify({ filler: 'x'.repeat(101 * 1024) });
      const routes = apiRoutes(app).filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method));
      expect(routes.length).toBeGreaterThan(25);
      for (const route of routes) {
        const as = bodies[key(route)]?.as ?? (route.url.includes('reminders') ? 'admin' : 'sec.in');
        const res = await call(app, route.method, jointPath(route.url, fx), {
          as: as ?? undefined,
          headers: { 'content-type': 'application/json' },
          body: big,
        });
        expectIn({ route: key(route) }, res.status, 413);
        expectProblem(res);
      }
    });

    it('answers 10,000 levels of nesting with a 4xx, never a 5xx, and stays up', async () => {
      const depth = 10_000;
      const shapes = {
        arrays: '['.repeat(depth) + ']'.repeat(depth),
        objects: '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
      };
      const targets: [string, string, Account | undefined][] = [
        ['POST', `${API}/auth/login`, undefined],
        ['POST', `${API}/policy-items`, 'sec.in'],
        ['PATCH', `${API}/action-items/${fx.joint.action}`, 'sec.in'],
        ['POST', `${API}/meetings/${fx.seededMeeting}/outcomes`, 'sec.in'],
      ];
      for (const [method, url, as] of targets) {
        for (const [shape, nested] of Object.entries(shapes)) {
          for (const body of [nested, `{"title":${nested}}`, `{"unknown":${nested}}`]) {
            // With an Idempotency-Key, the key's interceptor sees the body before any pipe.
            const variants: Record<string, string>[] = [
              {},
              { 'idempotency-key': `deep-${randomUUID()}` },
            ];
            for (const headers of variants) {
              const res = await call(app, method, url, {
                as,
                headers: { 'content-type': 'application/json', ...headers },
                body,
              });
              const context = { url, shape, body: body.slice(0, 12), headers };
              expectIn(
                { ...context, status: res.status },
                res.status >= 400 && res.status < 500,
                true,
              );
            }
          }
        }
      }
      await app.http.get('/health').expect(200);
    });

    it('bounds every string and array of every request body: max + 1 is a 400 naming the field', async () => {
      const bodies = validBodies(fx);
      let checked = 0;
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          const schema = op.requestBody?.content['application/json']?.schema;
          if (!schema) {
            continue;
          }
          const route = Object.keys(bodies).find(
            (k) => docPath(k) === `${method.toUpperCase()} ${path}`,
          )!;
          const { as, body } = bodies[route];
          for (const field of boundedFields(doc, schema)) {
            const isArray = field.schema.type === 'array';
            const bound = isArray ? field.schema.maxItems : field.schema.maxLength;
            // A malformed refresh token is 401 whatever its length (SPEC 5): it has no bound.
            if (field.path === 'refreshToken') {
              continue;
            }
            expectIn(
              { route, field: field.path, bounded: 'maxLength, maxItems or enum' },
              bound !== undefined || !!field.schema.enum,
              true,
            );
            if (bound === undefined) {
              continue;
            }
            const current = getAt(body, field.path);
            expectIn(
              { route, field: field.path, in: 'the valid body' },
              current !== undefined,
              true,
            );
            const tooBig = isArray
              ? Array.from({ length: bound + 1 }, () => (current as unknown[])[0])
              : 'x'.repeat(bound + 1);
            const res = await call(app, method, jointPath(route.split(' ')[1], fx), {
              as: as ?? undefined,
              body: setAt(body, field.path, tooBig),
            });
            expectIn({ route, field: field.path }, res.status, 400);
            expectIn(
              { route, field: field.path, named: 'in the errors' },
              namesField(res.body.errors as { field: string }[], field.path),
              true,
            );
            checked += 1;
          }
        }
      }
      expect(checked).toBeGreaterThan(60);
    });

    it('throttles sign-in per address (429 with Retry-After)', async () => {
      await withOtherApp({ LOGIN_THROTTLE_LIMIT: '3' }, { signIn: false }, async (throttled) => {
        const login = () =>
          throttled.http
            .post(`${API}/auth/login`)
            .send({ username: 'observer.in', password: 'wrong-password' });
        for (let i = 0; i < 3; i += 1) {
          expect((await login()).status).toBe(401);
        }
        const res = await login();
        expect(res.status).toBe(429);
        expectProblem(res);
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        const right = await throttled.http
          .post(`${API}/auth/login`)
          .send({ username: 'sec.in', password: SEED_PASSWORD });
        expect(right.status).toBe(429);
      });
    });

    it('locks an account after five failed sign-ins, even for the right password', async () => {
      await app.createUser({ username: 'locked.out', role: 'observer', delegation: 'IN' });
      for (let i = 0; i < 5; i += 1) {
        await app.http
          .post(`${API}/auth/login`)
          .send({ username: 'locked.out', password: `wrong-${i}-password` })
          .expect(401);
      }
      const res = await app.http
        .post(`${API}/auth/login`)
        .send({ username: 'locked.out', password: SEED_PASSWORD });
      expect(res.status).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  describe('API5:2023 Broken Function Level Authorization', () => {
    it('keeps the role table as SPEC section 4 writes it', () => {
      expect(PERMISSIONS).toEqual({
        manageUsers: ['admin', 'dsa'],
        editWorkingGroup: ['dsa'],
        manageMeetings: ['dsa', 'secretariat'],
        approveMinutes: ['dsa'],
        managePolicyItems: ['dsa', 'secretariat'],
        concur: ['dsa'],
        manageActionItems: ['dsa', 'secretariat'],
        progressActionItems: ['dsa', 'secretariat', 'delegate'],
        writeNotes: ['dsa', 'secretariat', 'delegate'],
        runReminders: ['admin'],
        readAudit: ['admin', 'dsa'],
        verifyAudit: ['admin'],
      });
    });

    it('limits routes only with entries of the role table, and the admin-only and dsa-only routes are the expected ones', () => {
      const limited = declared.filter((r) => r.roles);
      const entries = Object.values(PERMISSIONS) as readonly (readonly Role[])[];
      for (const route of limited) {
        expectIn({ route: key(route) }, entries.includes(route.roles!), true);
      }
      const only = (role: Role) =>
        limited
          .filter((r) => r.roles!.length === 1 && r.roles![0] === role)
          .map(key)
          .sort();
      expect(only('admin')).toEqual([
        'GET /api/v1/audit-events/verify',
        'GET /api/v1/reminders/preview',
        'POST /api/v1/reminders/run',
      ]);
      expect(only('dsa')).toEqual([
        'PATCH /api/v1/working-group',
        'POST /api/v1/meetings/:id/minutes/approve',
        'POST /api/v1/policy-items/:id/concur',
      ]);
      // Every write route is limited by role, or checks the record (users, notifications, own session).
      const unlimitedWrites = declared
        .filter((r) => r.method !== 'GET' && !r.roles && !r.isPublic)
        .map(key)
        .sort();
      expect(unlimitedWrites).toEqual([
        'PATCH /api/v1/users/:id',
        'POST /api/v1/auth/logout',
        'POST /api/v1/me/calendar-feed',
        'POST /api/v1/me/notifications/:id/read',
        'POST /api/v1/me/password',
      ]);
    });

    it('refuses every role-limited route to every other role with 403, before reading the body, writing only the refusal', async () => {
      const bodies = validBodies(fx);
      const limited = apiRoutes(app).filter((r) => rolesOf(r.method, r.url));
      expect(limited.length).toBeGreaterThan(20);
      const before = await dbState(app, AUDIT_TABLES);
      const actionsBefore = (await auditActions(app)).length;
      let refusals = 0;
      for (const route of limited) {
        for (const actor of ACCOUNTS.filter((a) => refusedByRole(a, route.method, route.url))) {
          for (const body of [bodies[key(route)]?.body, { bogus: true }]) {
            const res = await call(app, route.method, jointPath(route.url, fx), {
              as: actor,
              body: route.method === 'GET' || route.method === 'HEAD' ? undefined : body,
            });
            expectIn({ route: key(route), actor }, res.status, 403);
            refusals += 1;
          }
        }
      }
      expect(refusals).toBeGreaterThan(100);
      expect(await dbState(app, AUDIT_TABLES)).toBe(before);
      const added = (await auditActions(app)).slice(actionsBefore);
      expect(added.length).toBe(refusals);
      expect(new Set(added)).toEqual(new Set(['access.denied']));
    });

    it('refuses privilege escalation through user management', async () => {
      const attempts: [Account, 'post' | 'patch', string, object][] = [
        ['dsa.in', 'post', '/users', { role: 'dsa', delegation: 'IN' }],
        ['dsa.in', 'post', '/users', { role: 'admin', delegation: null }],
        ['dsa.us', 'post', '/users', { role: 'delegate', delegation: 'IN' }],
        ['dsa.in', 'patch', `/users/${fx.users['delegate.in']}`, { role: 'dsa' }],
        ['dsa.in', 'patch', `/users/${fx.users['delegate.us']}`, { role: 'observer' }],
        ['dsa.in', 'patch', `/users/${fx.users['dsa.us']}`, { active: false }],
        ['dsa.us', 'patch', `/users/${fx.users.admin}`, { displayName: 'Owned' }],
        ['sec.in', 'patch', `/users/${fx.users['delegate.in']}`, { active: false }],
        ['delegate.in', 'patch', `/users/${fx.users['delegate.in']}`, { role: 'secretariat' }],
      ];
      const before = await dbState(app, AUDIT_TABLES);
      for (const [actor, method, path, fields] of attempts) {
        const body =
          method === 'post'
            ? {
                username: `climb.${randomUUID().slice(0, 6)}`,
                displayName: 'Climber',
                password: 'a-long-password',
                ...fields,
              }
            : fields;
        const res = await app.as(actor, method, path).send(body);
        expectIn({ actor, path, fields }, res.status, 403);
      }
      expect(await dbState(app, AUDIT_TABLES)).toBe(before);
    });
  });

  describe('API6:2023 Unrestricted Access to Sensitive Business Flows', () => {
    async function policyItem(status?: 'agreed_in_principle'): Promise<string> {
      const id = (
        await app.as('sec.in', 'post', '/policy-items').send({ title: 'Flow' }).expect(201)
      ).body.id as string;
      for (const step of status ? ['under_discussion', 'agreed_in_principle'] : []) {
        await app.as('sec.in', 'patch', `/policy-items/${id}`).send({ status: step }).expect(200);
      }
      return id;
    }

    async function meeting(): Promise<string> {
      return (
        await app
          .as('sec.us', 'post', '/meetings')
          .send({
            title: 'Flow meeting',
            kind: 'virtual',
            startsOn: '2031-05-01',
            endsOn: '2031-05-01',
            hostDelegation: 'US',
          })
          .expect(201)
      ).body.id as string;
    }

    const versionOf = async (path: string) =>
      (await app.as('sec.in', 'get', path).expect(200)).body.version as number;

    it("concurs once per side, only in agreed_in_principle, only for one's own side", async () => {
      const early = await policyItem();
      expect((await app.as('dsa.in', 'post', `/policy-items/${early}/concur`)).status).toBe(409);
      const item = await policyItem('agreed_in_principle');
      expect(
        (await app.as('dsa.in', 'post', `/policy-items/${item}/concur`).send({ delegation: 'US' }))
          .status,
      ).toBe(403);
      await app.as('dsa.in', 'post', `/policy-items/${item}/concur`).expect(200);
      const version = await versionOf(`/policy-items/${item}`);
      expect((await app.as('dsa.in', 'post', `/policy-items/${item}/concur`)).status).toBe(409);
      expect(await versionOf(`/policy-items/${item}`)).toBe(version);
      const aligned = await app.as('dsa.us', 'post', `/policy-items/${item}/concur`).expect(200);
      expect(aligned.body.status).toBe('aligned');
      expect((await app.as('dsa.us', 'post', `/policy-items/${item}/concur`)).status).toBe(409);
      // Aligned text is locked.
      expect(
        (await app.as('sec.in', 'patch', `/policy-items/${item}`).send({ title: 'Changed' }))
          .status,
      ).toBe(409);
    });

    it("approves minutes only once circulated, once per side, for one's own side, and locks them when agreed", async () => {
      const id = await meeting();
      expect((await app.as('dsa.in', 'post', `/meetings/${id}/minutes/approve`)).status).toBe(409);
      await app.as('sec.us', 'put', `/meetings/${id}/minutes`).send({ text: 'Draft' }).expect(200);
      expect((await app.as('dsa.in', 'post', `/meetings/${id}/minutes/approve`)).status).toBe(409);
      await app.as('sec.us', 'post', `/meetings/${id}/minutes/circulate`).expect(200);
      expect(
        (
          await app
            .as('dsa.us', 'post', `/meetings/${id}/minutes/approve`)
            .send({ delegation: 'IN' })
        ).status,
      ).toBe(403);
      await app.as('dsa.in', 'post', `/meetings/${id}/minutes/approve`).expect(200);
      expect((await app.as('dsa.in', 'post', `/meetings/${id}/minutes/approve`)).status).toBe(409);
      const agreed = await app.as('dsa.us', 'post', `/meetings/${id}/minutes/approve`).expect(200);
      expect(agreed.body.minutes.status).toBe('agreed');
      expect(agreed.body.minutes.approvals).toHaveLength(2);
      const version = await versionOf(`/meetings/${id}`);
      for (const res of [
        await app.as('sec.in', 'put', `/meetings/${id}/minutes`).send({ text: 'Rewritten' }),
        await app.as('sec.in', 'post', `/meetings/${id}/minutes/circulate`),
        await app.as('dsa.us', 'post', `/meetings/${id}/minutes/approve`),
        await app.as('sec.in', 'post', `/meetings/${id}/outcomes`).send({ minutes: 'Again' }),
      ]) {
        expect(res.status).toBe(409);
      }
      expect(await versionOf(`/meetings/${id}`)).toBe(version);
    });

    it('follows the arrows of every state machine: no step is skipped or taken back', async () => {
      const policy = await policyItem();
      for (const status of ['agreed_in_principle', 'aligned', 'implemented']) {
        const res = await app.as('sec.in', 'patch', `/policy-items/${policy}`).send({ status });
        expectIn({ status }, res.status, 409);
      }
      const m = await meeting();
      expect(
        (await app.as('sec.us', 'patch', `/meetings/${m}`).send({ status: 'held' })).status,
      ).toBe(409);
      await app.as('sec.us', 'patch', `/meetings/${m}`).send({ status: 'in_session' }).expect(200);
      expect(
        (await app.as('sec.us', 'patch', `/meetings/${m}`).send({ status: 'planned' })).status,
      ).toBe(409);

      const item = (
        await app
          .as('sec.in', 'post', '/action-items')
          .send({ title: 'Flow item', ownerId: fx.users['delegate.in'], dueDate: DUE })
          .expect(201)
      ).body.id as string;
      expect(
        (
          await app
            .as('delegate.in', 'patch', `/action-items/${item}`)
            .send({ status: 'cancelled' })
        ).status,
      ).toBe(403);
      await app
        .as('delegate.in', 'patch', `/action-items/${item}`)
        .send({ status: 'done' })
        .expect(200);
      for (const status of ['in_progress', 'blocked', 'cancelled']) {
        const res = await app.as('sec.in', 'patch', `/action-items/${item}`).send({ status });
        expectIn({ status }, res.status, 409);
      }
      expect(
        (await app.as('delegate.in', 'patch', `/action-items/${item}`).send({ status: 'open' }))
          .status,
      ).toBe(403);
      expect(
        (await app.as('sec.in', 'patch', `/action-items/${item}`).send({ title: 'Edited' })).status,
      ).toBe(409);
    });

    it('logs no outcomes on a cancelled meeting, and writes nothing trying', async () => {
      const id = await meeting();
      await app.as('sec.us', 'patch', `/meetings/${id}`).send({ status: 'cancelled' }).expect(200);
      const before = await dbState(app);
      const res = await app.as('sec.us', 'post', `/meetings/${id}/outcomes`).send({
        decisions: ['Sneaked in'],
        minutes: 'Sneaked',
        actionItems: [{ title: 'Sneaked', ownerId: fx.users['delegate.us'], dueDate: DUE }],
      });
      expect(res.status).toBe(409);
      expectProblem(res);
      expect(await dbState(app)).toBe(before);
      expect(
        (await app.as('sec.us', 'put', `/meetings/${id}/minutes`).send({ text: 'x' })).status,
      ).toBe(409);
    });

    it('replays an Idempotency-Key with the same body and refuses it (409) with another, changing nothing', async () => {
      const keyValue = `flow-${randomUUID()}`;
      const first = await app
        .as('sec.in', 'post', '/policy-items')
        .set('idempotency-key', keyValue)
        .send({ title: 'Once only' })
        .expect(201);
      const retry = await app
        .as('sec.in', 'post', '/policy-items')
        .set('idempotency-key', keyValue)
        .send({ title: 'Once only' })
        .expect(201);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers['idempotency-replayed']).toBe('true');
      const before = await dbState(app);
      for (const [path, body] of [
        ['/policy-items', { title: 'Something else' }],
        ['/policy-items', { title: 'Once only', description: 'changed' }],
        ['/meetings/next', {}],
      ] as const) {
        const res = await app
          .as('sec.in', 'post', path)
          .set('idempotency-key', keyValue)
          .send(body);
        expectIn({ path }, res.status, 409);
        expectProblem(res);
      }
      expect(await dbState(app)).toBe(before);
      const found = await app.as('sec.in', 'get', '/policy-items?q=Once%20only').expect(200);
      expect(found.body.data).toHaveLength(1);
      // Keys are per user: another user's key of the same text is theirs.
      await app
        .as('sec.us', 'post', '/policy-items')
        .set('idempotency-key', keyValue)
        .send({ title: 'Once only' })
        .expect(201);
    });
  });

  describe('API7:2023 Server Side Request Forgery', () => {
    /*
     * The service makes exactly one kind of outbound connection: SMTP to the server named in
     * SMTP_URL, fixed at boot. No request field is a URL it fetches, no route proxies, and the
     * calendar feed URL it hands out is built from PUBLIC_URL or the request's own Host and is
     * never fetched by the service itself. These tests pin that down.
     */
    it('asks for no URL in any request body', () => {
      const urlish = /(url|uri|href|link|callback|webhook|endpoint|host|hostname|domain|server)$/i;
      for (const ops of Object.values(doc.paths)) {
        for (const op of Object.values(ops)) {
          const schema = op.requestBody?.content['application/json']?.schema;
          for (const field of schema ? boundedFields(doc, schema) : []) {
            expect({ field: field.path, format: field.schema.format }).not.toEqual({
              field: field.path,
              format: expect.stringMatching(/uri|url/),
            });
            expectIn({ field: field.path }, urlish.test(field.path), false);
          }
        }
      }
    });

    it('stores URLs written into free text as text and never fetches them', async () => {
      let hits = 0;
      const server: Server = createServer((_req, res) => {
        hits += 1;
        res.end('gotcha');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const bait = (field: string) => `http://127.0.0.1:${port}/${field}`;
      try {
        const m = (
          await app
            .as('sec.in', 'post', '/meetings')
            .send({
              title: bait('title'),
              kind: 'virtual',
              startsOn: '2031-03-05',
              endsOn: '2031-03-05',
              location: bait('location'),
              hostDelegation: 'IN',
            })
            .expect(201)
        ).body.id as string;
        const p = (
          await app
            .as('sec.in', 'post', '/policy-items')
            .send({ title: bait('p'), description: bait('d'), isaReference: bait('isa') })
            .expect(201)
        ).body.id as string;
        await app
          .as('sec.in', 'post', `/meetings/${m}/outcomes`)
          .send({
            decisions: [bait('decision')],
            minutes: bait('minutes'),
            actionItems: [
              {
                title: bait('action'),
                description: bait('action-description'),
                ownerId: fx.users['delegate.in'],
                dueDate: DUE,
                policyItemId: p,
              },
            ],
          })
          .expect(201);
        await app
          .as('sec.in', 'post', `/policy-items/${p}/notes`)
          .send({ body: bait('note') })
          .expect(201);
        await app
          .as('admin', 'patch', `/users/${fx.users['observer.in']}`)
          .send({ displayName: bait('name') })
          .expect(200);
        // Everything that might follow a link: a reminder pass, the feed, the CSV, the audit.
        await app.as('admin', 'post', '/reminders/run').send({ now: WEEK_BEFORE }).expect(200);
        const feed = await app
          .as('delegate.in', 'post', '/me/calendar-feed')
          .set('host', `127.0.0.1:${port}`)
          .expect(201);
        expect(feed.body.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/`));
        await app.http.get(new URL(feed.body.url as string).pathname).expect(200);
        await app.as('sec.in', 'get', '/action-items/export.csv').expect(200);
        await app.as('dsa.in', 'get', '/audit-events?limit=200').expect(200);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(hits).toBe(0);
        const stored = await app.as('sec.in', 'get', `/policy-items/${p}`).expect(200);
        expect(stored.body.isaReference).toBe(bait('isa'));
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it("builds the feed URL on the request's own Host without PUBLIC_URL (not a forwarded one), and on PUBLIC_URL only with it", async () => {
      const own = await app
        .as('observer.us', 'post', '/me/calendar-feed')
        .set('host', 'jwg.internal.example:8443')
        .set('x-forwarded-host', 'evil.example')
        .set('x-forwarded-proto', 'https')
        .expect(201);
      expect(own.body.url).toMatch(
        /^http:\/\/jwg\.internal\.example:8443\/api\/v1\/calendar\/[\w-]{43}\.ics$/,
      );
      await withOtherApp({ PUBLIC_URL: 'https://jwg.example.org/' }, {}, async (configured) => {
        const res = await configured
          .as('observer.us', 'post', '/me/calendar-feed')
          .set('host', 'evil.example')
          .expect(201);
        expect(res.body.url).toMatch(
          /^https:\/\/jwg\.example\.org\/api\/v1\/calendar\/[\w-]{43}\.ics$/,
        );
      });
    });
  });

  describe('API8:2023 Security Misconfiguration', () => {
    const LEAKS =
      /\bat [\w.<>$]+ \(|node_modules|\/work\/|\/src\/|\.ts:\d|\.js:\d|QueryFailedError|SQLITE_|TypeORM|stack|Exception\b|FST_/;

    /** Answers of every kind, success and error, for the header and body checks. */
    async function sampleAnswers() {
      const feed = fx.feeds['observer.us']!;
      return {
        '200 JSON': await app.as('observer.in', 'get', '/me'),
        '201': await app.as('delegate.in', 'post', `/action-items/${fx.joint.action}/notes`).send({
          body: 'n',
        }),
        '204': await call(app, 'POST', `${API}/auth/logout`, {
          token: (await app.login('observer.us')).accessToken,
        }),
        CSV: await app.as('observer.in', 'get', '/action-items/export.csv'),
        calendar: await app.http.get(feed),
        health: await app.http.get('/health'),
        '400 validation': await app.as('sec.in', 'post', '/policy-items').send({ title: 7 }),
        '400 malformed JSON': await app
          .as('sec.in', 'post', '/policy-items')
          .set('content-type', 'application/json')
          .send('{"title": '),
        '400 query': await app.as('sec.in', 'get', '/action-items?sort=evil'),
        '401': await app.http.get(`${API}/me`),
        '403': await app.as('observer.in', 'post', '/policy-items').send({ title: 'x' }),
        '404': await app.as('observer.in', 'get', `/action-items/${UUID}`),
        '404 route': await app.http.get('/nowhere/at/all'),
        '409': await app.as('dsa.in', 'post', `/policy-items/${fx.joint.policy}/concur`),
        '412': await app
          .as('sec.in', 'patch', `/policy-items/${fx.joint.policy}`)
          .set('if-match', '"999"')
          .send({ targetDate: '2032-01-01' }),
        '413': await app
          .as('sec.in', 'post', '/policy-items')
          .set('content-type', 'application/json')
          .send(JSON.stringify({ title: 'x'.repeat(101 * 1024) })),
        '415': await app
          .as('sec.in', 'post', '/policy-items')
          .set('content-type', 'text/plain')
          .send('x'),
        'unknown id shape': await app.as(
          'observer.in',
          'get',
          `/action-items/${'%27%22;--'.repeat(5)}`,
        ),
      };
    }

    it('sends security headers and no X-Powered-By on success and error answers alike', async () => {
      for (const [what, res] of Object.entries(await sampleAnswers())) {
        const headers = res.headers;
        expect({
          what,
          nosniff: headers['x-content-type-options'],
          frame: headers['x-frame-options'],
          csp: /default-src 'self'/.test(headers['content-security-policy'] ?? ''),
          hsts: /max-age=\d+/.test(headers['strict-transport-security'] ?? ''),
          referrer: headers['referrer-policy'],
          poweredBy: headers['x-powered-by'],
          requestId: /^[0-9a-f-]{36}$/.test(headers['x-request-id'] ?? ''),
        }).toEqual({
          what,
          nosniff: 'nosniff',
          frame: 'SAMEORIGIN',
          csp: true,
          hsts: true,
          referrer: 'no-referrer',
          poweredBy: undefined,
          requestId: true,
        });
      }
    });

    it('answers errors as problem+json without stack traces, internal paths or library names', async () => {
      for (const [what, res] of Object.entries(await sampleAnswers())) {
        if (res.status < 400) {
          continue;
        }
        expectProblem(res);
        expectIn(
          { what },
          Object.keys(res.body as object).sort(),
          expect.arrayContaining(['detail', 'status', 'title', 'type']),
        );
        expect(
          Object.keys(res.body as object).filter(
            (k) => !['type', 'title', 'status', 'detail', 'errors'].includes(k),
          ),
        ).toEqual([]);
        expectIn({ what }, LEAKS.exec(res.text)?.[0] ?? null, null);
      }
    });

    it('grants no CORS to an unknown origin, on preflight or on a real request', async () => {
      for (const path of [`${API}/me`, `${API}/auth/login`, `${API}/policy-items`, '/health']) {
        const preflight = await app.http
          .options(path)
          .set('origin', 'https://evil.example')
          .set('access-control-request-method', 'POST')
          .set('access-control-request-headers', 'authorization,content-type');
        expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
        expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
        expect(preflight.status).toBeGreaterThanOrEqual(400);
        const real = await app
          .as('observer.in', 'get', '/me')
          .set('origin', 'https://evil.example');
        expect(real.headers['access-control-allow-origin']).toBeUndefined();
      }
    });

    it('answers TRACE and unknown methods with a 404 or 405 problem', async () => {
      const answers: { status: number; headers: Record<string, string> }[] = [
        await app.http.trace(`${API}/me`),
        await app.http.trace('/health'),
        await app.http.delete(`${API}/users/${fx.users['observer.in']}`),
        await app.as('admin', 'delete', `/action-items/${fx.joint.action}`),
        await app.as('admin', 'put', '/me'),
      ];
      for (const method of ['PROPFIND', 'MKCOL', 'PURGE']) {
        answers.push(await rawRequest(method, `${API}/me`));
      }
      for (const res of answers) {
        expect([404, 405]).toContain(res.status);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    });

    async function rawRequest(method: string, path: string) {
      const server: Server = app.app.getHttpServer();
      if (!server.listening) {
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      }
      const { port } = server.address() as AddressInfo;
      return new Promise<{ status: number; headers: Record<string, string> }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method, path }, (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers as Record<string, string>,
            }),
          );
        });
        req.on('error', reject);
        req.end();
      });
    }

    it('never lets a cache keep tokens: sign-in, refresh, password change and feed URL answers are no-store', async () => {
      const login = await app.http
        .post(`${API}/auth/login`)
        .send({ username: 'observer.in', password: SEED_PASSWORD })
        .expect(200);
      const refresh = await app.http
        .post(`${API}/auth/refresh`)
        .send({ refreshToken: login.body.refreshToken })
        .expect(200);
      const feed = await app.as('observer.in', 'post', '/me/calendar-feed').expect(201);
      await app.createUser({ username: 'cache.me', role: 'observer', delegation: 'US' });
      const password = await app
        .as('cache.me', 'post', '/me/password')
        .send({ currentPassword: SEED_PASSWORD, newPassword: 'a-new-long-password' })
        .expect(200);
      for (const [what, res] of Object.entries({ login, refresh, password, feed })) {
        expectIn({ what }, res.headers['cache-control'], expect.stringContaining('no-store'));
      }
    });

    it('serves the OpenAPI document at /api/openapi.json', async () => {
      const res = await app.http.get('/api/openapi.json').expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.openapi).toMatch(/^3\./);
    });
  });

  describe('API9:2023 Improper Inventory Management', () => {
    const PUBLIC_OPERATIONS = [
      'GET /health',
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/refresh',
      'GET /api/v1/calendar/{feed}',
    ];
    const operations = () =>
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({
          name: `${method.toUpperCase()} ${path}`,
          op,
        })),
      );

    it('documents the routes the controllers declare, no more and no fewer', () => {
      expect(
        operations()
          .map((o) => o.name)
          .sort(),
      ).toEqual(declared.map((r) => `${r.method} ${docPath(r.url)}`).sort());
    });

    it('declares bearer security on every operation but the public ones', () => {
      for (const { name, op } of operations()) {
        const expected = PUBLIC_OPERATIONS.includes(name) ? undefined : [{ bearer: [] }];
        expectIn({ name }, op.security?.length ? op.security : undefined, expected);
      }
    });

    it('documents 401, 403 and 404 wherever a token is needed, 400 wherever a body or query is read, 429 where sign-in is throttled', () => {
      for (const { name, op } of operations()) {
        const documented = Object.keys(op.responses);
        const expected = [
          ...(op.security?.length ? ['401', '403', '404'] : []),
          ...(op.requestBody || op.parameters?.some((p) => p.in === 'query') ? ['400'] : []),
          ...(/auth\/(login|refresh)$|me\/password$/.test(name) ? ['429'] : []),
          ...(name === 'GET /api/v1/calendar/{feed}' ? ['404'] : []),
        ];
        expectIn(
          { name },
          expected.filter((s) => !documented.includes(s)),
          [],
        );
      }
    });

    it('serves no other API version, debug or metrics endpoint', async () => {
      for (const path of [
        '/api/v0/me',
        '/api/v2/me',
        '/api/me',
        '/v1/me',
        '/api/v1/debug',
        '/api/v1/admin',
        '/metrics',
        '/status',
        '/api/v1/health',
        '/.env',
        '/api/v1/../../package.json',
      ]) {
        const res = await app.as('admin', 'get', '/me').then(() => app.http.get(path));
        expectIn({ path }, res.status, 404);
      }
    });
  });

  describe('API10:2023 Unsafe Consumption of APIs', () => {
    /*
     * The only outside party the service talks to is the SMTP server of SMTP_URL; what it
     * hands on to others (mail, calendar files, CSV) is built from user-entered text, so that
     * text must stay data there: no header split in mail, no property injected in iCalendar,
     * no formula run in a spreadsheet.
     */
    it('keeps a title with CR/LF as data in reminders and their mail: no header is split', async () => {
      const received: { rcptTo: string[]; raw: string }[] = [];
      const smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onData(stream, session, callback) {
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            received.push({
              rcptTo: session.envelope.rcptTo.map((r) => r.address),
              raw: Buffer.concat(chunks).toString('utf8'),
            });
            callback();
          });
        },
      });
      await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
      const port = (smtp.server.address() as AddressInfo).port;
      try {
        await withOtherApp({ SMTP_URL: `smtp://127.0.0.1:${port}` }, {}, (mailApp) =>
          reminderMail(mailApp, received),
        );
      } finally {
        await new Promise<void>((resolve) => smtp.close(() => resolve()));
      }
    });

    async function reminderMail(mailApp: TestApp, received: { rcptTo: string[]; raw: string }[]) {
      // A first pass delivers the seeded record's reminders before anyone has an address.
      await mailApp.as('admin', 'post', '/reminders/run').send({ now: '2030-12-01T12:00:00Z' });
      const owner = await mailApp.userId('delegate.in');
      await mailApp
        .as('admin', 'patch', `/users/${owner}`)
        .send({ email: 'delegate@in.jwg.example' })
        .expect(200);
      const title = 'Report\r\nBcc: x@evil.example\r\nSubject: injected';
      const item = await mailApp
        .as('sec.in', 'post', '/action-items')
        .send({
          title,
          description: 'Body\r\n.\r\nMAIL FROM:<x@evil.example>',
          ownerId: owner,
          dueDate: DUE,
        })
        .expect(201);
      expect(item.body.title).toBe(title);
      await mailApp.as('admin', 'post', '/reminders/run').send({ now: WEEK_BEFORE }).expect(200);

      const notes = await mailApp
        .as('delegate.in', 'get', '/me/notifications?limit=200')
        .expect(200);
      const note = (notes.body.data as { subjectId: string; title: string; body: string }[]).find(
        (n) => n.subjectId === item.body.id,
      )!;
      expect(note.title).not.toMatch(/[\r\n]/);
      expect(note.title).not.toContain('Bcc');
      expect(note.body).toContain('Bcc: x@evil.example');

      const mails = received.filter((m) => m.raw.includes(item.body.code as string));
      expect(mails).toHaveLength(1);
      const [mail] = mails;
      expect(mail.rcptTo).toEqual(['delegate@in.jwg.example']);
      const head = mail.raw.slice(0, mail.raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
      const names = head
        .split('\r\n')
        .map((line) => line.slice(0, line.indexOf(':')).toLowerCase());
      expect(names).not.toContain('bcc');
      expect(names.filter((n) => n === 'subject')).toHaveLength(1);
      expect(head).not.toContain('evil.example');
    }

    it('escapes CR/LF in titles in the iCalendar feed: no property is injected', async () => {
      const title = 'Review\r\nATTENDEE:mailto:x@evil.example\r\nEND:VEVENT';
      const item = await app
        .as('sec.in', 'post', '/action-items')
        .send({
          title,
          description: 'a\r\nURL:http://evil.example',
          ownerId: fx.users['delegate.in'],
          dueDate: DUE,
        })
        .expect(201);
      const feed = await app.as('delegate.in', 'post', '/me/calendar-feed').expect(201);
      const ics = await app.http.get(new URL(feed.body.url as string).pathname).expect(200);
      const unfolded = ics.text.replace(/\r\n[ \t]/g, '');
      expect(unfolded).not.toMatch(/^ATTENDEE/m);
      expect(unfolded).not.toMatch(/^URL:http:\/\/evil/m);
      const calendar = new ICAL.Component(ICAL.parse(ics.text));
      const event = calendar
        .getAllSubcomponents('vevent')
        .find((e) => String(e.getFirstPropertyValue('uid')).includes(item.body.id as string))!;
      // The line breaks are kept as escaped text (\n) inside the one SUMMARY.
      expect(String(event.getFirstPropertyValue('summary'))).toMatch(
        /Review\s+ATTENDEE:mailto:x@evil\.example\s+END:VEVENT$/,
      );
      expect(event.getAllProperties('attendee')).toHaveLength(0);
      expect(event.getAllProperties('url')).toHaveLength(0);
    });

    it('neutralises formula cells in the CSV export', async () => {
      const formulas = [
        '=HYPERLINK("http://evil.example","x")',
        '+1+cmd|/c calc',
        '-2+3',
        '@SUM(A1:A9)',
        '\t=1+1',
        '\r=1+1',
      ];
      const ids: string[] = [];
      for (const [i, formula] of formulas.entries()) {
        const res = await app
          .as('sec.in', 'post', '/action-items')
          .send({
            title: `Formula ${i}`,
            description: formula,
            ownerId: fx.users['delegate.in'],
            dueDate: DUE,
          })
          .expect(201);
        ids.push(res.body.id as string);
        await app
          .as('sec.in', 'patch', `/action-items/${res.body.id as string}`)
          .send({ title: formula.trim() })
          .expect(200);
      }
      const csv = await app.as('observer.in', 'get', '/action-items/export.csv').expect(200);
      const rows = parseCsv(csv.text);
      const header = rows[0];
      for (const id of ids) {
        const row = rows.find((r) => r[header.indexOf('id')] === id)!;
        for (const column of ['title', 'description']) {
          const cell = row[header.indexOf(column)];
          expectIn({ id, column }, cell.charAt(0), "'");
        }
      }
      // No cell at all starts a formula.
      for (const row of rows) {
        for (const cell of row) {
          expect(cell).not.toMatch(/^[=+\-@\t\r]/);
        }
      }
    });
  });
});

/** RFC 4180: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') {
        i += 1;
      }
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else {
      cell += c;
    }
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
