import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Response } from 'supertest';
import {
  API,
  createTestApp,
  SEED_PASSWORD,
  type TestApp,
  type Tokens,
} from '../support/test-app.js';

const LOGIN = `${API}/auth/login`;
const REFRESH = `${API}/auth/refresh`;
const LOGOUT = `${API}/auth/logout`;
const PROBLEM_JSON = /^application\/problem\+json/;
const MINUTE_MS = 60 * 1000;

interface LockoutRow {
  username: string;
  failures: number;
  window_started_at: string;
  locked_until: string | null;
  lock_count: number;
}

/** What the tests read of a response, from supertest or from postFrom(). */
interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
  text: string;
}

function expectProblem(res: Reply, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(res.body).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
  });
}

function expectTokenPair(res: Reply): Tokens {
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(Object.keys(res.body as object).sort()).toEqual(
    ['accessToken', 'expiresIn', 'refreshToken', 'tokenType'].sort(),
  );
  expect(res.body).toEqual({
    accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
    refreshToken: expect.stringMatching(/^[\w-]{20,}$/),
    tokenType: 'Bearer',
    expiresIn: 900,
  });
  return res.body as Tokens;
}

function retryAfterSeconds(res: Reply): number {
  const header = res.headers['retry-after'];
  expect(header).toMatch(/^\d+$/);
  return Number(header);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * A JSON POST from another loopback address (127.0.0.0/8 all reaches the server), so the
 * service sees a different client address without trusting any proxy header.
 */
async function postFrom(app: TestApp, address: string, path: string, body: object): Promise<Reply> {
  const server: Server = app.app.getHttpServer();
  if (!server.listening) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }
  const { port } = server.address() as AddressInfo;
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        localAddress: address,
        agent: false,
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text ? (JSON.parse(text) as unknown) : undefined,
            text,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('auth', () => {
  let app: TestApp;
  let seq = 0;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  const login = (username: string, password: string) =>
    app.http.post(LOGIN).send({ username, password });
  const refresh = (refreshToken: string) => app.http.post(REFRESH).send({ refreshToken });
  const me = (accessToken: string) =>
    app.http.get(`${API}/me`).set('authorization', `Bearer ${accessToken}`);

  const loginFrom = (address: string, username: string, password: string) =>
    postFrom(app, address, LOGIN, { username, password });

  /** A fresh account (delegate, IN) so that lockouts and sessions never cross tests. */
  async function freshUser(prefix = 'auth'): Promise<{ id: string; username: string }> {
    seq += 1;
    const username = `${prefix}-${seq}`;
    const id = await app.createUser({ username, role: 'delegate', delegation: 'IN' });
    return { id, username };
  }

  async function lockoutRow(username: string): Promise<LockoutRow | undefined> {
    const rows = await app.query<LockoutRow>('SELECT * FROM login_lockouts WHERE username = ?', [
      username,
    ]);
    return rows[0];
  }

  /** Moves a lock (and its failure window) into the past, as if its period had run out. */
  async function expireLock(username: string): Promise<void> {
    const past = new Date(Date.now() - 20 * MINUTE_MS).toISOString();
    await app.query(
      'UPDATE login_lockouts SET locked_until = ?, window_started_at = ? WHERE username = ?',
      [new Date(Date.now() - 1000).toISOString(), past, username],
    );
  }

  async function failLogins(username: string, times: number): Promise<void> {
    for (let i = 0; i < times; i += 1) {
      const res = await login(username, 'wrong-password');
      expectProblem(res, 401);
    }
  }

  describe('login', () => {
    it('answers 200 with a Bearer token pair that works', async () => {
      const res = await login('sec.in', SEED_PASSWORD);
      const tokens = expectTokenPair(res);
      const decoded = jwt.decode(tokens.accessToken, { complete: true });
      expect(decoded?.header.alg).toBe('HS256');
      const claims = decoded?.payload as jwt.JwtPayload;
      expect(claims.exp! - claims.iat!).toBe(900);
      const who = await me(tokens.accessToken).expect(200);
      expect(who.body.username).toBe('sec.in');
    });

    it('takes the username case-insensitively', async () => {
      const upper = expectTokenPair(await login('SEC.US', SEED_PASSWORD));
      const mixed = expectTokenPair(await login('Sec.Us', SEED_PASSWORD));
      expect((await me(upper.accessToken).expect(200)).body.username).toBe('sec.us');
      expect((await me(mixed.accessToken).expect(200)).body.username).toBe('sec.us');

      const { username } = await freshUser('Mixed.Case');
      expect(username).not.toBe(username.toLowerCase());
      expectTokenPair(await login(username.toLowerCase(), SEED_PASSWORD));
      expectTokenPair(await login(username.toUpperCase(), SEED_PASSWORD));
    });

    it('gives an unknown user and a wrong password the same 401, in similar time', async () => {
      const unknown = await login('nobody-at-all', SEED_PASSWORD);
      const wrong = await login('observer.in', 'not-the-password');
      expectProblem(unknown, 401);
      expectProblem(wrong, 401);
      expect(wrong.text).toBe(unknown.text);
      expect(wrong.headers['content-type']).toBe(unknown.headers['content-type']);
      expect(unknown.body).toEqual({
        type: 'about:blank',
        title: 'Unauthorized',
        status: 401,
        detail: expect.any(String),
      });
      expect(unknown.body.detail).not.toMatch(/unknown|exist|found/i);

      // One wrong password per account so that no lockout shortens a measurement.
      const accounts = ['observer.us', 'delegate.in', 'delegate.us', 'sec.in', 'sec.us'];
      const unknownMs: number[] = [];
      const wrongMs: number[] = [];
      for (const [i, account] of accounts.entries()) {
        let start = performance.now();
        const a = await login(`nobody-${i}`, 'not-the-password');
        unknownMs.push(performance.now() - start);
        start = performance.now();
        const b = await login(account, 'not-the-password');
        wrongMs.push(performance.now() - start);
        expect(a.status).toBe(401);
        expect(b.text).toBe(a.text);
      }
      const [slow, fast] = [median(unknownMs), median(wrongMs)].sort((x, y) => y - x);
      expect(slow / fast).toBeLessThan(3);
    });

    it('answers a malformed body 400 with errors[] (415 for non-JSON), never 401', async () => {
      const probe = 'malformed-probe';
      const missing = await app.http.post(LOGIN).send({ username: probe });
      expectProblem(missing, 400);
      expect(missing.body.errors).toEqual(
        expect.arrayContaining([{ field: 'password', message: expect.any(String) }]),
      );

      const wrongType = await app.http.post(LOGIN).send({ username: 42, password: SEED_PASSWORD });
      expectProblem(wrongType, 400);
      expect(wrongType.body.errors).toEqual(
        expect.arrayContaining([{ field: 'username', message: expect.any(String) }]),
      );

      const extra = await app.http
        .post(LOGIN)
        .send({ username: probe, password: SEED_PASSWORD, admin: true });
      expectProblem(extra, 400);
      expect(extra.body.errors).toEqual(
        expect.arrayContaining([{ field: 'admin', message: expect.any(String) }]),
      );

      for (const body of [{}, [], { username: '', password: '' }]) {
        const res = await app.http.post(LOGIN).send(body);
        expectProblem(res, 400);
        expect(res.body.errors.length).toBeGreaterThan(0);
      }

      const notJson = await app.http
        .post(LOGIN)
        .set('content-type', 'text/plain')
        .send(`username=${probe}&password=${SEED_PASSWORD}`);
      expectProblem(notJson, 415);

      const form = await app.http
        .post(LOGIN)
        .type('form')
        .send({ username: probe, password: SEED_PASSWORD });
      expectProblem(form, 415);

      const badJson = await app.http
        .post(LOGIN)
        .set('content-type', 'application/json')
        .send('{"username": "sec.in",');
      expectProblem(badJson, 400);

      const noBody = await app.http.post(LOGIN);
      expectProblem(noBody, 400);

      // A malformed body is no sign-in attempt: it does not count towards a lockout.
      expect(await lockoutRow(probe)).toBeUndefined();
    });
  });

  describe('lockout', () => {
    it('locks an account after 5 failures in 15 minutes: 429 with Retry-After, even with the right password', async () => {
      const { username } = await freshUser();
      await failLogins(username, 4);
      expectTokenPair(await login(username, SEED_PASSWORD));
      // A success clears the count: four more failures do not lock yet.
      await failLogins(username, 4);
      expect((await lockoutRow(username))?.locked_until).toBeNull();
      await failLogins(username, 1);

      const right = await login(username, SEED_PASSWORD);
      expectProblem(right, 429);
      const seconds = retryAfterSeconds(right);
      expect(seconds).toBeGreaterThan(14 * 60);
      expect(seconds).toBeLessThanOrEqual(15 * 60);
      // Mixed case is the same account.
      expectProblem(await login(username.toUpperCase(), SEED_PASSWORD), 429);
      expectProblem(await login(username, 'wrong-password'), 429);
    });

    it('counts a parallel burst of guesses before checking them: no more than 5 get through', async () => {
      const { username } = await freshUser();
      const burst = await Promise.all(
        Array.from({ length: 10 }, (_, i) => login(username, `wrong-password-${i}`)),
      );
      const statuses = burst.map((res) => res.status).sort();
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);
      for (const res of burst) {
        expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      }
      expectProblem(await login(username, SEED_PASSWORD), 429);
    });

    it('locks an unknown username the same way', async () => {
      const ghost = `ghost-${Date.now()}`;
      await failLogins(ghost, 5);
      const res = await login(ghost, 'anything-at-all');
      expectProblem(res, 429);
      expect(retryAfterSeconds(res)).toBeGreaterThan(14 * 60);
    });

    it('locks per account, whatever address the attempts come from', async () => {
      const { username } = await freshUser();
      for (let i = 1; i <= 5; i += 1) {
        expectProblem(await loginFrom(`127.0.1.${i}`, username, 'wrong-password'), 401);
      }
      const elsewhere = await loginFrom('127.0.2.77', username, SEED_PASSWORD);
      expectProblem(elsewhere, 429);
      expect(retryAfterSeconds(elsewhere)).toBeGreaterThan(14 * 60);
      // The usual address is locked out too; another account is not.
      expectProblem(await login(username, SEED_PASSWORD), 429);
      expectTokenPair(await loginFrom('127.0.1.1', 'dsa.us', SEED_PASSWORD));
    });

    it('lets the right password in again once the lock is over', async () => {
      const { username } = await freshUser();
      await failLogins(username, 5);
      expectProblem(await login(username, SEED_PASSWORD), 429);
      await expireLock(username);
      expectTokenPair(await login(username, SEED_PASSWORD));
      expect(await lockoutRow(username)).toBeUndefined();
    });

    it('doubles the lock period with each further lock', async () => {
      const { username } = await freshUser();
      const lockAndMeasure = async (): Promise<number> => {
        const before = Date.now();
        await failLogins(username, 5);
        const row = await lockoutRow(username);
        expect(row?.locked_until).not.toBeNull();
        const lockMs = Date.parse(row!.locked_until!) - before;
        const res = await login(username, SEED_PASSWORD);
        expectProblem(res, 429);
        expect(retryAfterSeconds(res) * 1000).toBeGreaterThan(lockMs - 60 * 1000);
        return lockMs;
      };

      const first = await lockAndMeasure();
      expect(first).toBeGreaterThan(14.5 * MINUTE_MS);
      expect(first).toBeLessThanOrEqual(15 * MINUTE_MS + 30 * 1000);
      expect((await lockoutRow(username))?.lock_count).toBe(1);

      await expireLock(username);
      const second = await lockAndMeasure();
      expect(second / first).toBeGreaterThan(1.95);
      expect(second / first).toBeLessThan(2.05);
      expect((await lockoutRow(username))?.lock_count).toBe(2);

      await expireLock(username);
      const third = await lockAndMeasure();
      expect(third / second).toBeGreaterThan(1.95);
      expect(third / second).toBeLessThan(2.05);
    });
  });

  describe('refresh', () => {
    it('spends the old refresh token; its reuse revokes the whole family but no other session', async () => {
      const { username } = await freshUser();
      const first = await app.login(username);
      const other = await app.login(username);

      const second = expectTokenPair(await refresh(first.refreshToken));
      expect(second.refreshToken).not.toBe(first.refreshToken);
      await me(second.accessToken).expect(200);
      await me(first.accessToken).expect(200);
      const third = expectTokenPair(await refresh(second.refreshToken));

      // Reusing a spent token: 401, and every token of that session dies at once.
      expectProblem(await refresh(first.refreshToken), 401);
      expectProblem(await me(third.accessToken), 401);
      expectProblem(await me(second.accessToken), 401);
      expectProblem(await me(first.accessToken), 401);
      expectProblem(await refresh(third.refreshToken), 401);

      // The user's other session goes on.
      await me(other.accessToken).expect(200);
      expectTokenPair(await refresh(other.refreshToken));
    });

    it('answers 400 to a malformed refresh body and 401 to a malformed or unknown token', async () => {
      const missing = await app.http.post(REFRESH).send({});
      expectProblem(missing, 400);
      expect(missing.body.errors).toEqual(
        expect.arrayContaining([{ field: 'refreshToken', message: expect.any(String) }]),
      );
      expectProblem(await app.http.post(REFRESH).send({ refreshToken: 12 }), 400);
      expectProblem(
        await app.http.post(REFRESH).send({ refreshToken: 'x', accessToken: 'y' }),
        400,
      );
      expectProblem(
        await app.http.post(REFRESH).set('content-type', 'text/plain').send('abc'),
        415,
      );

      for (const token of [
        'not-a-token',
        Buffer.alloc(32, 7).toString('base64url'),
        'x'.repeat(500),
        '',
        app.token('sec.in'),
      ]) {
        expectProblem(await refresh(token), 401);
      }
    });
  });

  describe('token misuse', () => {
    let session: Tokens;
    let claims: jwt.JwtPayload;

    beforeAll(async () => {
      const { username } = await freshUser('misuse');
      session = await app.login(username);
      claims = jwt.decode(session.accessToken) as jwt.JwtPayload;
    });

    /** The claims of the real session, valid for ten more minutes, with `changes` applied. */
    function forgedClaims(changes: Record<string, unknown> = {}): Record<string, unknown> {
      const now = Math.floor(Date.now() / 1000);
      return {
        typ: claims.typ,
        sid: claims.sid,
        tv: claims.tv,
        sub: claims.sub,
        iss: claims.iss,
        aud: claims.aud,
        iat: now - 60,
        exp: now + 600,
        ...changes,
      };
    }

    function forge(
      changes: Record<string, unknown> = {},
      secret: jwt.Secret = app.config.jwtSecret,
      algorithm: jwt.Algorithm = 'HS256',
    ): string {
      return jwt.sign(forgedClaims(changes), secret, { algorithm });
    }

    it('accepts a token forged exactly like a real one (the control for the cases below)', async () => {
      expect(claims).toMatchObject({
        typ: 'access',
        iss: 'jwg-tracker',
        aud: 'jwg-tracker-api',
        sid: expect.any(String),
        tv: expect.any(Number),
      });
      await me(forge()).expect(200);
    });

    it('refuses an access token presented as a refresh token', async () => {
      expectProblem(await refresh(session.accessToken), 401);
      await me(session.accessToken).expect(200);
    });

    it('refuses a refresh token presented as a bearer token', async () => {
      expectProblem(await me(session.refreshToken), 401);
      // It stays a valid refresh token.
      expectTokenPair(await refresh(session.refreshToken));
    });

    it('refuses a JWT with alg none', async () => {
      const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(forgedClaims())}.`;
      expectProblem(await me(unsigned), 401);
      const noneSigned = jwt.sign(forgedClaims(), '', { algorithm: 'none' });
      expectProblem(await me(noneSigned), 401);
    });

    it('refuses a JWT signed with another secret', async () => {
      expectProblem(await me(forge({}, 'another-secret-that-is-long-enough-to-sign')), 401);
    });

    it('refuses an expired JWT', async () => {
      const now = Math.floor(Date.now() / 1000);
      expectProblem(await me(forge({ iat: now - 1000, exp: now - 60 })), 401);
    });

    it('refuses a wrong issuer or audience', async () => {
      expectProblem(await me(forge({ iss: 'someone-else' })), 401);
      expectProblem(await me(forge({ aud: 'another-api' })), 401);
      expectProblem(await me(forge({ iss: undefined })), 401);
      expectProblem(await me(forge({ aud: undefined })), 401);
    });

    it('refuses a typ other than access', async () => {
      expectProblem(await me(forge({ typ: 'refresh' })), 401);
      expectProblem(await me(forge({ typ: undefined })), 401);
    });

    it('refuses HS512 even with the right key', async () => {
      expectProblem(await me(forge({}, app.config.jwtSecret, 'HS512')), 401);
    });

    it('refuses a token whose session, user or token version does not match', async () => {
      const adminId = await app.userId('admin');
      expectProblem(await me(forge({ sub: adminId })), 401);
      expectProblem(await me(forge({ sid: '00000000-0000-4000-8000-000000000000' })), 401);
      expectProblem(await me(forge({ tv: Number(claims.tv) + 1 })), 401);
      expectProblem(await me(forge({ tv: String(claims.tv) })), 401);
    });

    it('refuses a request with no or a malformed Authorization header', async () => {
      expectProblem(await app.http.get(`${API}/me`), 401);
      expectProblem(await app.http.get(`${API}/users`), 401);
      expectProblem(await app.http.post(LOGOUT), 401);
      for (const header of [
        'Bearer',
        'Bearer ',
        'Bearer not.a.jwt',
        `Basic ${Buffer.from('sec.in:x').toString('base64')}`,
        session.accessToken,
      ]) {
        expectProblem(await app.http.get(`${API}/me`).set('authorization', header), 401);
      }
    });
  });

  describe('logout', () => {
    it('answers 204 and ends that session at once; the other session goes on', async () => {
      const { username } = await freshUser();
      const ending = await app.login(username);
      const staying = await app.login(username);

      const res = await app.http
        .post(LOGOUT)
        .set('authorization', `Bearer ${ending.accessToken}`)
        .expect(204);
      expect(res.text).toBe('');

      expectProblem(await me(ending.accessToken), 401);
      expectProblem(await refresh(ending.refreshToken), 401);
      expectProblem(
        await app.http.post(LOGOUT).set('authorization', `Bearer ${ending.accessToken}`),
        401,
      );

      await me(staying.accessToken).expect(200);
      expectTokenPair(await refresh(staying.refreshToken));
    });
  });

  describe('password change', () => {
    const changePassword = (accessToken: string, body: object) =>
      app.http.post(`${API}/me/password`).set('authorization', `Bearer ${accessToken}`).send(body);

    it('refuses a wrong current password and changes nothing', async () => {
      const { username } = await freshUser();
      const session = await app.login(username);
      const res = await changePassword(session.accessToken, {
        currentPassword: 'not-the-password',
        newPassword: 'a-brand-new-password',
      });
      // 400, not 401: the session is fine, the body is wrong.
      expectProblem(res, 400);
      expect(res.body.errors).toEqual([{ field: 'currentPassword', message: expect.any(String) }]);
      await me(session.accessToken).expect(200);
      expectTokenPair(await login(username, SEED_PASSWORD));
      expectProblem(await login(username, 'a-brand-new-password'), 401);
    });

    it('counts wrong current passwords against the lockout', async () => {
      const { username } = await freshUser();
      const session = await app.login(username);
      for (let i = 0; i < 5; i++) {
        expectProblem(
          await changePassword(session.accessToken, {
            currentPassword: `guess-${i}`,
            newPassword: 'a-brand-new-password',
          }),
          400,
        );
      }
      const locked = await changePassword(session.accessToken, {
        currentPassword: SEED_PASSWORD,
        newPassword: 'a-brand-new-password',
      });
      expectProblem(locked, 429);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      expectProblem(await login(username, SEED_PASSWORD), 429);
    });

    it('answers 400 to a malformed body', async () => {
      const { username } = await freshUser();
      const session = await app.login(username);
      const short = await changePassword(session.accessToken, {
        currentPassword: SEED_PASSWORD,
        newPassword: 'short',
      });
      expectProblem(short, 400);
      expect(short.body.errors).toEqual(
        expect.arrayContaining([{ field: 'newPassword', message: expect.any(String) }]),
      );
      expectProblem(
        await changePassword(session.accessToken, { newPassword: 'long-enough-1' }),
        400,
      );
      await me(session.accessToken).expect(200);
    });

    it('ends every session of the user, the caller included, and returns a working new pair', async () => {
      const { username } = await freshUser();
      const caller = await app.login(username);
      const other = await app.login(username);
      const newPassword = 'a-brand-new-password';

      const res = await changePassword(caller.accessToken, {
        currentPassword: SEED_PASSWORD,
        newPassword,
      });
      const fresh = expectTokenPair(res);

      for (const old of [caller, other]) {
        expectProblem(await me(old.accessToken), 401);
        expectProblem(await refresh(old.refreshToken), 401);
      }
      expectProblem(await me(app.token(username)), 401);

      expect((await me(fresh.accessToken).expect(200)).body.username).toBe(username);
      const renewed = expectTokenPair(await refresh(fresh.refreshToken));
      await me(renewed.accessToken).expect(200);

      expectProblem(await login(username, SEED_PASSWORD), 401);
      expectTokenPair(await login(username, newPassword));
    });
  });

  describe('role change and deactivation', () => {
    const patchUser = (id: string, body: object) =>
      app.as('admin', 'patch', `/users/${id}`).send(body);

    it('leaves sessions alone for a profile change', async () => {
      const { id, username } = await freshUser();
      const session = await app.login(username);
      await patchUser(id, { displayName: 'Renamed' }).expect(200);
      await me(session.accessToken).expect(200);
      expectTokenPair(await refresh(session.refreshToken));
    });

    it('ends every session of the user on a role change', async () => {
      const { id, username } = await freshUser();
      const first = await app.login(username);
      const second = await app.login(username);

      const res = await patchUser(id, { role: 'observer' }).expect(200);
      expect(res.body.role).toBe('observer');

      for (const old of [first, second]) {
        expectProblem(await me(old.accessToken), 401);
        expectProblem(await refresh(old.refreshToken), 401);
      }
      const again = expectTokenPair(await login(username, SEED_PASSWORD));
      expect((await me(again.accessToken).expect(200)).body.role).toBe('observer');
    });

    it('ends every session on deactivation, and the account cannot sign in', async () => {
      const { id, username } = await freshUser();
      const session = await app.login(username);

      const res = await patchUser(id, { active: false }).expect(200);
      expect(res.body.active).toBe(false);

      expectProblem(await me(session.accessToken), 401);
      expectProblem(await me(app.token(username)), 401);
      expectProblem(await refresh(session.refreshToken), 401);

      const refused = await login(username, SEED_PASSWORD);
      const unknown = await login(`nobody-${id}`, SEED_PASSWORD);
      expectProblem(refused, 401);
      expect(refused.text).toBe(unknown.text);

      // Reactivated, the account signs in again; the old tokens stay dead.
      await patchUser(id, { active: true }).expect(200);
      expectTokenPair(await login(username, SEED_PASSWORD));
      expectProblem(await me(session.accessToken), 401);
    });
  });

  describe('secrets in responses', () => {
    it('never sends a password hash or another user’s token material', async () => {
      const { id, username } = await freshUser('leak');
      const own = await app.login(username);
      const othersTokens = ['admin', 'dsa.in', 'sec.us', 'observer.in'].map((a) => app.token(a));
      const forbidden = [/passwordHash/i, /password_hash/i, /\$argon2/, /token_?version/i];

      const asUser = (method: 'get' | 'post' | 'patch', path: string) =>
        app.http[method](`${API}${path}`).set('authorization', `Bearer ${own.accessToken}`);

      const created = await app
        .as('admin', 'post', '/users')
        .send({
          username: `leak-new-${id}`,
          displayName: 'New',
          role: 'observer',
          delegation: 'US',
          password: 'a-long-enough-password',
        })
        .expect(201);
      const responses: Response[] = [
        created,
        await app.as('admin', 'get', '/users?limit=200').expect(200),
        await app.as('admin', 'get', `/users/${id}`).expect(200),
        await app.as('admin', 'patch', `/users/${id}`).send({ displayName: 'Leak' }).expect(200),
        await asUser('get', '/users?limit=200').expect(200),
        await asUser('get', `/users/${await app.userId('admin')}`).expect(200),
        await asUser('get', '/me').expect(200),
        await login(username, SEED_PASSWORD).expect(200),
        await login(username, 'wrong-password').expect(401),
        await refresh(own.refreshToken).expect(200),
      ];
      for (const res of responses) {
        for (const pattern of forbidden) {
          expect(res.text).not.toMatch(pattern);
        }
        for (const token of othersTokens) {
          expect(res.text).not.toContain(token);
        }
      }
      // Outside the caller's own new pair, not even the caller's tokens are echoed.
      for (const res of responses.slice(0, 7)) {
        expect(res.text).not.toContain(own.accessToken);
        expect(res.text).not.toContain(own.refreshToken);
        expect(res.text).not.toMatch(/accessToken|refreshToken/);
      }

      const directory = responses[4].body.data as Record<string, unknown>[];
      expect(directory.length).toBeGreaterThan(9);
      for (const entry of directory) {
        expect(Object.keys(entry).filter((key) => /password|token|secret/i.test(key))).toEqual([]);
      }

      // Only hashes of refresh tokens are stored.
      const stored = await app.query('SELECT * FROM refresh_tokens WHERE token_hash = ?', [
        own.refreshToken,
      ]);
      expect(stored).toEqual([]);
    });
  });
});

describe('auth per-address throttling', () => {
  let app: TestApp;

  beforeAll(async () => {
    // Nobody signed in: the seeded sign-ins would spend the whole per-address allowance.
    app = await createTestApp(
      { LOGIN_THROTTLE_LIMIT: '3', LOGIN_THROTTLE_TTL_SECONDS: '60' },
      { signIn: false },
    );
  });
  afterAll(() => app.close());

  it('answers the 4th login within the window from one address 429, with Retry-After', async () => {
    for (let i = 0; i < 3; i += 1) {
      const res = await app.http.post(LOGIN).send({ username: 'sec.in', password: SEED_PASSWORD });
      expectTokenPair(res);
    }
    const res = await app.http.post(LOGIN).send({ username: 'sec.in', password: SEED_PASSWORD });
    expectProblem(res, 429);
    const seconds = retryAfterSeconds(res);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);

    // Another address is not throttled.
    expectTokenPair(
      await postFrom(app, '127.0.3.9', LOGIN, { username: 'sec.in', password: SEED_PASSWORD }),
    );
  });

  it('throttles refresh per address too', async () => {
    for (let i = 0; i < 3; i += 1) {
      const res = await postFrom(app, '127.0.4.5', REFRESH, { refreshToken: `unknown-${i}` });
      expectProblem(res, 401);
    }
    const res = await postFrom(app, '127.0.4.5', REFRESH, { refreshToken: 'unknown-4' });
    expectProblem(res, 429);
    expect(retryAfterSeconds(res)).toBeGreaterThan(0);
  });
});
