import { expect } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/*
 * The built service (dist/, made by the pretest script) as a child process, for the tests
 * that need a real process: kill -9, backups of a live file.
 */

export const MAIN = resolve('dist/main.js');
export const SEED_PASSWORD = 'service-test-seed-password';
const HEALTH_DEADLINE_MS = 45_000;
const REQUEST_TIMEOUT_MS = 30_000;

export type Body = Record<string, unknown>;

export interface Service {
  child: ChildProcess;
  base: string;
  /** The last output of the child, for failure messages. */
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every child still running, so that a test's afterAll can stop them whatever happened. */
export const children = new Set<ChildProcess>();

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      );
    });
  });
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Starts `node dist/main.js` on the file (or on what `env` says, e.g. DATABASE_URL) and waits
 * for GET /health 200. A failed boot is retried: a port taken meanwhile, or dist/ rebuilt
 * (emptied first) by a concurrent `npm test`.
 */
export async function startService(
  databasePath: string,
  env: Record<string, string> = {},
): Promise<Service> {
  let lastFailure = '';
  for (let attempt = 1; attempt <= 4; attempt += 1) {
    if (attempt > 1) {
      await sleep(3000);
    }
    await waitForBuild();
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        TZ: 'UTC',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_PATH: databasePath,
        JWG_SEED_PASSWORD: SEED_PASSWORD,
        LOG_LEVEL: 'warn',
        REMINDER_SCHEDULE: 'off',
        LOGIN_THROTTLE_LIMIT: '100000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once('exit', (code, signal) => {
        children.delete(child);
        done({ code, signal });
      }),
    );
    const service: Service = {
      child,
      base: `http://127.0.0.1:${port}`,
      output: () => output,
      exited,
    };
    if (await becomesHealthy(service)) {
      return service;
    }
    lastFailure = `attempt ${attempt}: ${output}`;
    await stopService(service, 'SIGKILL');
  }
  throw new Error(`the service did not become healthy:\n${lastFailure}`);
}

export async function becomesHealthy(service: Service): Promise<boolean> {
  const deadline = Date.now() + HEALTH_DEADLINE_MS;
  while (Date.now() < deadline && isRunning(service.child)) {
    try {
      const res = await fetch(`${service.base}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) {
        return true;
      }
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  return false;
}

export async function waitForBuild(): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!existsSync(MAIN)) {
    if (Date.now() > deadline) {
      throw new Error(`${MAIN} is missing: run npm run build (npm test does it in pretest)`);
    }
    await sleep(500);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * Sends `signal` and waits for the exit; a child that ignores SIGTERM for 15 s is killed
 * (`forced`).
 */
export async function stopService(
  service: Service,
  signal: NodeJS.Signals,
): Promise<{ forced: boolean }> {
  if (isRunning(service.child)) {
    service.child.kill(signal);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((done) => {
    timer = setTimeout(() => done('timeout'), 15_000);
  });
  try {
    if ((await Promise.race([service.exited, timeout])) === 'timeout') {
      service.child.kill('SIGKILL');
      await service.exited;
      return { forced: true };
    }
    return { forced: false };
  } finally {
    clearTimeout(timer);
  }
}

export async function call(
  service: Service,
  method: string,
  path: string,
  options: { token?: string; body?: Body; key?: string } = {},
): Promise<{ status: number; body: Body; replayed: boolean }> {
  const headers: Record<string, string> = {};
  if (options.token) {
    headers.authorization = `Bearer ${options.token}`;
  }
  if (options.key) {
    headers['idempotency-key'] = options.key;
  }
  if (options.body) {
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${service.base}/api/v1${path}`, {
    method,
    headers,
    body: options.body ? JSON.stringify(options.body) : undefined,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Body) : {},
    replayed: res.headers.get('idempotency-replayed') === 'true',
  };
}

export async function login(service: Service, username: string): Promise<string> {
  const res = await call(service, 'POST', '/auth/login', {
    body: { username, password: SEED_PASSWORD },
  });
  expect(res.status).toBe(200);
  return res.body.accessToken as string;
}
