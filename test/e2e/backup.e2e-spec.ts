import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type Body,
  call,
  children,
  login,
  type Service,
  sleep,
  startService,
  stopService,
} from '../support/service-process.js';

/*
 * `npm run backup -- <file>` (dist/backup.js) copies the live database with SQLite's online
 * backup API. Here it runs beside the built service while that service is under write load;
 * the copy must be intact, hold every write acknowledged before the backup started, serve
 * as the database of a restored service, and carry an audit chain that verifies.
 */

const BACKUP = resolve('dist/backup.js');
const CONCURRENCY = 10;

interface Written {
  path: string;
  entityType: 'action_item' | 'policy_item';
  body: Body;
}

/** Opens the file read-only, as the service left it, and runs `work` on it. */
function inspect<T>(databasePath: string, work: (db: Database.Database) => T): T {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    return work(db);
  } finally {
    db.close();
  }
}

/** Runs dist/backup.js to completion; never rejects. */
function runBackup(
  args: string[],
  databasePath: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BACKUP, ...args],
      { env: { PATH: process.env.PATH, DATABASE_PATH: databasePath }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Creating POSTs with bounded concurrency until stopped; `acknowledged` lists the 201 answers
 * in the order they came back.
 */
function writeLoad(service: Service, token: string, ownerId: string) {
  const run = randomUUID().slice(0, 8);
  const acknowledged: Written[] = [];
  const failures: string[] = [];
  let stopped = false;
  let next = 0;
  const worker = async () => {
    while (!stopped) {
      const i = next;
      next += 1;
      const title = `backup ${run} #${i}`;
      const visibility = i % 3 === 2 ? 'IN' : 'joint';
      const write =
        i % 2 === 0
          ? {
              path: '/action-items',
              entityType: 'action_item' as const,
              body: { title, ownerId, dueDate: '2099-12-31', visibility },
            }
          : {
              path: '/policy-items',
              entityType: 'policy_item' as const,
              body: { title, isaReference: 'ISA 2.1', visibility },
            };
      try {
        const res = await call(service, 'POST', write.path, {
          token,
          key: `backup-${run}-${i}`,
          body: write.body,
        });
        if (res.status === 201) {
          acknowledged.push({ ...write, body: res.body });
        } else {
          failures.push(`${res.status} ${JSON.stringify(res.body)}`);
        }
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  const workers = Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return {
    acknowledged,
    failures,
    async until(count: number): Promise<void> {
      const deadline = Date.now() + 60_000;
      while (acknowledged.length < count && failures.length === 0) {
        if (Date.now() > deadline) {
          throw new Error(`only ${acknowledged.length} writes acknowledged in 60 s`);
        }
        await sleep(20);
      }
    },
    async stop(): Promise<void> {
      stopped = true;
      await workers;
    },
  };
}

describe('backup (npm run backup -- <file>)', () => {
  let dir: string;
  let databasePath: string;
  let service: Service;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jwg-backup-'));
    databasePath = join(dir, 'live', 'jwg.sqlite');
    service = await startService(databasePath);
  }, 120_000);

  afterAll(async () => {
    for (const child of children) {
      child.kill('SIGKILL');
    }
    await sleep(100);
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies the live database under write load; the copy is intact, restores and verifies', async () => {
    const token = await login(service, 'sec.in');
    const me = await call(service, 'GET', '/me', { token });
    const load = writeLoad(service, token, me.body.id as string);
    let restored: Service | undefined;
    try {
      await load.until(60);
      const before = [...load.acknowledged];
      const target = join(dir, 'restore', 'jwg.sqlite');
      mkdirSync(join(dir, 'restore'));
      const result = await runBackup([target], databasePath);
      const during = load.acknowledged.length - before.length;
      // Keep writing a little after the backup: it must not have disturbed the service.
      await load.until(load.acknowledged.length + 20);
      await load.stop();
      expect(load.failures).toEqual([]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const reported = /^Backed up (.+) to (.+): (\d+) pages, (\d+) bytes\n$/.exec(result.stdout);
      expect(reported?.slice(1, 3)).toEqual([databasePath, target]);
      expect(Number(reported?.[4])).toBe(statSync(target).size);
      // The copy holds password hashes and sessions: private to its owner.
      expect(statSync(target).mode & 0o077).toBe(0);
      expect(readdirSync(join(dir, 'restore'))).toEqual(['jwg.sqlite']);

      // The copy as a file: intact, every write acknowledged before the backup started in it,
      // and each record it holds with its audit event and idempotency record (one snapshot).
      const copy = inspect(target, (db) => {
        const byId = db.prepare(
          'SELECT id FROM action_items WHERE id = ? UNION ALL SELECT id FROM policy_items WHERE id = ?',
        );
        const ours = load.acknowledged.filter((w) => byId.get(w.body.id, w.body.id) !== undefined);
        const events = db.prepare(
          'SELECT count(*) AS n FROM audit_events WHERE action = ? AND entity_id = ?',
        );
        return {
          integrity: db.pragma('integrity_check', { simple: true }),
          pages: db.pragma('page_count', { simple: true }),
          missing: before.filter((w) => !ours.includes(w)).map((w) => w.body.title),
          held: ours.length,
          withoutEvent: ours.filter(
            (w) => (events.get(`${w.entityType}.created`, w.body.id) as { n: number }).n !== 1,
          ),
        };
      });
      console.log(
        `backup under load: ${reported?.[3]} pages, ${reported?.[4]} bytes; acknowledged ` +
          `${before.length} before it started, ${during} while it ran, ` +
          `${load.acknowledged.length} in all; the copy holds ${copy.held}`,
      );
      expect(copy.integrity).toBe('ok');
      expect(copy.pages).toBe(Number(reported?.[3]));
      expect(copy.missing).toEqual([]);
      expect(copy.withoutEvent).toEqual([]);

      // Restore: a service on the copy reads those records back and verifies the audit chain.
      restored = await startService(target);
      const reader = await login(restored, 'sec.in');
      const admin = await login(restored, 'admin');
      const mismatches: unknown[] = [];
      for (const write of before) {
        const res = await call(restored, 'GET', `${write.path}/${write.body.id as string}`, {
          token: reader,
        });
        if (res.status !== 200 || !isDeepEqual(res.body, write.body)) {
          mismatches.push({ expected: write.body, got: res });
        }
      }
      expect(mismatches).toEqual([]);
      const verified = await call(restored, 'GET', '/audit-events/verify', { token: admin });
      expect(verified.status).toBe(200);
      expect(verified.body).toMatchObject({ ok: true, firstBadId: null });
      expect(verified.body.checked).toBeGreaterThan(before.length);
    } finally {
      await load.stop();
      if (restored) {
        expect(await stopService(restored, 'SIGTERM')).toEqual({ forced: false });
      }
    }
  }, 120_000);

  it('refuses to run without a file argument', async () => {
    const result = await runBackup([], databasePath);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^backup failed: Usage: npm run backup -- <file>/);
  });

  it('refuses to overwrite an existing file, and leaves it as it was', async () => {
    const target = join(dir, 'existing.sqlite');
    writeFileSync(target, 'keep me');
    const result = await runBackup([target], databasePath);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe(
      `backup failed: ${target} already exists; a backup never overwrites a file\n`,
    );
    expect(result.stdout).toBe('');
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect(readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it('fails clearly when there is no database, and creates nothing', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const result = await runBackup([join(empty, 'copy.sqlite')], join(empty, 'jwg.sqlite'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe(
      `backup failed: no database at ${join(empty, 'jwg.sqlite')} (set DATABASE_PATH)\n`,
    );
    // Neither an empty database, nor the copy, nor a JWT secret as a side effect.
    expect(readdirSync(empty)).toEqual([]);
  });
});

function isDeepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(sortKeys);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}
