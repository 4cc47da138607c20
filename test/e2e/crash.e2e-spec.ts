import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
 * SPEC 7: "A committed write survives kill -9". The built service (dist/, made by the pretest
 * script) runs as a child process; a burst of creating POSTs, each with its own
 * Idempotency-Key, is cut short by SIGKILL; after a restart every acknowledged write must be
 * there, the file and the audit chain intact, and a retry of every request of the burst must
 * create nothing twice. Three kill/restart cycles run on the SAME database file, so cycles 2
 * and 3 crash a database that has already been recovered from a crash.
 */

const PLANNED = 300;
const CONCURRENCY = 20;
/**
 * Per cycle: the acknowledged responses after which no request starts, and the delay after
 * which SIGKILL follows (with a delay, requests in flight may commit unanswered).
 */
const CYCLES = [
  { killAfter: 100, delayMs: 0 },
  { killAfter: 150, delayMs: 3 },
  { killAfter: 60, delayMs: 10 },
];

interface Write {
  title: string;
  table: 'action_items' | 'policy_items';
  entityType: 'action_item' | 'policy_item';
  path: string;
  key: string;
  body: Body;
}

interface Outcome {
  status?: number;
  body?: Body;
  error?: string;
}

function plannedWrites(cycle: number, ownerId: string): Write[] {
  const run = randomUUID().slice(0, 8);
  return Array.from({ length: PLANNED }, (_, i): Write => {
    const title = `crash ${cycle} ${run} #${i}`;
    const visibility = i % 3 === 2 ? 'IN' : 'joint';
    const key = `crash-${run}-${i}`;
    return i % 2 === 0
      ? {
          title,
          table: 'action_items',
          entityType: 'action_item',
          path: '/action-items',
          key,
          body: {
            title,
            description: `written before kill -9 (${i})`,
            ownerId,
            dueDate: '2099-12-31',
            visibility,
          },
        }
      : {
          title,
          table: 'policy_items',
          entityType: 'policy_item',
          path: '/policy-items',
          key,
          body: {
            title,
            description: `written before kill -9 (${i})`,
            isaReference: 'ISA 2.1',
            visibility,
          },
        };
  });
}

/**
 * Fires the writes with bounded concurrency; once `killAfter` of them were acknowledged no
 * request starts, and the service is SIGKILLed `delayMs` later.
 */
async function burstUntilKilled(
  service: Service,
  token: string,
  writes: Write[],
  { killAfter, delayMs }: { killAfter: number; delayMs: number },
): Promise<{ fired: Write[]; outcomes: Map<Write, Outcome>; killed: boolean }> {
  const fired: Write[] = [];
  const outcomes = new Map<Write, Outcome>();
  let next = 0;
  let acknowledged = 0;
  let killed = false;
  const worker = async () => {
    while (!killed && next < writes.length) {
      const write = writes[next];
      next += 1;
      fired.push(write);
      try {
        const res = await fetch(`${service.base}/api/v1${write.path}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'idempotency-key': write.key,
          },
          body: JSON.stringify(write.body),
          signal: AbortSignal.timeout(30_000),
        });
        // The status line is the acknowledgement: the unit of work committed before it.
        const outcome: Outcome = { status: res.status };
        outcomes.set(write, outcome);
        if (res.ok) {
          acknowledged += 1;
          if (acknowledged >= killAfter && !killed) {
            killed = true;
            if (delayMs === 0) {
              service.child.kill('SIGKILL');
            } else {
              setTimeout(() => service.child.kill('SIGKILL'), delayMs);
            }
          }
        }
        try {
          outcome.body = (await res.json()) as Body;
        } catch {
          // The kill cut the body short: acknowledged all the same, checked by title.
        }
      } catch (error) {
        outcomes.set(write, { error: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { fired, outcomes, killed };
}

/** Runs `work` on each item with bounded concurrency, keeping the order of the results. */
async function inParallel<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results;
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

function rowsByTitle(db: Database.Database, write: Write): { id: string; code: string }[] {
  return db.prepare(`SELECT id, code FROM ${write.table} WHERE title = ?`).all(write.title) as {
    id: string;
    code: string;
  }[];
}

describe('crash safety (kill -9 of the built service)', () => {
  let dir: string;
  let databasePath: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jwg-crash-'));
    databasePath = join(dir, 'jwg.sqlite');
  });

  afterAll(async () => {
    for (const child of children) {
      child.kill('SIGKILL');
    }
    await sleep(100);
    rmSync(dir, { recursive: true, force: true });
  });

  CYCLES.forEach((plan, index) => {
    const cycle = index + 1;
    it(`cycle ${cycle} of ${CYCLES.length}: kill -9 ${plan.delayMs} ms after ${plan.killAfter} acknowledged writes loses none, and retries duplicate none`, async () => {
      let service = await startService(databasePath);
      try {
        // 1. The burst, cut short by SIGKILL.
        const token = await login(service, 'sec.in');
        const me = await call(service, 'GET', '/me', { token });
        const writes = plannedWrites(cycle, me.body.id as string);
        const { fired, outcomes, killed } = await burstUntilKilled(service, token, writes, plan);
        expect(killed).toBe(true);
        expect(await service.exited).toEqual({ code: null, signal: 'SIGKILL' });
        const answered = [...outcomes.values()].filter((o) => o.status !== undefined);
        // Whatever came back before the kill came back 2xx: the burst itself is valid.
        expect(answered.filter((o) => o.status !== 201)).toEqual([]);
        const acknowledged = fired.filter((w) => outcomes.get(w)?.status === 201);
        const inDoubt = fired.filter((w) => outcomes.get(w)?.status === undefined);

        // 2. The file as the crash left it: intact, holding every acknowledged write.
        const afterCrash = inspect(databasePath, (db) => ({
          integrity: db.pragma('integrity_check', { simple: true }),
          lost: acknowledged.filter((w) => rowsByTitle(db, w).length === 0).map((w) => w.title),
          committedInDoubt: inDoubt.filter((w) => rowsByTitle(db, w).length > 0).length,
        }));
        expect(afterCrash.integrity).toBe('ok');
        expect(afterCrash.lost).toEqual([]);

        // 3. Restarted on the same file: each acknowledged record reads back as it was answered.
        service = await startService(databasePath);
        const reader = await login(service, 'sec.in');
        const admin = await login(service, 'admin');
        const readBack = await inParallel(acknowledged, async (write) => {
          const answer = outcomes.get(write)?.body;
          if (!answer) {
            return null;
          }
          const res = await call(service, 'GET', `${write.path}/${answer.id as string}`, {
            token: reader,
          });
          return res.status === 200 && isDeepEqual(res.body, answer)
            ? null
            : { write, res, answer };
        });
        expect(readBack.filter((r) => r !== null)).toEqual([]);
        const verifiedAfterCrash = await call(service, 'GET', '/audit-events/verify', {
          token: admin,
        });
        expect(verifiedAfterCrash.status).toBe(200);
        expect(verifiedAfterCrash.body).toMatchObject({ ok: true, firstBadId: null });

        // 4. Every request of the burst again, same key and body: answered or not, nothing twice.
        const retries = await inParallel(fired, (write) =>
          call(service, 'POST', write.path, { token: reader, key: write.key, body: write.body }),
        );
        expect(retries.filter((r) => r.status !== 201)).toEqual([]);
        const replayMismatches = fired.filter((write, i) => {
          const answer = outcomes.get(write);
          return (
            answer?.status === 201 &&
            (!retries[i].replayed || (answer.body && retries[i].body.id !== answer.body.id))
          );
        });
        expect(replayMismatches).toEqual([]);
        const verified = await call(service, 'GET', '/audit-events/verify', { token: admin });
        expect(verified.body).toMatchObject({ ok: true, firstBadId: null });
        // A graceful stop, so the file is inspected as the service closed it.
        expect(await stopService(service, 'SIGTERM')).toEqual({ forced: false });

        // 5. One row per request, one created event per row, one idempotency record per key.
        const final = inspect(databasePath, (db) => {
          const events = db.prepare(
            'SELECT count(*) AS n FROM audit_events WHERE action = ? AND entity_id = ?',
          );
          const keys = db.prepare('SELECT count(*) AS n FROM idempotency_records WHERE key = ?');
          const perWrite = fired.map((write, i) => {
            const rows = rowsByTitle(db, write);
            return {
              title: write.title,
              rows: rows.length,
              sameAsRetry: rows.length === 1 && rows[0].id === retries[i].body.id,
              events: rows.map(
                (row) => (events.get(`${write.entityType}.created`, row.id) as { n: number }).n,
              ),
              keys: (keys.get(write.key) as { n: number }).n,
            };
          });
          const duplicateCodes = ['action_items', 'policy_items'].flatMap((table) =>
            db.prepare(`SELECT code FROM ${table} GROUP BY code HAVING count(*) > 1`).all(),
          );
          return {
            integrity: db.pragma('integrity_check', { simple: true }),
            perWrite,
            duplicateCodes,
          };
        });
        const duplicates = final.perWrite.reduce((sum, w) => sum + Math.max(0, w.rows - 1), 0);
        console.log(
          `crash cycle ${cycle}/${CYCLES.length}: fired ${fired.length}, acknowledged ` +
            `${acknowledged.length}, lost ${afterCrash.lost.length}, duplicates ${duplicates} ` +
            `(in doubt at the kill ${inDoubt.length}, of which committed ` +
            `${afterCrash.committedInDoubt}; audit events checked ${String(verified.body.checked)})`,
        );
        expect(final.integrity).toBe('ok');
        expect(duplicates).toBe(0);
        expect(final.perWrite.filter((w) => w.rows !== 1 || !w.sameAsRetry)).toEqual([]);
        expect(final.perWrite.filter((w) => w.events.some((n) => n !== 1) || w.keys !== 1)).toEqual(
          [],
        );
        expect(final.duplicateCodes).toEqual([]);
      } finally {
        await stopService(service, 'SIGKILL');
      }
    }, 180_000);
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
