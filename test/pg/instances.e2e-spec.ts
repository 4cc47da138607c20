import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type Body,
  call,
  login,
  type Service,
  startService,
  stopService,
} from '../support/service-process.js';
import {
  freshSchema,
  TEST_JWT_SECRET,
  type TestSchema,
  withClient,
} from '../support/test-database.js';

/*
 * Two instances of the built service on one PostgreSQL schema, as behind a load balancer:
 * whatever one does, the other must respect. Runs under `npm run test:pg`.
 */
describe('two instances on one PostgreSQL database', () => {
  let schema: TestSchema;
  let a: Service;
  let b: Service;

  beforeAll(async () => {
    schema = freshSchema();
    const env = { DATABASE_URL: schema.url, JWT_SECRET: TEST_JWT_SECRET };
    // Started together on an empty schema: one migrates and seeds, the other waits its turn
    // and finds the work done.
    [a, b] = await Promise.all([startService('', env), startService('', env)]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a, b].filter(Boolean).map((service) => stopService(service, 'SIGTERM')));
    await schema.drop();
  });

  it('started both on one schema, migrated and seeded once', async () => {
    const counts = await withClient(async (client) => {
      const users = await client.query(`SELECT count(*)::int AS n FROM ${schema.name}.users`);
      const migrations = await client.query(
        `SELECT name, count(*)::int AS n FROM ${schema.name}.migrations GROUP BY name`,
      );
      return { users: users.rows[0].n as number, migrations: migrations.rows as Body[] };
    });
    expect(counts.users).toBe(9);
    expect(counts.migrations.every((m) => m.n === 1)).toBe(true);
  });

  it('refuses on one instance a refresh token rotated on the other', async () => {
    const first = await call(a, 'POST', '/auth/login', {
      body: { username: 'delegate.in', password: 'service-test-seed-password' },
    });
    expect(first.status).toBe(200);
    const rotated = await call(a, 'POST', '/auth/refresh', {
      body: { refreshToken: first.body.refreshToken },
    });
    expect(rotated.status).toBe(200);
    const replayed = await call(b, 'POST', '/auth/refresh', {
      body: { refreshToken: first.body.refreshToken },
    });
    expect(replayed.status).toBe(401);
    // Reuse of a spent token ends the whole family, on every instance.
    const after = await call(b, 'POST', '/auth/refresh', {
      body: { refreshToken: rotated.body.refreshToken },
    });
    expect(after.status).toBe(401);
    const me = await call(a, 'GET', '/me', { token: rotated.body.accessToken as string });
    expect(me.status).toBe(401);
  });

  it('gives one 200 and one 412 to two PATCHes with the same If-Match on different instances', async () => {
    const secretariat = await login(a, 'sec.in');
    const owner = await call(a, 'GET', '/users?limit=100', { token: secretariat });
    const delegate = (owner.body.data as Body[]).find((u) => u.username === 'delegate.in')!;
    for (let round = 0; round < 5; round += 1) {
      const created = await call(a, 'POST', '/action-items', {
        token: secretariat,
        body: { title: `Raced ${round}`, ownerId: delegate.id, dueDate: '2031-03-01' },
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const patch = (service: Service, title: string) =>
        fetch(`${service.base}/api/v1/action-items/${id}`, {
          method: 'PATCH',
          headers: {
            authorization: `Bearer ${secretariat}`,
            'content-type': 'application/json',
            'if-match': `"${created.body.version as number}"`,
          },
          body: JSON.stringify({ title }),
        });
      const answers = await Promise.all([patch(a, 'From A'), patch(b, 'From B')]);
      expect(answers.map((res) => res.status).sort()).toEqual([200, 412]);
      const winner = answers.find((res) => res.status === 200)!;
      const stored = await call(b, 'GET', `/action-items/${id}`, { token: secretariat });
      expect(stored.body.title).toBe(((await winner.json()) as Body).title);
      expect(stored.body.version).toBe((created.body.version as number) + 1);
    }
  });

  it('delivers each reminder once when both run a pass at the same moment', async () => {
    const secretariat = await login(a, 'sec.in');
    const admin = await login(b, 'admin');
    const users = await call(a, 'GET', '/users?limit=100', { token: secretariat });
    const owners = (users.body.data as Body[]).filter((u) =>
      ['delegate.in', 'dsa.in', 'sec.in'].includes(u.username as string),
    );
    const ids: string[] = [];
    for (let i = 0; i < 60; i += 1) {
      const created = await call(i % 2 ? a : b, 'POST', '/action-items', {
        token: secretariat,
        body: {
          title: `Reminded ${i}`,
          ownerId: owners[i % owners.length].id,
          dueDate: '2032-01-17',
        },
      });
      expect(created.status).toBe(201);
      ids.push(created.body.id as string);
    }
    // 08:00 in India on 2032-01-10, seven days before the due date.
    const now = '2032-01-10T02:30:00Z';
    const [fromA, fromB] = await Promise.all(
      [a, b].map((service) =>
        call(service, 'POST', '/reminders/run', { token: admin, body: { now } }),
      ),
    );
    expect([fromA.status, fromB.status]).toEqual([200, 200]);
    const delivered = [...(fromA.body.data as Body[]), ...(fromB.body.data as Body[])].filter((r) =>
      ids.includes(r.subjectId as string),
    );
    expect(delivered).toHaveLength(ids.length);
    expect(new Set(delivered.map((r) => r.subjectId)).size).toBe(ids.length);

    const perSubject = await withClient((client) =>
      client.query(
        `SELECT subject_id, count(*)::int AS n FROM ${schema.name}.notifications
         WHERE subject_id = ANY($1) GROUP BY subject_id`,
        [ids],
      ),
    );
    expect(perSubject.rows).toHaveLength(ids.length);
    expect(perSubject.rows.every((row: Body) => row.n === 1)).toBe(true);
  });

  it('keeps one audit chain that verifies after all of it', async () => {
    const admin = await login(b, 'admin');
    const report = await call(a, 'GET', '/audit-events/verify', { token: admin });
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ ok: true });
    expect(report.body.checked as number).toBeGreaterThan(60);
  });
});
