/**
 * Driving one server with autocannon, and what comes out of it: the client's latencies over
 * every response, errors, the peak resident memory of the process under load, and the share
 * of the machine's CPU other processes took meanwhile. Also the checks around the load:
 * signing in, the baseline's parity with the service, and what the writes left behind.
 */
import autocannon from 'autocannon';
import type { BenchDatabase } from './database.js';
import { memoryOf, type Memory, otherCpu, type Server } from './processes.js';
import type { Scenario, Target, Tokens } from './scenarios.js';
import { BENCH_PASSWORD, type Fixtures } from './seed-database.js';

const RSS_SAMPLE_MS = 100;

export interface RunFigures {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  responses: number;
  errors: number;
  statusCodes: Record<string, number>;
  rssPeakMb: number;
  /** Peaks of the anonymous and the file-backed part of it. */
  anonPeakMb: number;
  filePeakMb: number;
  /** % of the machine's CPU used by other processes meanwhile (noise). */
  otherCpuPercent: number;
}

export interface TargetFigures {
  rounds: RunFigures[];
  median: { rps: number; p50: number; p90: number; p99: number };
  errors: number;
  rssPeakMb: number;
  anonPeakMb: number;
  otherCpuPercentMax: number;
}

export const round1 = (n: number) => Math.round(n * 10) / 10;
export const round2 = (n: number) => Math.round(n * 100) / 100;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function signIn(server: Server, username: string): Promise<string> {
  const response = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: BENCH_PASSWORD }),
  });
  const body = (await response.json()) as { accessToken?: string };
  if (response.status !== 200 || !body.accessToken) {
    throw new Error(
      `sign-in of ${username} answered ${response.status}: ${JSON.stringify(body)}\n${server.tail()}`,
    );
  }
  return body.accessToken;
}

/** One autocannon run against one process; the load's own latencies, not autocannon's buckets. */
export async function load(
  server: Server,
  scenario: Scenario,
  target: Target,
  tokens: Tokens,
  connections: number,
  duration: number,
  tally: Map<string, number>,
): Promise<RunFigures> {
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  const peak: Memory = memoryOf(server.pid);
  const sample = () => {
    const now = memoryOf(server.pid);
    peak.rss = Math.max(peak.rss, now.rss);
    peak.anon = Math.max(peak.anon, now.anon);
    peak.file = Math.max(peak.file, now.file);
  };
  const sampler = setInterval(sample, RSS_SAMPLE_MS);
  const noise = otherCpu();
  try {
    const instance = autocannon({
      url: server.url,
      connections,
      duration,
      timeout: 10,
      requests: scenario.requests(target, tokens),
    });
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      latencies.push(ms);
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
    });
    const result = await instance;
    await scenario.settle?.(server.url, tokens);
    for (const [status, count] of Object.entries(statusCodes)) {
      const key = `${scenario.name}:${target}:${status}`;
      tally.set(key, (tally.get(key) ?? 0) + count);
    }
    sample();
    const sorted = Float64Array.from(latencies).sort();
    return {
      rps: round1(latencies.length / result.duration),
      p50: round2(percentile(sorted, 50)),
      p90: round2(percentile(sorted, 90)),
      p99: round2(percentile(sorted, 99)),
      max: round2(sorted[sorted.length - 1] ?? Number.NaN),
      responses: latencies.length,
      errors: result.errors + result.non2xx + result.mismatches,
      statusCodes,
      rssPeakMb: round1(peak.rss),
      anonPeakMb: round1(peak.anon),
      filePeakMb: round1(peak.file),
      otherCpuPercent: noise(),
    };
  } finally {
    clearInterval(sampler);
  }
}

export function summarize(rounds: RunFigures[]): TargetFigures {
  return {
    rounds,
    median: {
      rps: round1(median(rounds.map((r) => r.rps))),
      p50: round2(median(rounds.map((r) => r.p50))),
      p90: round2(median(rounds.map((r) => r.p90))),
      p99: round2(median(rounds.map((r) => r.p99))),
    },
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    rssPeakMb: Math.max(...rounds.map((r) => r.rssPeakMb)),
    anonPeakMb: Math.max(...rounds.map((r) => r.anonPeakMb)),
    otherCpuPercentMax: Math.max(...rounds.map((r) => r.otherCpuPercent)),
  };
}

/** The hot read from both: the baseline must answer the very same page, or the ratio means nothing. */
export async function checkParity(
  service: Server,
  baseline: Server,
  token: string,
): Promise<number> {
  const [ours, theirs] = await Promise.all(
    [service, baseline].map(async (server) => {
      const response = await fetch(`${server.url}/api/v1/me/action-items`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: response.status, body: await response.text() };
    }),
  );
  if (ours.status !== 200 || theirs.status !== 200 || ours.body !== theirs.body) {
    throw new Error(
      `the baseline does not answer the hot read like the service:\n` +
        `service ${ours.status}: ${ours.body.slice(0, 400)}\n` +
        `baseline ${theirs.status}: ${theirs.body.slice(0, 400)}`,
    );
  }
  return (JSON.parse(ours.body) as { data: unknown[] }).data.length;
}

/** The access tokens the scenarios send, from signing in to the service. */
export async function signInAll(server: Server): Promise<Tokens> {
  return {
    delegate: await signIn(server, 'delegate.in'),
    secretariat: await signIn(server, 'sec.in'),
    secretariatUs: await signIn(server, 'sec.us'),
  };
}

/**
 * What the service's writes left behind: every item it created has its audit event, every
 * keyed POST its idempotency record, every status change its event. The database may hold a
 * few more than the answers counted: requests still in flight when a run stopped were applied
 * but their answers never read (at most one per connection and run).
 */
export async function checkWrites(
  database: BenchDatabase,
  fixtures: Fixtures,
  since: string,
  tally: Map<string, number>,
): Promise<Record<string, number>> {
  const answered = (key: string) => tally.get(key) ?? 0;
  const created = answered('create:service:201');
  const outcomes = answered('outcomes:service:201');
  return {
    itemsCreated: await database.count(
      `SELECT count(*) AS n FROM action_items WHERE created_at >= $1 AND code NOT LIKE 'BL-%'`,
      [since],
    ),
    itemsAnswered201: created + 5 * outcomes,
    itemsWithoutCreatedEvent: await database.count(
      `SELECT count(*) AS n FROM action_items a WHERE a.created_at >= $1 AND a.code NOT LIKE 'BL-%'
         AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.entity_type = 'action_item'
           AND e.entity_id = a.id AND e.action = 'action_item.created')`,
      [since],
    ),
    idempotencyRecords: await database.count(
      `SELECT count(*) AS n FROM idempotency_records WHERE user_id = $1`,
      [fixtures.accounts['sec.in'].id],
    ),
    keyedPostsAnswered201: created + outcomes,
    statusChangeEvents: await database.count(
      `SELECT count(*) AS n FROM audit_events WHERE action = 'action_item.updated' AND at >= $1`,
      [since],
    ),
    statusChangesAnswered200: answered('patch:service:200'),
    itemsCreatedByBaseline: await database.count(
      `SELECT count(*) AS n FROM action_items WHERE code LIKE 'BL-%'`,
    ),
  };
}
