import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { createApp } from '../../src/app.setup.js';
import { type AppConfig, loadConfig } from '../../src/config/config.js';
import { sql, type SqlValue } from '../../src/database/sql.js';
import { UnitOfWork } from '../../src/database/unit-of-work.js';
import {
  freshSchema,
  TEST_DATABASE_URL,
  TEST_JWT_SECRET,
  type TestSchema,
} from './test-database.js';

export const SEED_PASSWORD = 'seed-password-for-tests';
export const API = '/api/v1';

/** The seeded role accounts (SPEC 6). */
export const ACCOUNTS = [
  'admin',
  'dsa.in',
  'dsa.us',
  'sec.in',
  'sec.us',
  'delegate.in',
  'delegate.us',
  'observer.in',
  'observer.us',
] as const;
export type Account = (typeof ACCOUNTS)[number];

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

/**
 * The real application on a fresh SQLite file (or, under `npm run test:pg`, a fresh
 * PostgreSQL schema) with the real migrations and seeds, served in-process for supertest.
 */
export class TestApp {
  private readonly tokens = new Map<string, string>();
  private readonly ids = new Map<string, string>();

  constructor(
    readonly app: NestFastifyApplication,
    readonly config: AppConfig,
    private readonly dir: string,
    /** Every route the server registered, as Fastify saw it. */
    readonly routes: ServedRoute[],
    private readonly schema?: TestSchema,
  ) {}

  get http(): TestAgent {
    return request(this.app.getHttpServer());
  }

  get uow(): UnitOfWork {
    return this.app.get(UnitOfWork);
  }

  async login(username: string, password = SEED_PASSWORD): Promise<Tokens> {
    const res = await this.http.post(`${API}/auth/login`).send({ username, password }).expect(200);
    return res.body as Tokens;
  }

  /** Signs an account in and keeps its access token for as(). */
  async signIn(username: string, password = SEED_PASSWORD): Promise<Tokens> {
    const tokens = await this.login(username, password);
    this.tokens.set(username, tokens.accessToken);
    return tokens;
  }

  token(username: string): string {
    const token = this.tokens.get(username);
    if (!token) {
      throw new Error(`${username} is not signed in: call signIn first`);
    }
    return token;
  }

  async userId(username: string): Promise<string> {
    let id = this.ids.get(username);
    if (!id) {
      const res = await this.as('admin', 'get', `/users?limit=200`).expect(200);
      for (const user of res.body.data as { id: string; username: string }[]) {
        this.ids.set(user.username, user.id);
      }
      id = this.ids.get(username);
      if (!id) {
        throw new Error(`no user ${username}`);
      }
    }
    return id;
  }

  /** A request under /api/v1 as a signed-in account. */
  as(username: string, method: Method, path: string): request.Test {
    return this.http[method](`${API}${path}`).set(
      'authorization',
      `Bearer ${this.token(username)}`,
    );
  }

  /** Creates an account through the API (as admin) and returns its id. */
  async createUser(fields: {
    username: string;
    role: string;
    delegation: string | null;
    password?: string;
  }): Promise<string> {
    const res = await this.as('admin', 'post', '/users')
      .send({ displayName: fields.username, password: SEED_PASSWORD, ...fields })
      .expect(201);
    const id = (res.body as { id: string }).id;
    this.ids.set(fields.username, id);
    await this.signIn(fields.username, fields.password ?? SEED_PASSWORD);
    return id;
  }

  /**
   * Runs one SQL statement written with `?` placeholders on whichever database the app uses
   * (numbered for PostgreSQL), in a transaction; the rows it returns.
   */
  async query<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    let n = 0;
    const numbered = text.replace(/\?/g, () => `$${++n}`);
    const result = await this.uow.transaction((em) => sql<T>(em, numbered, params as SqlValue[]));
    return result.rows;
  }

  async close(): Promise<void> {
    await this.app.close();
    rmSync(this.dir, { recursive: true, force: true });
    await this.schema?.drop();
  }
}

export interface ServedRoute {
  method: string;
  url: string;
}

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export async function createTestApp(
  env: Record<string, string> = {},
  options: { signIn?: boolean } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'jwg-test-'));
  const schema = TEST_DATABASE_URL ? freshSchema() : undefined;
  const config = loadConfig({
    DATABASE_PATH: join(dir, 'jwg.sqlite'),
    ...(schema ? { DATABASE_URL: schema.url, JWT_SECRET: TEST_JWT_SECRET } : {}),
    JWG_SEED_PASSWORD: SEED_PASSWORD,
    LOG_LEVEL: 'silent',
    LOGIN_THROTTLE_LIMIT: '10000',
    REMINDER_SCHEDULE: 'off',
    ...env,
  });
  const app = await createApp(config);
  const routes: ServedRoute[] = [];
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        routes.push({ method, url: route.url });
      }
    });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const testApp = new TestApp(app, config, dir, routes, schema);
  if (options.signIn !== false) {
    await Promise.all(ACCOUNTS.map((account) => testApp.signIn(account)));
  }
  return testApp;
}
