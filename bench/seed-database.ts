/**
 * A synthetic JWG database for the HTTP benchmark, built through the service's own migrations
 * and filled with raw INSERTs (like bench/reminder-pass.ts): the role accounts of seeds/ with
 * real argon2 hashes, many owners of both delegations, meetings, policy items and action
 * items of every status, 15% of them visible to one delegation only.
 *
 * Besides the bulk, it plants what the scenarios need and returns their ids: the hot-read
 * delegate's own items (the same few hundred whatever the table size, so that only the
 * table grows between runs), a pool of open items to PATCH, and planned meetings to log
 * outcomes for.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hashPassword } from '../src/auth/passwords.js';
import { addDays } from '../src/common/dates.js';
import type { BenchDatabase } from './database.js';
import { type Cell, type RowWriter, rowWriter, MEETING_COLUMNS, USER_COLUMNS } from './rows.js';

export const BENCH_PASSWORD = 'bench-password-2021';

/** q= of the filtered list: one topic of ten, so about 10% of the titles hold it. */
export const LIST_QUERY_WORD = 'transmission';

const TOPICS = [
  'facility clearance',
  'visit request',
  'export control',
  'classified contract',
  'cyber incident',
  'personnel security',
  'transmission channel',
  'security agreement',
  'industrial security annex',
  'supply chain',
];
const VERBS = ['Review', 'Draft', 'Circulate', 'Align', 'Report on', 'Propose', 'Confirm'];
const TIMEZONES = { IN: 'Asia/Kolkata', US: 'America/New_York' } as const;
const HISTORY_MEETINGS = 40;
const POLICY_ITEMS = 300;
const INSERT_BATCH = 5000;

type Delegation = 'IN' | 'US';
type Status = 'open' | 'in_progress' | 'blocked' | 'done' | 'cancelled';

export interface SeedOptions {
  items: number;
  owners: number;
  /** Not-closed items of the hot-read delegate (plus a quarter as many closed ones). */
  mine: number;
  patchPool: number;
  outcomeMeetings: number;
}

export interface Account {
  id: string;
  username: string;
  role: string;
  delegation: Delegation | null;
}

export interface Owner {
  id: string;
  delegation: Delegation;
}

export interface Fixtures {
  accounts: Record<string, Account>;
  owners: Owner[];
  /** Items delegate.in may read (joint or IN), for GET /action-items/:id. */
  readableIds: string[];
  /** Open joint items at version 1, for PATCH; nothing else touches them. */
  patchIds: string[];
  /** Planned meetings, one per POST /meetings/:id/outcomes. */
  meetingIds: string[];
  /** Joint policy items an action item may refer to. */
  jointPolicyIds: string[];
  seedMs: number;
  databaseMb: number;
}

/** A small deterministic generator, so that every run plants the same data. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)];
}

/** A title and description that name one of the topics. */
export function itemText(next: () => number, code: string): { title: string; description: string } {
  const topic = pick(next, TOPICS);
  return {
    title: `${pick(next, VERBS)} ${topic} (${code})`,
    description:
      `Follow-up on the ${topic} discussion: ${pick(next, VERBS).toLowerCase()} the ` +
      `${pick(next, TOPICS)} arrangements and report to the secretariat before the next meeting.`,
  };
}

const code = (prefix: string, n: number) => `${prefix}-${String(n).padStart(3, '0')}`;

/**
 * Plants the data in a fresh database (SQLite file or PostgreSQL schema) that the service's
 * own migrations built, and closes it.
 */
export async function seedDatabase(
  database: BenchDatabase,
  options: SeedOptions,
): Promise<Fixtures> {
  const started = performance.now();
  const dataSource = await database.open();
  try {
    // One argon2 hash (the service's own options) shared by every account that signs in.
    const passwordHash = await hashPassword(BENCH_PASSWORD);
    const writer = await rowWriter(dataSource);
    const fixtures = await plant(writer, options, passwordHash);
    await writer.finish();
    return {
      ...fixtures,
      seedMs: Math.round(performance.now() - started),
      databaseMb: await database.sizeMb(dataSource),
    };
  } finally {
    await dataSource.destroy();
  }
}

async function plant(
  writer: RowWriter,
  options: SeedOptions,
  passwordHash: string,
): Promise<Omit<Fixtures, 'seedMs' | 'databaseMb'>> {
  const next = random(20211001);
  const now = new Date();
  const today = now.toISOString().slice(0, 10);
  const at = now.toISOString();
  /** A moment within the last three years. */
  const past = () => new Date(now.getTime() - Math.floor(next() * 3 * 365 * 86400000));

  await writer.insert(
    'delegations',
    ['code', 'name'],
    [
      ['IN', 'India'],
      ['US', 'United States'],
    ],
  );
  await writer.insert(
    'working_group',
    ['id', 'name', 'mandate', 'cadence_months', 'created_at', 'updated_at'],
    [
      [
        randomUUID(),
        'Indo-US Industrial Security Joint Working Group',
        'Synthetic benchmark data',
        6,
        at,
        at,
      ],
    ],
  );

  // The role accounts of seeds/ (so the service's seeder finds nothing missing at start).
  const seedUsers = JSON.parse(
    readFileSync(new URL('../../../seeds/users.json', import.meta.url), 'utf8'),
  ) as { username: string; displayName: string; role: string; delegation: Delegation | null }[];
  const accounts: Record<string, Account> = {};
  const owners: Owner[] = [];
  const users: Cell[][] = [];
  for (const seed of seedUsers) {
    const id = randomUUID();
    const zone = seed.delegation ? TIMEZONES[seed.delegation] : 'UTC';
    users.push([
      id,
      seed.username,
      seed.displayName,
      seed.role,
      seed.delegation,
      null,
      zone,
      true,
      passwordHash,
      at,
      at,
    ]);
    accounts[seed.username] = { id, ...seed };
  }
  for (let i = 0; i < options.owners; i++) {
    const delegation: Delegation = i % 2 === 0 ? 'IN' : 'US';
    const id = randomUUID();
    const role = i % 25 === 0 ? 'secretariat' : 'delegate';
    const name = `owner${i}.${delegation.toLowerCase()}`;
    users.push([
      id,
      name,
      `Owner ${i}`,
      role,
      delegation,
      null,
      TIMEZONES[delegation],
      true,
      'x',
      at,
      at,
    ]);
    owners.push({ id, delegation });
  }
  await writer.insert('users', USER_COLUMNS, users);

  const heldMeetings: string[] = [];
  const meetingIds: string[] = [];
  const meetings: Cell[][] = [];
  let startsOn = '2021-09-27';
  for (let n = 1; n <= HISTORY_MEETINGS + options.outcomeMeetings; n++) {
    const id = randomUUID();
    const held = n <= HISTORY_MEETINGS;
    const host = n % 2 === 1 ? 'IN' : 'US';
    meetings.push([
      id,
      n,
      `JWG meeting ${n}`,
      n % 3 === 0 ? 'virtual' : 'plenary',
      startsOn,
      addDays(startsOn, 2),
      host === 'IN' ? 'New Delhi' : 'Washington, DC',
      host,
      held ? 'held' : 'planned',
      at,
      at,
    ]);
    (held ? heldMeetings : meetingIds).push(id);
    startsOn = held ? addDays(startsOn, 45) : addDays(today, 30 + (n % 300));
  }
  await writer.insert('meetings', MEETING_COLUMNS, meetings);

  const policyStatuses = ['proposed', 'under_discussion', 'agreed_in_principle', 'implemented'];
  const jointPolicyIds: string[] = [];
  const policyIdsOf: Record<Delegation, string[]> = { IN: [], US: [] };
  const policyCounters: Record<string, number> = { PA: 0, 'PA-IN': 0, 'PA-US': 0 };
  const policies: Cell[][] = [];
  for (let n = 0; n < POLICY_ITEMS; n++) {
    const id = randomUUID();
    const visibility = n % 7 === 0 ? (n % 2 === 0 ? 'IN' : 'US') : 'joint';
    const prefix = visibility === 'joint' ? 'PA' : `PA-${visibility}`;
    const text = itemText(next, prefix);
    const created = past().toISOString();
    policies.push([
      id,
      code(prefix, ++policyCounters[prefix]),
      text.title,
      text.description,
      `ISA ${1 + (n % 12)}.${1 + (n % 5)}`,
      pick(next, policyStatuses),
      visibility,
      created,
      created,
    ]);
    (visibility === 'joint' ? jointPolicyIds : policyIdsOf[visibility]).push(id);
  }
  await writer.insert(
    'policy_items',
    [
      'id',
      'code',
      'title',
      'description',
      'isa_reference',
      'status',
      'visibility',
      'created_at',
      'updated_at',
    ],
    policies,
  );

  const itemCounters: Record<string, number> = { AI: 0, 'AI-IN': 0, 'AI-US': 0 };
  const delegate = accounts['delegate.in'];
  const delegateOwner: Owner = { id: delegate.id, delegation: 'IN' };
  const mineTotal = Math.min(options.mine + Math.ceil(options.mine / 4), options.items);
  const mineEvery = Math.max(1, Math.floor(options.items / Math.max(1, mineTotal)));
  const patchEvery = Math.max(2, Math.floor(options.items / Math.max(1, options.patchPool)));
  let mineLeft = mineTotal;
  let mineOpenLeft = Math.min(options.mine, mineTotal);
  const readableIds: string[] = [];
  const patchIds: string[] = [];

  const genericStatus = (): Status => {
    const roll = next();
    return roll < 0.4
      ? 'open'
      : roll < 0.55
        ? 'in_progress'
        : roll < 0.6
          ? 'blocked'
          : roll < 0.9
            ? 'done'
            : 'cancelled';
  };

  const itemRow = (n: number): Cell[] => {
    // The delegate's items and the PATCH pool are spread evenly through the table, as they
    // would be in real life: neither sits in a few pages of its own.
    const isMine = mineLeft > 0 && n % mineEvery === 0;
    const isPatch = !isMine && patchIds.length < options.patchPool && n % patchEvery === 1;
    const owner = isMine ? delegateOwner : pick(next, owners);
    let status: Status;
    if (isMine) {
      mineLeft--;
      status = mineOpenLeft-- > 0 ? pick(next, ['open', 'open', 'in_progress', 'blocked']) : 'done';
    } else {
      status = isPatch ? 'open' : genericStatus();
    }
    const visibility = isPatch || next() >= 0.15 ? 'joint' : owner.delegation;
    const prefix = visibility === 'joint' ? 'AI' : `AI-${visibility}`;
    const itemCode = code(prefix, ++itemCounters[prefix]);
    const text = itemText(next, itemCode);
    const created = past();
    const updated = new Date(
      created.getTime() + Math.floor(next() * (now.getTime() - created.getTime())),
    );
    const policyRoll = next();
    const policyId =
      policyRoll < 0.2
        ? pick(next, jointPolicyIds)
        : policyRoll < 0.25 && visibility !== 'joint'
          ? pick(next, policyIdsOf[visibility])
          : null;
    const id = randomUUID();
    const row: Cell[] = [
      id,
      itemCode,
      text.title,
      text.description,
      status,
      owner.id,
      owner.delegation,
      addDays(today, Math.floor(next() * 600) - 400),
      next() < 0.4 ? pick(next, heldMeetings) : null,
      policyId,
      visibility,
      status === 'done' ? updated.toISOString() : null,
      1,
      created.toISOString(),
      updated.toISOString(),
    ];
    if (isPatch) {
      patchIds.push(id);
    } else if (!isMine && visibility !== 'US' && readableIds.length < 2000) {
      readableIds.push(id);
    }
    return row;
  };
  const itemColumns = [
    'id',
    'code',
    'title',
    'description',
    'status',
    'owner_id',
    'owner_delegation',
    'due_date',
    'meeting_id',
    'policy_item_id',
    'visibility',
    'completed_at',
    'version',
    'created_at',
    'updated_at',
  ];
  for (let from = 0; from < options.items; from += INSERT_BATCH) {
    const rows: Cell[][] = [];
    for (let n = from; n < Math.min(options.items, from + INSERT_BATCH); n++) {
      rows.push(itemRow(n));
    }
    await writer.insert('action_items', itemColumns, rows);
  }

  // The service numbers new records after the planted ones.
  await writer.insert(
    'code_sequences',
    ['name', 'last'],
    Object.entries({ ...itemCounters, ...policyCounters }),
  );

  return { accounts, owners, readableIds, patchIds, meetingIds, jointPolicyIds };
}
