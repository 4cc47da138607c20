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
];

describe('authorization matrix', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  const cases = ROUTES.flatMap((route) =>
    ACTORS.map((actor) => ({
      route,
      actor,
      status: actor === 'anonymous' ? 401 : (route.expect[actor] ?? route.expect.default),
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
