/**
 * How long a reminder pass takes, and how much memory it needs, over many open action items.
 *
 *   npm run bench:reminders [-- <items> [owners]]     (defaults: 100000 items, 500 owners)
 *
 * Builds a fresh SQLite file through the real migrations, fills it with raw INSERTs, then runs
 * the service's own pass (RemindersService on a UnitOfWork, in-app delivery only) twice as of
 * the same moment: the first delivers what is due, the second finds nothing new.
 * Target: a pass over 100k open items under 5 s, with memory that does not grow with the data.
 */
import { Logger } from '@nestjs/common';
import type BetterSqlite3 from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { addDays } from '../src/common/dates.js';
import { loadConfig } from '../src/config/config.js';
import { openDatabase } from '../src/database/data-source.js';
import { UnitOfWork } from '../src/database/unit-of-work.js';
import { Mailer } from '../src/notifications/mailer.js';
import { RemindersService } from '../src/reminders/reminders.service.js';

/** 10:00 in New York and 19:30 in Kolkata: past the 08:00 send hour on both sides. */
const NOW = new Date('2027-06-15T14:00:00.000Z');
const TODAY = NOW.toISOString().slice(0, 10);
/** Due dates fall uniformly from this many days ago ... */
const PAST_DAYS = 120;
/** ... to this many days ahead. */
const FUTURE_DAYS = 60;
const INSERT_BATCH = 5000;
const SAMPLE_MS = 50;

interface PassFigures {
  pass: string;
  ms: number;
  delivered: number;
  listed: number;
  hidden: number;
  peakRssMb: number;
  peakHeapMb: number;
}

function positiveInteger(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined) {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}

/** A small deterministic generator, so that every run plants the same data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** The better-sqlite3 handle under TypeORM, for bulk inserts through prepared statements. */
function sqlite(dataSource: DataSource): BetterSqlite3.Database {
  return (dataSource.driver as unknown as { databaseConnection: BetterSqlite3.Database })
    .databaseConnection;
}

interface Owner {
  id: string;
  delegation: 'IN' | 'US';
}

function plant(db: BetterSqlite3.Database, items: number, ownerCount: number): Owner[] {
  const at = new Date().toISOString();
  db.prepare(`INSERT OR IGNORE INTO delegations (code, name) VALUES (?, ?)`).run('IN', 'India');
  db.prepare(`INSERT OR IGNORE INTO delegations (code, name) VALUES (?, ?)`).run(
    'US',
    'United States',
  );
  const insertUser = db.prepare(
    `INSERT INTO users (id, username, display_name, role, delegation, email, timezone, active,
       password_hash, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 1, 'x', ?, ?)`,
  );
  const timezones = { IN: 'Asia/Kolkata', US: 'America/New_York' } as const;
  const owners: Owner[] = [];
  db.transaction(() => {
    insertUser.run(randomUUID(), 'admin', 'Admin', 'admin', null, null, 'UTC', at, at);
    for (const delegation of ['IN', 'US'] as const) {
      const id = randomUUID();
      const name = `dsa.${delegation.toLowerCase()}`;
      insertUser.run(id, name, name, 'dsa', delegation, null, timezones[delegation], at, at);
    }
    for (let i = 0; i < ownerCount; i++) {
      const delegation = i % 2 === 0 ? 'IN' : 'US';
      const id = randomUUID();
      const role = i % 25 === 0 ? 'secretariat' : 'delegate';
      const name = `owner${i}.${delegation.toLowerCase()}`;
      insertUser.run(id, name, name, role, delegation, null, timezones[delegation], at, at);
      owners.push({ id, delegation });
    }
  })();

  // One planned meeting a week out: meeting_upcoming for every user, as in real life.
  db.prepare(
    `INSERT INTO meetings (id, number, title, kind, starts_on, ends_on, location,
       host_delegation, status, created_at, updated_at)
     VALUES (?, 1, 'Plenary', 'plenary', ?, ?, 'New Delhi', 'IN', 'planned', ?, ?)`,
  ).run(randomUUID(), addDays(TODAY, 7), addDays(TODAY, 9), at, at);

  const insertItem = db.prepare(
    `INSERT INTO action_items (id, code, title, description, status, owner_id, owner_delegation,
       due_date, visibility, created_at, updated_at)
     VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?)`,
  );
  const next = random(20211001);
  const insertBatch = db.transaction((from: number, to: number) => {
    for (let n = from; n < to; n++) {
      const owner = owners[Math.floor(next() * owners.length)];
      const roll = next();
      const status = roll < 0.7 ? 'open' : roll < 0.9 ? 'in_progress' : 'blocked';
      const due = addDays(TODAY, Math.floor(next() * (PAST_DAYS + FUTURE_DAYS + 1)) - PAST_DAYS);
      const visibility = next() < 0.85 ? 'joint' : owner.delegation;
      const code = `AI-${String(n + 1).padStart(6, '0')}`;
      insertItem.run(
        randomUUID(),
        code,
        `Action ${code}`,
        status,
        owner.id,
        owner.delegation,
        due,
        visibility,
        at,
        at,
      );
    }
  });
  for (let from = 0; from < items; from += INSERT_BATCH) {
    insertBatch(from, Math.min(items, from + INSERT_BATCH));
  }
  return owners;
}

async function timePass(name: string, pass: () => Promise<{ data: unknown[]; hidden: number }>) {
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  }, SAMPLE_MS);
  const started = performance.now();
  try {
    const report = await pass();
    const ms = Math.round(performance.now() - started);
    const usage = process.memoryUsage();
    const figures: PassFigures = {
      pass: name,
      ms,
      delivered: report.data.length + report.hidden,
      listed: report.data.length,
      hidden: report.hidden,
      peakRssMb: mb(Math.max(peakRss, usage.rss)),
      peakHeapMb: mb(Math.max(peakHeap, usage.heapUsed)),
    };
    return figures;
  } finally {
    clearInterval(sampler);
  }
}

async function main(): Promise<void> {
  const items = positiveInteger(process.argv[2], 100_000, 'items');
  const ownerCount = positiveInteger(process.argv[3], 500, 'owners');
  // The pass logs nothing worth reading here; the figures are the output.
  Logger.overrideLogger(['error']);

  const dir = mkdtempSync(join(tmpdir(), 'jwg-bench-'));
  const config = loadConfig({
    DATABASE_PATH: join(dir, 'bench.sqlite'),
    JWT_SECRET: 'bench-secret-that-is-at-least-32-bytes',
    LOG_LEVEL: 'error',
  });
  const dataSource = await openDatabase(config);
  try {
    const seeding = performance.now();
    plant(sqlite(dataSource), items, ownerCount);
    const seedMs = Math.round(performance.now() - seeding);

    // The service's own classes, wired by hand: no SMTP_URL, so delivery is in-app only.
    const uow = new UnitOfWork(dataSource);
    const mailer = new Mailer(config);
    const reminders = new RemindersService(uow, mailer);

    const baselineRssMb = mb(process.memoryUsage().rss);
    const passes = [
      await timePass('first', () => reminders.run(NOW)),
      await timePass('second (same now)', () => reminders.run(NOW)),
    ];
    const byKind = await dataSource.query<{ kind: string; n: number }[]>(
      `SELECT kind, count(*) AS n FROM reminders WHERE state = 'sent' GROUP BY kind ORDER BY kind`,
    );
    const [{ n: notifications }] = await dataSource.query<{ n: number }[]>(
      `SELECT count(*) AS n FROM notifications`,
    );

    const result = {
      items,
      owners: ownerCount,
      now: NOW.toISOString(),
      seedMs,
      databaseMb: mb(statSync(config.databasePath).size),
      baselineRssMb,
      passes,
      sentByKind: Object.fromEntries(byKind.map((k) => [k.kind, k.n])),
      notifications,
      targetMs: 5000,
      withinTarget: passes.every((p) => p.ms < 5000),
    };

    console.log(`Reminder pass over ${items} open action items, ${ownerCount} owners`);
    console.table(
      Object.fromEntries(
        passes.map(({ pass, ...figures }) => [pass, { ...figures, 'target ms': 5000 }]),
      ),
    );
    console.log(JSON.stringify(result));
  } finally {
    await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
