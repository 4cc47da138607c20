import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ACCOUNTS,
  API,
  type Account,
  createTestApp,
  type Method,
  type TestApp,
} from '../support/test-app.js';

/**
 * The authorization matrix: every route x every role x both delegations, plus anonymous.
 * Later issues add their routes to ROUTES.
 */
type Actor = Account | 'anonymous';
const ACTORS: Actor[] = [...ACCOUNTS, 'anonymous'];

interface RouteCase {
  name: string;
  method: Method;
  /** The path under /api/v1, given a fresh suffix for each actor. */
  path: (app: TestApp, unique: string) => Promise<string> | string;
  body?: (unique: string) => unknown;
  /** Expected status per actor; anonymous is 401 unless the route is public. */
  expect: Partial<Record<Actor, number>> & { default: number };
}

let counter = 0;
const fresh = () => `u${Date.now().toString(36)}${(counter++).toString(36)}`;

/** A user of IN, created by admin, to act on without touching the seeded accounts. */
async function freshIndianDelegate(app: TestApp, unique: string): Promise<string> {
  const res = await app
    .as('admin', 'post', '/users')
    .send({
      username: `target.${unique}`,
      displayName: 'Target',
      role: 'delegate',
      delegation: 'IN',
      password: 'target-password',
    })
    .expect(201);
  return res.body.id as string;
}

const MANAGERS = { default: 403, 'dsa.in': 0, 'dsa.us': 0, 'sec.in': 0, 'sec.us': 0 } as const;
/** Expected statuses: `ok` for dsa and secretariat of both sides, 403 for everyone else. */
const managers = (ok: number) =>
  Object.fromEntries(
    Object.entries(MANAGERS).map(([k, v]) => [k, v === 0 ? ok : v]),
  ) as RouteCase['expect'];
/** Visible to India only: the IN roles get `ok`, the US roles and admin 404 (unless refused by role first). */
const indiaOnly = (
  ok: number,
  overrides: Partial<Record<Actor, number>> = {},
): RouteCase['expect'] => ({
  default: 404,
  'dsa.in': ok,
  'sec.in': ok,
  'delegate.in': ok,
  'observer.in': ok,
  ...overrides,
});

const SEEDED_MEETING = async (app: TestApp) =>
  ((await app.as('admin', 'get', '/meetings?limit=1').expect(200)).body.data[0] as { id: string })
    .id;

async function freshMeeting(
  app: TestApp,
  unique: string,
  minutes?: 'draft' | 'circulated',
): Promise<string> {
  const res = await app
    .as('sec.in', 'post', '/meetings')
    .send({
      title: `M ${unique}`,
      kind: 'virtual',
      startsOn: '2030-01-01',
      endsOn: '2030-01-01',
      hostDelegation: 'IN',
    })
    .expect(201);
  const id = res.body.id as string;
  if (minutes) {
    await app.as('sec.in', 'put', `/meetings/${id}/minutes`).send({ text: 'Draft' }).expect(200);
  }
  if (minutes === 'circulated') {
    await app.as('sec.in', 'post', `/meetings/${id}/minutes/circulate`).expect(200);
  }
  return id;
}

async function freshPolicyItem(
  app: TestApp,
  unique: string,
  visibility = 'joint',
  status?: string,
): Promise<string> {
  const author = visibility === 'US' ? 'sec.us' : 'sec.in';
  const id = (
    await app
      .as(author, 'post', '/policy-items')
      .send({ title: `P ${unique}`, visibility })
      .expect(201)
  ).body.id as string;
  for (const next of status === 'agreed_in_principle'
    ? ['under_discussion', 'agreed_in_principle']
    : []) {
    await app.as(author, 'patch', `/policy-items/${id}`).send({ status: next }).expect(200);
  }
  return id;
}

async function freshActionItem(
  app: TestApp,
  unique: string,
  visibility = 'joint',
): Promise<string> {
  const res = await app
    .as('sec.in', 'post', '/action-items')
    .send({
      title: `A ${unique}`,
      ownerId: await app.userId('delegate.in'),
      dueDate: '2030-06-30',
      visibility,
    })
    .expect(201);
  return res.body.id as string;
}

async function freshAgendaItem(
  app: TestApp,
  unique: string,
  visibility = 'joint',
): Promise<string> {
  const meeting = await SEEDED_MEETING(app);
  const res = await app
    .as('sec.in', 'post', `/meetings/${meeting}/agenda-items`)
    .send({ title: `Item ${unique}`, visibility })
    .expect(201);
  return res.body.id as string;
}

const NOTE_PARENTS = [
  ['meetings', async (app: TestApp) => SEEDED_MEETING(app)],
  ['policy-items', (app: TestApp, u: string) => freshPolicyItem(app, u)],
  ['action-items', (app: TestApp, u: string) => freshActionItem(app, u)],
] as const;

const ROUTES: RouteCase[] = [
  { name: 'GET /me', method: 'get', path: () => '/me', expect: { default: 200 } },
  { name: 'GET /users', method: 'get', path: () => '/users', expect: { default: 200 } },
  {
    name: 'GET /users/:id',
    method: 'get',
    path: async (app) => `/users/${await app.userId('delegate.us')}`,
    expect: { default: 200 },
  },
  {
    name: 'POST /users (an IN delegate)',
    method: 'post',
    path: () => '/users',
    body: (u) => ({
      username: `new.${u}`,
      displayName: 'New',
      role: 'delegate',
      delegation: 'IN',
      password: 'a-long-password',
    }),
    expect: { default: 403, admin: 201, 'dsa.in': 201 },
  },
  {
    name: 'POST /users (a US observer)',
    method: 'post',
    path: () => '/users',
    body: (u) => ({
      username: `new.${u}`,
      displayName: 'New',
      role: 'observer',
      delegation: 'US',
      password: 'a-long-password',
    }),
    expect: { default: 403, admin: 201, 'dsa.us': 201 },
  },
  {
    name: 'POST /users (a second IN DSA)',
    method: 'post',
    path: () => '/users',
    body: (u) => ({
      username: `new.${u}`,
      displayName: 'New',
      role: 'dsa',
      delegation: 'IN',
      password: 'a-long-password',
    }),
    expect: { default: 403, admin: 409 },
  },
  {
    name: 'POST /users (an admin)',
    method: 'post',
    path: () => '/users',
    body: (u) => ({
      username: `new.${u}`,
      displayName: 'New',
      role: 'admin',
      delegation: null,
      password: 'a-long-password',
    }),
    expect: { default: 403, admin: 201 },
  },
  {
    name: 'PATCH /users/:id (display name of delegate.in)',
    method: 'patch',
    path: async (app) => `/users/${await app.userId('delegate.in')}`,
    body: () => ({ displayName: 'IN Delegate' }),
    expect: { default: 403, admin: 200, 'dsa.in': 200, 'delegate.in': 200 },
  },
  {
    name: 'PATCH /users/:id (role of an IN delegate)',
    method: 'patch',
    path: async (app, u) => `/users/${await freshIndianDelegate(app, u)}`,
    body: () => ({ role: 'observer' }),
    expect: { default: 403, admin: 200, 'dsa.in': 200 },
  },
  {
    name: 'PATCH /users/:id (deactivate an IN delegate)',
    method: 'patch',
    path: async (app, u) => `/users/${await freshIndianDelegate(app, u)}`,
    body: () => ({ active: false }),
    expect: { default: 403, admin: 200, 'dsa.in': 200 },
  },
  {
    name: 'POST /me/password (invalid body reaches validation)',
    method: 'post',
    path: () => '/me/password',
    body: () => ({ currentPassword: 'x' }),
    expect: { default: 400 },
  },
  { name: 'GET /delegations', method: 'get', path: () => '/delegations', expect: { default: 200 } },
  {
    name: 'GET /working-group',
    method: 'get',
    path: () => '/working-group',
    expect: { default: 200 },
  },
  {
    name: 'PATCH /working-group',
    method: 'patch',
    path: () => '/working-group',
    body: () => ({ cadenceMonths: 6 }),
    expect: { default: 403, 'dsa.in': 200, 'dsa.us': 200 },
  },

  // Meetings, minutes and outcomes
  { name: 'GET /meetings', method: 'get', path: () => '/meetings', expect: { default: 200 } },
  {
    name: 'POST /meetings',
    method: 'post',
    path: () => '/meetings',
    body: (u) => ({
      title: `M ${u}`,
      kind: 'plenary',
      startsOn: '2031-01-05',
      endsOn: '2031-01-06',
      hostDelegation: 'US',
    }),
    expect: managers(201),
  },
  {
    name: 'POST /meetings/next',
    method: 'post',
    path: () => '/meetings/next',
    expect: managers(201),
  },
  {
    name: 'GET /meetings/:id',
    method: 'get',
    path: async (app) => `/meetings/${await SEEDED_MEETING(app)}`,
    expect: { default: 200 },
  },
  {
    name: 'PATCH /meetings/:id',
    method: 'patch',
    path: async (app, u) => `/meetings/${await freshMeeting(app, u)}`,
    body: () => ({ location: 'Virtual' }),
    expect: managers(200),
  },
  {
    name: 'POST /meetings/:id/outcomes',
    method: 'post',
    path: async (app, u) => `/meetings/${await freshMeeting(app, u)}/outcomes`,
    body: () => ({ decisions: ['Agreed'] }),
    expect: managers(201),
  },
  {
    name: 'PUT /meetings/:id/minutes',
    method: 'put',
    path: async (app, u) => `/meetings/${await freshMeeting(app, u)}/minutes`,
    body: () => ({ text: 'Minutes' }),
    expect: managers(200),
  },
  {
    name: 'POST /meetings/:id/minutes/circulate',
    method: 'post',
    path: async (app, u) => `/meetings/${await freshMeeting(app, u, 'draft')}/minutes/circulate`,
    expect: managers(200),
  },
  {
    name: 'POST /meetings/:id/minutes/approve',
    method: 'post',
    path: async (app, u) => `/meetings/${await freshMeeting(app, u, 'circulated')}/minutes/approve`,
    expect: { default: 403, 'dsa.in': 200, 'dsa.us': 200 },
  },
  {
    name: 'POST /meetings/:id/minutes/approve (for the other side)',
    method: 'post',
    path: async (app, u) => `/meetings/${await freshMeeting(app, u, 'circulated')}/minutes/approve`,
    body: () => ({ delegation: 'IN' }),
    expect: { default: 403, 'dsa.in': 200 },
  },

  // Agenda items
  {
    name: 'GET /meetings/:id/agenda-items',
    method: 'get',
    path: async (app) => `/meetings/${await SEEDED_MEETING(app)}/agenda-items`,
    expect: { default: 200 },
  },
  {
    name: 'POST /meetings/:id/agenda-items',
    method: 'post',
    path: async (app) => `/meetings/${await SEEDED_MEETING(app)}/agenda-items`,
    body: (u) => ({ title: `Item ${u}` }),
    expect: managers(201),
  },
  {
    name: 'GET /agenda-items/:id (joint)',
    method: 'get',
    path: async (app, u) => `/agenda-items/${await freshAgendaItem(app, u)}`,
    expect: { default: 200 },
  },
  {
    name: 'GET /agenda-items/:id (India only)',
    method: 'get',
    path: async (app, u) => `/agenda-items/${await freshAgendaItem(app, u, 'IN')}`,
    expect: indiaOnly(200),
  },
  {
    name: 'PATCH /agenda-items/:id (joint)',
    method: 'patch',
    path: async (app, u) => `/agenda-items/${await freshAgendaItem(app, u)}`,
    body: () => ({ status: 'discussed' }),
    expect: managers(200),
  },
  {
    name: 'PATCH /agenda-items/:id (India only)',
    method: 'patch',
    path: async (app, u) => `/agenda-items/${await freshAgendaItem(app, u, 'IN')}`,
    body: () => ({ status: 'discussed' }),
    expect: { default: 403, 'dsa.in': 200, 'sec.in': 200, 'dsa.us': 404, 'sec.us': 404 },
  },

  // Policy-alignment items
  {
    name: 'GET /policy-items',
    method: 'get',
    path: () => '/policy-items',
    expect: { default: 200 },
  },
  {
    name: 'POST /policy-items',
    method: 'post',
    path: () => '/policy-items',
    body: (u) => ({ title: `P ${u}` }),
    expect: managers(201),
  },
  {
    name: 'GET /policy-items/:id (joint)',
    method: 'get',
    path: async (app, u) => `/policy-items/${await freshPolicyItem(app, u)}`,
    expect: { default: 200 },
  },
  {
    name: 'GET /policy-items/:id (India only)',
    method: 'get',
    path: async (app, u) => `/policy-items/${await freshPolicyItem(app, u, 'IN')}`,
    expect: indiaOnly(200),
  },
  {
    name: 'PATCH /policy-items/:id',
    method: 'patch',
    path: async (app, u) => `/policy-items/${await freshPolicyItem(app, u)}`,
    body: () => ({ targetDate: '2031-12-31' }),
    expect: managers(200),
  },
  {
    name: 'POST /policy-items/:id/concur',
    method: 'post',
    path: async (app, u) =>
      `/policy-items/${await freshPolicyItem(app, u, 'joint', 'agreed_in_principle')}/concur`,
    expect: { default: 403, 'dsa.in': 200, 'dsa.us': 200 },
  },
  {
    name: 'POST /policy-items/:id/concur (for the other side)',
    method: 'post',
    path: async (app, u) =>
      `/policy-items/${await freshPolicyItem(app, u, 'joint', 'agreed_in_principle')}/concur`,
    body: () => ({ delegation: 'US' }),
    expect: { default: 403, 'dsa.us': 200 },
  },
  {
    name: 'POST /policy-items/:id/concur (India only)',
    method: 'post',
    path: async (app, u) =>
      `/policy-items/${await freshPolicyItem(app, u, 'IN', 'agreed_in_principle')}/concur`,
    expect: { default: 403, 'dsa.in': 200, 'dsa.us': 404 },
  },

  // Action items
  {
    name: 'GET /action-items',
    method: 'get',
    path: () => '/action-items',
    expect: { default: 200 },
  },
  {
    name: 'GET /me/action-items',
    method: 'get',
    path: () => '/me/action-items',
    expect: { default: 200 },
  },
  {
    name: 'GET /action-items/export.csv',
    method: 'get',
    path: () => '/action-items/export.csv',
    expect: { default: 200 },
  },
  {
    name: 'POST /action-items',
    method: 'post',
    path: () => '/action-items',
    body: () => ({ title: 'Follow up', ownerId: OWNER.id, dueDate: '2031-03-31' }),
    expect: managers(201),
  },
  {
    name: 'GET /action-items/:id (joint)',
    method: 'get',
    path: async (app, u) => `/action-items/${await freshActionItem(app, u)}`,
    expect: { default: 200 },
  },
  {
    name: 'GET /action-items/:id (India only)',
    method: 'get',
    path: async (app, u) => `/action-items/${await freshActionItem(app, u, 'IN')}`,
    expect: indiaOnly(200),
  },
  {
    name: 'PATCH /action-items/:id (status of an item delegate.in owns)',
    method: 'patch',
    path: async (app, u) => `/action-items/${await freshActionItem(app, u)}`,
    body: () => ({ status: 'in_progress' }),
    expect: { ...managers(200), 'delegate.in': 200 },
  },
  {
    name: 'PATCH /action-items/:id (due date, by its owner too)',
    method: 'patch',
    path: async (app, u) => `/action-items/${await freshActionItem(app, u)}`,
    body: () => ({ dueDate: '2031-01-31' }),
    expect: managers(200),
  },
  {
    name: 'PATCH /action-items/:id (India only)',
    method: 'patch',
    path: async (app, u) => `/action-items/${await freshActionItem(app, u, 'IN')}`,
    body: () => ({ status: 'blocked' }),
    expect: {
      default: 403,
      'dsa.in': 200,
      'sec.in': 200,
      'delegate.in': 200,
      'dsa.us': 404,
      'sec.us': 404,
      'delegate.us': 404,
    },
  },
  {
    name: 'GET /action-items/:id/updates',
    method: 'get',
    path: async (app, u) => `/action-items/${await freshActionItem(app, u)}/updates`,
    expect: { default: 200 },
  },
  {
    name: 'POST /action-items/:id/updates',
    method: 'post',
    path: async (app, u) => `/action-items/${await freshActionItem(app, u)}/updates`,
    body: () => ({ note: 'Progress' }),
    expect: { ...managers(201), 'delegate.in': 201 },
  },

  // Notes
  ...NOTE_PARENTS.flatMap(([parent, create]): RouteCase[] => [
    {
      name: `GET /${parent}/:id/notes`,
      method: 'get',
      path: async (app, u) => `/${parent}/${await create(app, u)}/notes`,
      expect: { default: 200 },
    },
    {
      name: `POST /${parent}/:id/notes`,
      method: 'post',
      path: async (app, u) => `/${parent}/${await create(app, u)}/notes`,
      body: () => ({ body: 'Internal' }),
      expect: { default: 201, admin: 403, 'observer.in': 403, 'observer.us': 403 },
    },
  ]),
  {
    name: 'GET /action-items/:id/notes (India only)',
    method: 'get',
    path: async (app, u) => `/action-items/${await freshActionItem(app, u, 'IN')}/notes`,
    expect: indiaOnly(200),
  },
  {
    name: 'POST /policy-items/:id/notes (India only)',
    method: 'post',
    path: async (app, u) => `/policy-items/${await freshPolicyItem(app, u, 'IN')}/notes`,
    body: () => ({ body: 'Internal' }),
    expect: {
      default: 404,
      'dsa.in': 201,
      'sec.in': 201,
      'delegate.in': 201,
      'observer.in': 403,
      'observer.us': 403,
      admin: 403,
    },
  },

  // Notifications, reminders, calendar
  {
    name: 'GET /me/notifications',
    method: 'get',
    path: () => '/me/notifications?unread=true',
    expect: { default: 200 },
  },
  {
    name: 'POST /me/notifications/:id/read (not one of yours)',
    method: 'post',
    path: () => '/me/notifications/00000000-0000-4000-8000-000000000000/read',
    expect: { default: 404 },
  },
  {
    name: 'GET /reminders/preview',
    method: 'get',
    path: () => '/reminders/preview?now=2030-01-01T09:00:00Z',
    expect: { default: 403, admin: 200 },
  },
  {
    name: 'POST /reminders/run',
    method: 'post',
    path: () => '/reminders/run',
    body: () => ({ now: '2030-01-01T09:00:00Z' }),
    expect: { default: 403, admin: 200 },
  },
  {
    name: 'POST /me/calendar-feed',
    method: 'post',
    path: () => '/me/calendar-feed',
    expect: { default: 201 },
  },
  {
    name: 'GET /calendar/:token.ics (unknown token, no bearer needed)',
    method: 'get',
    path: () => `/calendar/${'x'.repeat(43)}.ics`,
    expect: { default: 404, anonymous: 404 },
  },

  // Audit
  {
    name: 'GET /audit-events',
    method: 'get',
    path: () => '/audit-events',
    expect: { default: 403, admin: 200, 'dsa.in': 200, 'dsa.us': 200 },
  },
  {
    name: 'GET /audit-events/verify',
    method: 'get',
    path: () => '/audit-events/verify',
    expect: { default: 403, admin: 200 },
  },
];

/** The owner of the action items the matrix creates (set before the cases run). */
const OWNER = { id: '' };

describe('authorization matrix', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
    OWNER.id = await app.userId('delegate.in');
  });
  afterAll(() => app.close());

  const cases = ROUTES.flatMap((route) =>
    ACTORS.map((actor) => ({
      route,
      actor,
      status:
        actor === 'anonymous'
          ? (route.expect.anonymous ?? 401)
          : (route.expect[actor] ?? route.expect.default),
    })),
  );

  it.each(cases)('$route.name as $actor -> $status', async ({ route, actor, status }) => {
    const unique = fresh();
    const path = await route.path(app, unique);
    const req =
      actor === 'anonymous'
        ? app.http[route.method](`${API}${path}`)
        : app.as(actor, route.method, path);
    const res = await (route.body ? req.send(route.body(unique) as object) : req);
    expect(res.status).toBe(status);
    if (status >= 400) {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.status).toBe(status);
    }
  });

  it('logout works for every role and ends only that session', async () => {
    for (const account of ACCOUNTS) {
      const extra = await app.login(account);
      await app.http
        .post(`${API}/auth/logout`)
        .set('authorization', `Bearer ${extra.accessToken}`)
        .expect(204);
      await app.http
        .get(`${API}/me`)
        .set('authorization', `Bearer ${extra.accessToken}`)
        .expect(401);
      await app.as(account, 'get', '/me').expect(200);
    }
    await app.http.post(`${API}/auth/logout`).expect(401);
  });

  describe('checks run in the order 401, 403 (role), 400, 404', () => {
    it('anonymous with an invalid body is 401, not 400', async () => {
      await app.http.post(`${API}/users`).send({ bogus: true }).expect(401);
    });

    it('a role without the permission and an invalid body is 403, not 400', async () => {
      await app.as('observer.in', 'post', '/users').send({ bogus: true }).expect(403);
      await app.as('sec.us', 'patch', '/working-group').send({ cadenceMonths: 'x' }).expect(403);
    });

    it('an allowed role with an invalid body is 400, before 404 for an unknown record', async () => {
      await app
        .as('admin', 'patch', '/users/00000000-0000-4000-8000-000000000000')
        .send({ role: 'emperor' })
        .expect(400);
      await app
        .as('admin', 'patch', '/users/00000000-0000-4000-8000-000000000000')
        .send({ displayName: 'x' })
        .expect(404);
    });

    it('a DSA acting on the other delegation with a valid body is 403 (record level)', async () => {
      const target = await app.userId('delegate.in');
      await app.as('dsa.us', 'patch', `/users/${target}`).send({ active: false }).expect(403);
      const res = await app.as('admin', 'get', `/users/${target}`).expect(200);
      expect(res.body.active).toBe(true);
    });
  });
});
