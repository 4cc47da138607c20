import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestApp, type TestApp } from '../support/test-app.js';

const newUser = (username: string, extra: Record<string, unknown> = {}) => ({
  username,
  displayName: `User ${username}`,
  role: 'delegate',
  delegation: 'IN',
  password: 'a-long-password',
  ...extra,
});

describe('users, delegations and the working group', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  describe('GET /users (the directory)', () => {
    it('shows email and timezone only to the user, admin and their own DSA', async () => {
      const id = await app.userId('delegate.in');
      const see = async (account: string) =>
        (await app.as(account, 'get', `/users/${id}`).expect(200)).body;
      for (const account of ['delegate.in', 'admin', 'dsa.in']) {
        const body = await see(account);
        expect(body.timezone).toBe('Asia/Kolkata');
        expect(body).toHaveProperty('email');
      }
      for (const account of ['dsa.us', 'sec.in', 'delegate.us', 'observer.in']) {
        const body = await see(account);
        expect(body).not.toHaveProperty('timezone');
        expect(body).not.toHaveProperty('email');
        expect(body.displayName).toBe('IN Delegate');
      }
      const list = await app.as('observer.us', 'get', '/users').expect(200);
      const entry = list.body.data.find((u: { id: string }) => u.id === id);
      expect(entry).not.toHaveProperty('email');
      expect(Object.keys(entry).sort()).toEqual(
        [
          'active',
          'createdAt',
          'delegation',
          'displayName',
          'id',
          'role',
          'updatedAt',
          'username',
          'version',
        ].sort(),
      );
    });

    it('pages through every user once with keyset cursors', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: { data: { username: string }[]; nextCursor: string | null } } = await app
          .as('observer.in', 'get', '/users')
          .query(cursor ? { limit: 2, cursor } : { limit: 2 })
          .expect(200);
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.data.map((u: { username: string }) => u.username));
        cursor = res.body.nextCursor;
      } while (cursor);
      const all = await app.as('observer.in', 'get', '/users?limit=200').expect(200);
      expect(seen).toEqual(all.body.data.map((u: { username: string }) => u.username));
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual([...seen].sort());
    });

    it('filters by role and delegation', async () => {
      const res = await app.as('sec.in', 'get', '/users?role=dsa&delegation=US').expect(200);
      expect(res.body.data.map((u: { username: string }) => u.username)).toEqual(['dsa.us']);
    });

    it.each([
      ['limit=0'],
      ['limit=201'],
      ['limit=abc'],
      ['cursor=not-a-cursor'],
      ['role=emperor'],
      ['sort=username'],
      ['unknown=1'],
    ])('rejects ?%s with 400 and errors', async (query) => {
      const res = await app.as('sec.in', 'get', `/users?${query}`).expect(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    });

    it('answers 404 for an unknown id', async () => {
      await app.as('sec.in', 'get', '/users/00000000-0000-4000-8000-000000000000').expect(404);
      await app.as('sec.in', 'get', '/users/not-a-uuid').expect(404);
    });
  });

  describe('POST /users', () => {
    it('creates a user with its delegation default timezone and a lower-case username', async () => {
      const res = await app
        .as('dsa.us', 'post', '/users')
        .send(newUser('New.Person', { delegation: 'US' }))
        .expect(201);
      expect(res.body).toMatchObject({
        username: 'new.person',
        role: 'delegate',
        delegation: 'US',
        timezone: 'America/New_York',
        active: true,
        version: 1,
      });
      expect(res.headers.etag).toBe('"1"');
      await app.login('NEW.PERSON', 'a-long-password');
      const indian = await app
        .as('admin', 'post', '/users')
        .send(newUser('new.indian'))
        .expect(201);
      expect(indian.body.timezone).toBe('Asia/Kolkata');
      const admin = await app
        .as('admin', 'post', '/users')
        .send(newUser('new.admin', { role: 'admin', delegation: null }))
        .expect(201);
      expect(admin.body.timezone).toBe('UTC');
    });

    it('refuses a taken username with 409, whatever its case', async () => {
      await app.as('admin', 'post', '/users').send(newUser('Sec.IN')).expect(409);
    });

    it.each([
      ['admin with a delegation', { role: 'admin', delegation: 'IN' }],
      ['delegate without a delegation', { delegation: null }],
      ['unknown delegation', { delegation: 'UK' }],
      ['unknown role', { role: 'king' }],
      ['bad timezone', { timezone: 'Mars/Olympus' }],
      ['bad email', { email: 'nope' }],
      ['short password', { password: 'short' }],
      ['mass-assigned id', { id: '00000000-0000-4000-8000-000000000000' }],
      ['mass-assigned version', { version: 7 }],
      ['mass-assigned active', { active: false }],
      ['username with spaces', { username: 'two words' }],
      ['overlong display name', { displayName: 'x'.repeat(201) }],
    ])('rejects %s with 400 and writes nothing', async (_name, extra) => {
      const username = `bad.${Math.random().toString(36).slice(2, 8)}`;
      const res = await app
        .as('admin', 'post', '/users')
        .send(newUser(username, extra))
        .expect(400);
      expect(res.body.status).toBe(400);
      const list = await app.as('admin', 'get', '/users?limit=200').expect(200);
      expect(list.body.data.some((u: { username: string }) => u.username === username)).toBe(false);
    });

    it('gives errors[] with the field for validation failures', async () => {
      const res = await app
        .as('admin', 'post', '/users')
        .send({ username: 'x1', role: 'delegate', delegation: 'IN', password: 1, extra: true })
        .expect(400);
      const fields = res.body.errors.map((e: { field: string }) => e.field);
      expect(fields).toEqual(expect.arrayContaining(['displayName', 'password', 'extra']));
    });

    it('never returns a password hash', async () => {
      const res = await app.as('admin', 'post', '/users').send(newUser('hash.check')).expect(201);
      const list = await app.as('admin', 'get', '/users?limit=200').expect(200);
      for (const text of [res.text, list.text]) {
        expect(text).not.toMatch(/argon2|passwordHash|password_hash|tokenVersion/);
      }
    });
  });

  describe('one active DSA per delegation', () => {
    it('refuses to promote a second DSA or reactivate one while another is active', async () => {
      const id = (
        await app.as('admin', 'post', '/users').send(newUser('dsa.candidate')).expect(201)
      ).body.id;
      await app.as('admin', 'patch', `/users/${id}`).send({ role: 'dsa' }).expect(409);
      const dsaIn = await app.userId('dsa.in');
      await app.as('admin', 'patch', `/users/${dsaIn}`).send({ active: false }).expect(200);
      let delegations = await app.as('observer.in', 'get', '/delegations').expect(200);
      expect(delegations.body.data.find((d: { code: string }) => d.code === 'IN').dsa).toBeNull();
      await app.as('admin', 'patch', `/users/${id}`).send({ role: 'dsa' }).expect(200);
      delegations = await app.as('observer.in', 'get', '/delegations').expect(200);
      expect(delegations.body.data.find((d: { code: string }) => d.code === 'IN').dsa).toEqual({
        id,
        displayName: 'User dsa.candidate',
      });
      await app.as('admin', 'patch', `/users/${dsaIn}`).send({ active: true }).expect(409);
      // restore the seeded DSA for the other tests
      await app.as('admin', 'patch', `/users/${id}`).send({ active: false }).expect(200);
      await app.as('admin', 'patch', `/users/${dsaIn}`).send({ active: true }).expect(200);
      await app.signIn('dsa.in');
    });

    it('keeps a single active DSA when two promotions race', async () => {
      const dsaUs = await app.userId('dsa.us');
      await app.as('admin', 'patch', `/users/${dsaUs}`).send({ active: false }).expect(200);
      const a = (
        await app
          .as('admin', 'post', '/users')
          .send(newUser('race.a', { delegation: 'US' }))
          .expect(201)
      ).body.id;
      const b = (
        await app
          .as('admin', 'post', '/users')
          .send(newUser('race.b', { delegation: 'US' }))
          .expect(201)
      ).body.id;
      const results = await Promise.all(
        [a, b].map((id) => app.as('admin', 'patch', `/users/${id}`).send({ role: 'dsa' })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      const dsas = await app.as('admin', 'get', '/users?role=dsa&delegation=US').expect(200);
      expect(dsas.body.data.filter((u: { active: boolean }) => u.active)).toHaveLength(1);
      for (const id of [a, b]) {
        await app.as('admin', 'patch', `/users/${id}`).send({ role: 'delegate' }).expect(200);
      }
      await app.as('admin', 'patch', `/users/${dsaUs}`).send({ active: true }).expect(200);
      await app.signIn('dsa.us');
    });
  });

  describe('PATCH /users/:id', () => {
    it('lets users edit their own profile but not their role or activation', async () => {
      const id = await app.userId('observer.us');
      const res = await app
        .as('observer.us', 'patch', `/users/${id}`)
        .send({ timezone: 'America/Chicago', email: 'observer@example.org' })
        .expect(200);
      expect(res.body).toMatchObject({
        timezone: 'America/Chicago',
        email: 'observer@example.org',
      });
      await app
        .as('observer.us', 'patch', `/users/${id}`)
        .send({ role: 'secretariat' })
        .expect(403);
      await app.as('observer.us', 'patch', `/users/${id}`).send({ active: false }).expect(403);
    });

    it('refuses delegation changes and other unknown fields', async () => {
      const id = await app.userId('sec.in');
      await app.as('admin', 'patch', `/users/${id}`).send({ delegation: 'US' }).expect(400);
      await app.as('admin', 'patch', `/users/${id}`).send({ passwordHash: 'x' }).expect(400);
    });

    it('refuses to let a DSA grant dsa or admin, or manage the other delegation', async () => {
      const id = (await app.as('dsa.in', 'post', '/users').send(newUser('grant.me')).expect(201))
        .body.id;
      await app.as('dsa.in', 'patch', `/users/${id}`).send({ role: 'dsa' }).expect(403);
      await app.as('dsa.in', 'patch', `/users/${id}`).send({ role: 'admin' }).expect(400);
      await app.as('dsa.us', 'patch', `/users/${id}`).send({ displayName: 'Mine now' }).expect(403);
      await app.as('dsa.in', 'patch', `/users/${id}`).send({ role: 'secretariat' }).expect(200);
    });

    it('checks If-Match against the version in the same write', async () => {
      const id = (await app.as('admin', 'post', '/users').send(newUser('etag.user')).expect(201))
        .body.id;
      const get = await app.as('admin', 'get', `/users/${id}`).expect(200);
      expect(get.headers.etag).toBe('"1"');
      await app
        .as('admin', 'patch', `/users/${id}`)
        .set('if-match', '"7"')
        .send({ displayName: 'A' })
        .expect(412);
      await app
        .as('admin', 'patch', `/users/${id}`)
        .set('if-match', 'W/"1"')
        .send({ displayName: 'A' })
        .expect(412);
      const ok = await app
        .as('admin', 'patch', `/users/${id}`)
        .set('if-match', '"1"')
        .send({ displayName: 'A' })
        .expect(200);
      expect(ok.body.version).toBe(2);
      expect(ok.headers.etag).toBe('"2"');
      const racing = await Promise.all(
        ['B', 'C'].map((name) =>
          app
            .as('admin', 'patch', `/users/${id}`)
            .set('if-match', '"2"')
            .send({ displayName: name }),
        ),
      );
      expect(racing.map((r) => r.status).sort()).toEqual([200, 412]);
      const after = await app.as('admin', 'get', `/users/${id}`).expect(200);
      expect(after.body.version).toBe(3);
    });

    it('refuses to deactivate or demote the last active admin', async () => {
      const list = await app.as('admin', 'get', '/users?role=admin').expect(200);
      for (const other of list.body.data.filter(
        (u: { username: string }) => u.username !== 'admin',
      )) {
        await app.as('admin', 'patch', `/users/${other.id}`).send({ active: false }).expect(200);
      }
      const adminId = await app.userId('admin');
      await app.as('admin', 'patch', `/users/${adminId}`).send({ active: false }).expect(409);
      await app.as('admin', 'patch', `/users/${adminId}`).send({ role: 'observer' }).expect(400);
      await app.as('admin', 'get', '/me').expect(200);
    });
  });

  describe('GET /delegations', () => {
    it('lists both delegations with their DSA', async () => {
      const res = await app.as('observer.us', 'get', '/delegations').expect(200);
      expect(res.body).toEqual({
        data: [
          {
            code: 'IN',
            name: 'India',
            dsa: { id: await app.userId('dsa.in'), displayName: 'Anurag Bajpai' },
          },
          {
            code: 'US',
            name: 'United States',
            dsa: { id: await app.userId('dsa.us'), displayName: 'David Paul Bagnati' },
          },
        ],
        nextCursor: null,
      });
      const first = await app.as('observer.us', 'get', '/delegations?limit=1').expect(200);
      expect(first.body.data.map((d: { code: string }) => d.code)).toEqual(['IN']);
      const second = await app
        .as('observer.us', 'get', '/delegations')
        .query({ limit: 1, cursor: first.body.nextCursor })
        .expect(200);
      expect(second.body).toMatchObject({ data: [{ code: 'US' }], nextCursor: null });
      await app.as('observer.us', 'get', '/delegations?limit=500').expect(400);
    });
  });

  describe('/working-group', () => {
    it('reads the seeded group and lets a DSA change the cadence with If-Match', async () => {
      const get = await app.as('delegate.us', 'get', '/working-group').expect(200);
      expect(get.body).toMatchObject({
        name: 'Indo-US Industrial Security Joint Working Group',
        cadenceMonths: 6,
      });
      expect(get.body.mandate).toMatch(/align the policies and procedures/);
      const etag = get.headers.etag;
      expect(etag).toBe(`"${get.body.version}"`);
      const res = await app
        .as('dsa.us', 'patch', '/working-group')
        .set('if-match', etag)
        .send({ cadenceMonths: 4 })
        .expect(200);
      expect(res.body.cadenceMonths).toBe(4);
      await app
        .as('dsa.in', 'patch', '/working-group')
        .set('if-match', etag)
        .send({ cadenceMonths: 5 })
        .expect(412);
      for (const body of [
        { cadenceMonths: 0 },
        { cadenceMonths: 1.5 },
        { name: '' },
        { id: 'x' },
      ]) {
        await app.as('dsa.in', 'patch', '/working-group').send(body).expect(400);
      }
      const after = await app.as('sec.in', 'get', '/working-group').expect(200);
      expect(after.body.cadenceMonths).toBe(4);
    });
  });
});
