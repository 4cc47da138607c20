/**
 * How long a reminder pass takes, and how much memory it needs, over many open action items.
 *
 *   npm run bench:reminders [-- <items> [owners] [--keep]]   (defaults: 100000 items, 500 owners)
 *   DATABASE_URL='postgres://user@host:5432/database?schema=jwg_bench' npm run bench:reminders
 *
 * Builds a fresh database through the real migrations (a SQLite file, or with DATABASE_URL a
 * PostgreSQL schema, jwg_bench unless the URL names one, dropped at the end unless --keep:
 * see bench/database.ts), fills it with raw INSERTs, then runs the service's own pass
 * (RemindersService on a UnitOfWork, in-app delivery only) twice as of the same moment: the
 * first delivers what is due, the second finds nothing new.
 * Target: a pass over 100k open items under 5 s, with memory that does not grow with the data.
 */
import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DataSource } from 'typeorm';
import { addDays } from '../src/common/dates.js';
import { loadConfig } from '../src/config/config.js';
import { UnitOfWork } from '../src/database/unit-of-work.js';
import { Mailer } from '../src/notifications/mailer.js';
import { RemindersService } from '../src/reminders/reminders.service.js';
import { benchDatabase } from './database.js';
import { type Cell, type RowWriter, rowWriter, MEETING_COLUMNS, USER_COLUMNS } from './rows.js';

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

interface Owner {
  id: string;
  delegation: 'IN' | 'US';
}

async function plant(writer: RowWriter, items: number, ownerCount: number): Promise<Owner[]> {
  const at = new Date().toISOString();
  await writer.insert(
    'delegations',
    ['code', 'name'],
    [
      ['IN', 'India'],
      ['US', 'United States'],
    ],
  );
  const timezones = { IN: 'Asia/Kolkata', US: 'America/New_York' } as const;
  const owners: Owner[] = [];
  const users: Cell[][] = [
    [randomUUID(), 'admin', 'Admin', 'admin', null, null, 'UTC', true, 'x', at, at],
  ];
  for (const delegation of ['IN', 'US'] as const) {
    const name = `dsa.${delegation.toLowerCase()}`;
    users.push([
      randomUUID(),
      name,
      name,
      'dsa',
      delegation,
      null,
      timezones[delegation],
      true,
      'x',
      at,
      at,
    ]);
  }
  for (let i = 0; i < ownerCount; i++) {
    const delegation = i % 2 === 0 ? 'IN' : 'US';
    const id = randomUUID();
    const role = i % 25 === 0 ? 'secretariat' : 'delegate';
    const name = `owner${i}.${delegation.toLowerCase()}`;
    users.push([id, name, name, role, delegation, null, timezones[delegation], true, 'x', at, at]);
    owners.push({ id, delegation });
  }
  await writer.insert('users', USER_COLUMNS, users);

  // One planned meeting a week out: meeting_upcoming for every user, as in real life.
  await writer.insert('meetings', MEETING_COLUMNS, [
    [
      randomUUID(),
      1,
      'Plenary',
      'plenary',
      addDays(TODAY, 7),
      addDays(TODAY, 9),
      'New Delhi',
      'IN',
      'planned',
      at,
      at,
    ],
  ]);

  const itemColumns = [
    'id',
    'code',
    'title',
    'description',
    'status',
    'owner_id',
    'owner_delegation',
    'due_date',
    'visibility',
    'created_at',
    'updated_at',
  ];
  const next = random(20211001);
  for (let from = 0; from < items; from += INSERT_BATCH) {
    const rows: Cell[][] = [];
    for (let n = from; n < Math.min(items, from + INSERT_BATCH); n++) {
      const owner = owners[Math.floor(next() * owners.length)];
      const roll = next();
      const status = roll < 0.7 ? 'open' : roll < 0.9 ? 'in_progress' : 'blocked';
      const due = addDays(TODAY, Math.floor(next() * (PAST_DAYS + FUTURE_DAYS + 1)) - PAST_DAYS);
      const visibility = next() < 0.85 ? 'joint' : owner.delegation;
      const code = `AI-${String(n + 1).padStart(6, '0')}`;
      rows.push([
        randomUUID(),
        code,
        `Action ${code}`,
        '',
        status,
        owner.id,
        owner.delegation,
        due,
        visibility,
        at,
        at,
      ]);
    }
    await writer.insert('action_items', itemColumns, rows);
  }
  await writer.finish();
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
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { keep: { type: 'boolean', default: false } },
  });
  const items = positiveInteger(positionals[0], 100_000, 'items');
  const ownerCount = positiveInteger(positionals[1], 500, 'owners');
  // The pass logs nothing worth reading here; the figures are the output.
  Logger.overrideLogger(['error']);

  const dir = mkdtempSync(join(tmpdir(), 'jwg-bench-'));
  const database = await benchDatabase({
    dir,
    keep: values.keep,
    url: process.env.DATABASE_URL || undefined,
  });
  const config = loadConfig({
    ...database.env,
    JWT_SECRET: 'bench-secret-that-is-at-least-32-bytes',
    LOG_LEVEL: 'error',
  });
  try {
    const dataSource = await database.open();
    try {
      await measure(dataSource);
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await database.close();
    if (!values.keep) {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async function measure(dataSource: DataSource): Promise<void> {
    const seeding = performance.now();
    await plant(await rowWriter(dataSource), items, ownerCount);
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
      database: database.kind,
      databaseMb: await database.sizeMb(dataSource),
      baselineRssMb,
      passes,
      sentByKind: Object.fromEntries(byKind.map((k) => [k.kind, k.n])),
      notifications,
      targetMs: 5000,
      withinTarget: passes.every((p) => p.ms < 5000),
    };

    console.log(
      `Reminder pass over ${items} open action items, ${ownerCount} owners, ${database.label}`,
    );
    console.table(
      Object.fromEntries(
        passes.map(({ pass, ...figures }) => [pass, { ...figures, 'target ms': 5000 }]),
      ),
    );
    console.log(JSON.stringify(result));
  }
}

await main();
