/**
 * The service under HTTP load, next to a minimal baseline on the same database file.
 *
 *   npm run bench [-- options]
 *
 *   --items N          action items to plant (default 100000)
 *   --owners N         owners they are spread over (default 500)
 *   --duration S       measured seconds per scenario, target and round (default 10)
 *   --warmup S         unmeasured seconds before each of those (default 1)
 *   --rounds N         rounds; figures are medians over them (default 3)
 *   --connections N    concurrent connections (default 10; hot-read-c1 always uses 1)
 *   --scenarios a,b    a subset of: hot-read, hot-read-c1, list, get, create, patch, outcomes
 *   --out FILE         where the JSON goes (default bench/results/latest.json)
 *   --compare FILE     an earlier result (e.g. at 100k items): the hot read's cost ratio
 *   --profile          instead of measuring, CPU-profile the service over each scenario
 *                      (and count and time its SQL statements)
 *   --dist DIR         the build to run (default dist; e.g. another branch's build to compare)
 *   --node-options=S   flags for the service's node, e.g. --node-options="--max-semi-space-size=4"
 *   --keep             keep the temporary database directory
 *
 * Copies the build to a temporary directory (a concurrent `nest build` empties dist/), builds
 * a fresh SQLite file there through the service's migrations (bench/seed-database.ts),
 * measures the service's cold start (spawn to the first 200 on /health, three times), then
 * starts the built service (node dist/main.js) and the baseline (bench/baseline-server.ts)
 * as child processes, checks that both answer the hot read with the same page, and drives
 * each with autocannon, scenario by scenario, alternating which goes first in each round.
 *
 * Latencies are the client's, in milliseconds, over every response; errors are non-2xx
 * answers, socket errors and timeouts; RSS is the peak VmRSS of the process under load (with
 * its RssAnon part: VmRSS also counts the database pages mapped under mmap_size). Each run
 * also records how much of the machine's CPU other processes took meanwhile: on a shared
 * machine, that says which figures are noise. After the load, the database is checked for
 * what the writes must leave: audit events and idempotency records.
 *
 * The whole run is bounded: it stops (and says so) past one and a half times its announced
 * length. Seeding comes before and is reported on its own (about 6 s per 100k items).
 */
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { summarizeProfile, summarizeStatements, type ProfileSummary } from './profile-summary.js';
import {
  createScenarios,
  type Scenario,
  SCENARIO_NAMES,
  type ScenarioName,
  type Target,
  type Tokens,
  WITH_BASELINE,
} from './scenarios.js';
import { BENCH_PASSWORD, type Fixtures, seedDatabase } from './seed-database.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const JWT_SECRET = 'jwg-bench-secret-that-is-at-least-32-bytes-long';
const COLD_STARTS = 3;
const START_TIMEOUT_MS = 30_000;
const RSS_SAMPLE_MS = 100;
/** Spawns, sign-ins and checks between the measured runs, per run, roughly. */
const OVERHEAD_PER_RUN_S = 0.5;

const TARGETS = {
  hotReadRatio: 0.6,
  createRatio: 0.4,
  hotReadC1P99Ms: 5,
  scaleCostRatio: 1.25,
  coldStartMs: 1500,
  rssMb: 200,
} as const;

interface Options {
  items: number;
  owners: number;
  duration: number;
  warmup: number;
  rounds: number;
  connections: number;
  scenarios: ScenarioName[];
  out: string;
  compare: string | undefined;
  profile: boolean;
  dist: string;
  nodeOptions: string[];
  keep: boolean;
}

interface RunFigures {
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

interface TargetFigures {
  rounds: RunFigures[];
  median: { rps: number; p50: number; p90: number; p99: number };
  errors: number;
  rssPeakMb: number;
  anonPeakMb: number;
  otherCpuPercentMax: number;
}

interface ScenarioResult {
  description: string;
  connections: number;
  service: TargetFigures;
  baseline?: TargetFigures;
  /** Median service req/s over median baseline req/s. */
  ratio?: number;
}

interface Verdict {
  target: string;
  value: number | null;
  limit: string;
  pass: boolean | null;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      items: { type: 'string', default: '100000' },
      owners: { type: 'string', default: '500' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '10' },
      scenarios: { type: 'string', default: SCENARIO_NAMES.join(',') },
      out: { type: 'string', default: 'bench/results/latest.json' },
      compare: { type: 'string' },
      profile: { type: 'boolean', default: false },
      dist: { type: 'string', default: 'dist' },
      'node-options': { type: 'string', default: '' },
      keep: { type: 'boolean', default: false },
    },
  });
  const scenarios = values.scenarios.split(',').map((name) => name.trim());
  for (const name of scenarios) {
    if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown scenario "${name}"; known: ${SCENARIO_NAMES.join(', ')}`);
    }
  }
  return {
    items: integer(values.items, 'items', 1),
    owners: integer(values.owners, 'owners', 2),
    duration: integer(values.duration, 'duration', 1),
    warmup: integer(values.warmup, 'warmup', 0),
    rounds: integer(values.rounds, 'rounds', 1),
    connections: integer(values.connections, 'connections', 1),
    scenarios: scenarios as ScenarioName[],
    out: resolve(ROOT, values.out),
    compare: values.compare === undefined ? undefined : resolve(ROOT, values.compare),
    profile: values.profile,
    dist: resolve(ROOT, values.dist),
    nodeOptions: values['node-options'].split(' ').filter(Boolean),
    keep: values.keep,
  };
}

function integer(raw: string, name: string, min: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;

function median(values: number[]): number {
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

/**
 * The TCP port a process listens on, from its socket inodes and /proc/net/tcp. Children are
 * started on port 0: no port is picked in advance that another process could take first.
 */
function listeningPort(pid: number): number | null {
  let sockets: Set<string>;
  try {
    sockets = new Set(
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return readlinkSync(`/proc/${pid}/fd/${fd}`);
          } catch {
            return '';
          }
        })
        .filter((link) => link.startsWith('socket:['))
        .map((link) => link.slice(8, -1)),
    );
  } catch {
    return null;
  }
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; field 9 is the inode.
    if (fields[3] === '0A' && sockets.has(fields[9])) {
      return parseInt(fields[1].split(':')[1], 16);
    }
  }
  return null;
}

interface Memory {
  /** VmRSS: what the target is about. */
  rss: number;
  /** RssAnon: the heap and native allocations, the part that is the process's own. */
  anon: number;
  /** RssFile: pages of mapped files, mostly the database under mmap_size (page cache). */
  file: number;
}

/** The resident memory of a process, in MiB. */
function memoryOf(pid: number): Memory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024 };
  } catch {
    return { rss: 0, anon: 0, file: 0 };
  }
}

/** The machine's CPU ticks: busy (not idle, not waiting on I/O) and total. */
function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - fields[4], total };
}

/** User + system ticks of one process. */
function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/**
 * Measures the share of the machine's CPU taken by processes other than the benchmark and its
 * servers: on a shared machine, a run where that share is high is a noisy run.
 */
function otherCpu(): () => number {
  const pids = () => [process.pid, ...[...live].map((child) => child.pid!)];
  const own = () => pids().reduce((sum, pid) => sum + processTicks(pid), 0);
  const before = { machine: machineTicks(), own: own() };
  return () => {
    const machine = machineTicks();
    const total = machine.total - before.machine.total;
    const foreign = machine.busy - before.machine.busy - (own() - before.own);
    return total > 0 ? Math.max(0, Math.round((foreign / total) * 100)) : 0;
  };
}

const delay = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A child process the benchmark started, and stops. */
class Server {
  private exited = false;
  private port: number | null = null;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
    readonly startedAt: number,
  ) {
    child.once('exit', () => {
      this.exited = true;
    });
  }

  /**
   * Starts `script` on port 0. With `ipc`, the child gets a message channel (the profile
   * hook listens on it).
   */
  static start(
    name: string,
    app: App,
    script: string,
    env: NodeJS.ProcessEnv,
    logFile: string,
    options: { nodeArgs?: string[]; ipc?: boolean } = {},
  ): Server {
    const log = openSync(logFile, 'a');
    const startedAt = performance.now();
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script], {
      cwd: app.root,
      env: { ...env, PORT: '0', HOST: '127.0.0.1' },
      stdio: options.ipc ? ['ignore', log, log, 'ipc'] : ['ignore', log, log],
    });
    closeSync(log);
    live.add(child);
    child.once('exit', () => live.delete(child));
    return new Server(name, child, logFile, startedAt);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get url(): string {
    if (this.port === null) {
      throw new Error(`${this.name} is not listening yet`);
    }
    return `http://127.0.0.1:${this.port}`;
  }

  /** Milliseconds from spawn to the first 200 on /health. */
  async ready(): Promise<number> {
    const deadline = this.startedAt + START_TIMEOUT_MS;
    while (performance.now() < deadline) {
      if (this.exited) {
        throw new Error(`${this.name} exited while starting; see ${this.logFile}:\n${this.tail()}`);
      }
      this.port ??= listeningPort(this.pid);
      if (this.port !== null) {
        try {
          const response = await fetch(`${this.url}/health`);
          await response.arrayBuffer();
          if (response.status === 200) {
            return performance.now() - this.startedAt;
          }
        } catch {
          // listening, not answering yet
        }
      }
      await delay(5);
    }
    throw new Error(`${this.name} did not answer /health within ${START_TIMEOUT_MS} ms`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exited) {
      return;
    }
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  tail(): string {
    return readFileSync(this.logFile, 'utf8').split('\n').slice(-20).join('\n');
  }
}

/** The built service and the compiled benchmark, copied where no rebuild can touch them. */
interface App {
  root: string;
  service: string;
  baseline: string;
  profileHook: string;
}

/**
 * The compiled files the benchmark starts besides the service, read as soon as it starts
 * (dist/bench/ goes with the next `nest build`, which empties dist/).
 */
function readOwnFiles(): Map<string, string> {
  const compiled = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  return new Map(
    ['bench/baseline-server.js', 'bench/profile-hook.js', 'src/database/sqlite-pragmas.js'].map(
      (file) => [file, readFileSync(join(compiled, file), 'utf8')],
    ),
  );
}

/** Files under a directory, relative, without source maps or the benchmark's own output. */
function listing(dir: string): string {
  if (!existsSync(join(dir, 'main.js'))) {
    return '';
  }
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => !file.startsWith('bench') && !file.endsWith('.map'))
    .sort()
    .join('\n');
}

/**
 * `nest build` empties dist/ before it writes it again, and the tests rebuild it (pretest):
 * a run that takes minutes starts its processes from a snapshot of the build instead, taken
 * when dist/ holds the same files before and after the copy, beside the seeds the service
 * reads and the project's node_modules.
 */
async function snapshotBuild(
  dir: string,
  dist: string,
  ownFiles: Map<string, string>,
): Promise<App> {
  const root = join(dir, 'app');
  for (let attempt = 1; ; attempt++) {
    const before = listing(dist);
    if (before !== '') {
      rmSync(join(root, 'dist'), { recursive: true, force: true });
      try {
        cpSync(dist, join(root, 'dist'), {
          recursive: true,
          filter: (source) => !source.startsWith(join(dist, 'bench')) && !source.endsWith('.map'),
        });
        if (listing(dist) === before && listing(join(root, 'dist')) === before) {
          break;
        }
      } catch {
        // a file went away mid-copy: a rebuild is under way
      }
    }
    if (attempt === 60) {
      throw new Error('dist/ kept changing (or has no main.js) for a minute: npm run build first');
    }
    await delay(1000);
  }
  for (const [file, text] of ownFiles) {
    mkdirSync(dirname(join(root, 'dist/bench', file)), { recursive: true });
    writeFileSync(join(root, 'dist/bench', file), text);
  }
  cpSync(join(ROOT, 'seeds'), join(root, 'seeds'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  return {
    root,
    service: join(root, 'dist/main.js'),
    baseline: join(root, 'dist/bench/bench/baseline-server.js'),
    profileHook: join(root, 'dist/bench/bench/profile-hook.js'),
  };
}

/** Every child still running, so that an abort never leaves one behind. */
const live = new Set<ChildProcess>();
function killChildren(): void {
  for (const child of live) {
    child.kill('SIGKILL');
  }
}

async function signIn(server: Server, username: string): Promise<string> {
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
async function load(
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

function summarize(rounds: RunFigures[]): TargetFigures {
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
async function checkParity(service: Server, baseline: Server, token: string): Promise<number> {
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

function serviceEnv(databasePath: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    DATABASE_PATH: databasePath,
    JWT_SECRET,
    JWG_SEED_PASSWORD: BENCH_PASSWORD,
    LOG_LEVEL: 'warn',
    REMINDER_SCHEDULE: 'off',
    // The config's ceiling: sign-ins are few, but never the bottleneck.
    LOGIN_THROTTLE_LIMIT: '100000',
    // Long enough for any run: no token expires mid-measurement.
    ACCESS_TOKEN_TTL_SECONDS: '86400',
  };
}

/** Seconds of load the run will take, start-ups included (seeding excluded). */
function plannedSeconds(opts: Options): number {
  const perRound = opts.scenarios.reduce(
    (sum, name) =>
      sum +
      (WITH_BASELINE.includes(name) && !opts.profile ? 2 : 1) *
        (opts.warmup + opts.duration + OVERHEAD_PER_RUN_S),
    0,
  );
  const coldStarts = opts.profile ? opts.scenarios.length * 2 : COLD_STARTS * 2 + 4;
  return Math.ceil((opts.profile ? perRound : perRound * opts.rounds) + coldStarts);
}

function table(results: Partial<Record<ScenarioName, ScenarioResult>>): string {
  const header = [
    'scenario',
    'conns',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'RSS MiB',
    'anon',
    'base req/s',
    'base p50',
    'base p99',
    'base RSS',
    'ratio',
  ];
  const rows = Object.entries(results).map(([name, r]) => [
    name,
    String(r.connections),
    String(r.service.median.rps),
    String(r.service.median.p50),
    String(r.service.median.p99),
    String(r.service.errors),
    String(r.service.rssPeakMb),
    String(r.service.anonPeakMb),
    r.baseline ? String(r.baseline.median.rps) : '-',
    r.baseline ? String(r.baseline.median.p50) : '-',
    r.baseline ? String(r.baseline.median.p99) : '-',
    r.baseline ? String(r.baseline.rssPeakMb) : '-',
    r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    '| ' +
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') +
    ' |';
  return [
    line(header),
    '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|',
    ...rows.map(line),
  ].join('\n');
}

function verdicts(
  results: Partial<Record<ScenarioName, ScenarioResult>>,
  coldStartMs: number,
  compare: { items: number; rps: number } | undefined,
  items: number,
): Verdict[] {
  const hot = results['hot-read'];
  const create = results.create;
  const c1 = results['hot-read-c1'];
  const all = Object.values(results);
  const check = (
    target: string,
    value: number | null | undefined,
    limit: string,
    ok: (v: number) => boolean,
  ) => ({
    target,
    value: value ?? null,
    limit,
    pass: value === undefined || value === null ? null : ok(value),
  });
  const verdictList: Verdict[] = [
    check(
      'hot read / baseline (req/s)',
      hot?.ratio,
      `>= ${TARGETS.hotReadRatio}`,
      (v) => v >= TARGETS.hotReadRatio,
    ),
    check(
      'POST /action-items / baseline insert',
      create?.ratio,
      `>= ${TARGETS.createRatio}`,
      (v) => v >= TARGETS.createRatio,
    ),
    check(
      'hot read p99 at 1 connection (ms)',
      c1?.service.median.p99,
      `< ${TARGETS.hotReadC1P99Ms}`,
      (v) => v < TARGETS.hotReadC1P99Ms,
    ),
    check(
      'cold start to first /health 200 (ms)',
      coldStartMs,
      `< ${TARGETS.coldStartMs}`,
      (v) => v < TARGETS.coldStartMs,
    ),
    check(
      'service RSS under load (MiB)',
      all.length ? Math.max(...all.map((r) => r.service.rssPeakMb)) : null,
      `< ${TARGETS.rssMb}`,
      (v) => v < TARGETS.rssMb,
    ),
    check(
      'errors (service + baseline)',
      all.reduce((sum, r) => sum + r.service.errors + (r.baseline?.errors ?? 0), 0),
      '= 0',
      (v) => v === 0,
    ),
  ];
  if (compare && hot) {
    const [small, large] =
      compare.items <= items
        ? [compare.rps, hot.service.median.rps]
        : [hot.service.median.rps, compare.rps];
    verdictList.push(
      check(
        `hot read cost at ${Math.max(compare.items, items)} / at ${Math.min(compare.items, items)} items`,
        round2(small / large),
        `<= ${TARGETS.scaleCostRatio}`,
        (v) => v <= TARGETS.scaleCostRatio,
      ),
    );
  }
  return verdictList;
}

/**
 * What the service's writes left behind: every item it created has its audit event, every
 * keyed POST its idempotency record, every status change its event. The database may hold a
 * few more than the answers counted: requests still in flight when a run stopped were applied
 * but their answers never read (at most one per connection and run).
 */
function checkWrites(
  databasePath: string,
  fixtures: Fixtures,
  since: string,
  tally: Map<string, number>,
) {
  const answered = (key: string) => tally.get(key) ?? 0;
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    const count = (sql: string, ...params: unknown[]) =>
      (db.prepare(sql).get(...params) as { n: number }).n;
    const created = answered('create:service:201');
    const outcomes = answered('outcomes:service:201');
    return {
      itemsCreated: count(
        `SELECT count(*) AS n FROM action_items WHERE created_at >= ? AND code NOT LIKE 'BL-%'`,
        since,
      ),
      itemsAnswered201: created + 5 * outcomes,
      itemsWithoutCreatedEvent: count(
        `SELECT count(*) AS n FROM action_items a WHERE a.created_at >= ? AND a.code NOT LIKE 'BL-%'
           AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.entity_type = 'action_item'
             AND e.entity_id = a.id AND e.action = 'action_item.created')`,
        since,
      ),
      idempotencyRecords: count(
        `SELECT count(*) AS n FROM idempotency_records WHERE user_id = ?`,
        fixtures.accounts['sec.in'].id,
      ),
      keyedPostsAnswered201: created + outcomes,
      statusChangeEvents: count(
        `SELECT count(*) AS n FROM audit_events WHERE action = 'action_item.updated' AND at >= ?`,
        since,
      ),
      statusChangesAnswered200: answered('patch:service:200'),
      itemsCreatedByBaseline: count(
        `SELECT count(*) AS n FROM action_items WHERE code LIKE 'BL-%'`,
      ),
    };
  } finally {
    db.close();
  }
}

function printProfile(name: string, summary: ProfileSummary): void {
  console.log(
    `\nCPU profile of the service under "${name}": ${summary.totalMs} ms sampled, ${summary.idlePercent}% idle`,
  );
  console.log('self time by package (% of busy time):');
  for (const share of summary.selfByPackage.slice(0, 12)) {
    console.log(`  ${String(share.percent).padStart(5)}%  ${share.name}`);
  }
  console.log('self time by function:');
  for (const share of summary.selfByFunction.slice(0, 20)) {
    console.log(`  ${String(share.percent).padStart(5)}%  ${share.name}`);
  }
  console.log("inclusive time of the service's functions:");
  for (const share of summary.inclusiveAppFunctions.slice(0, 20)) {
    console.log(`  ${String(share.percent).padStart(5)}%  ${share.name}`);
  }
  if (summary.memory) {
    console.log(`memory peaks (MiB): ${JSON.stringify(summary.memory)}`);
  }
  if (summary.statements) {
    console.log(
      `SQL per request: ${summary.statementsPerRequest} statements, ` +
        `${summary.sqlMsPerRequest} ms inside better-sqlite3 (count, ms, statement):`,
    );
    for (const s of summary.statements.slice(0, 25)) {
      const texts = s.distinctTexts > 1 ? ` [${s.distinctTexts} distinct texts]` : '';
      console.log(
        `  ${String(s.perRequest).padStart(6)} ${s.msPerRequest.toFixed(3).padStart(7)}  ${s.sql}${texts}`,
      );
    }
  }
}

async function main(): Promise<void> {
  const ownFiles = readOwnFiles();
  const opts = options();
  const runId = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'jwg-http-bench-'));
  const databasePath = join(dir, 'bench.sqlite');
  const logFile = join(dir, 'servers.log');
  try {
    // One planned meeting per outcomes post, at up to 300 posts a second (past that, reused).
    const outcomeMeetings = Math.max(500, (opts.duration + opts.warmup) * opts.rounds * 300);

    const planned = plannedSeconds(opts);
    console.log(
      `JWG Tracker HTTP benchmark (${opts.profile ? 'profile' : 'measure'}): ${opts.items} items, ` +
        `${opts.owners} owners, ${opts.connections} connections, ${opts.duration}s (+${opts.warmup}s warm-up) ` +
        `x ${opts.scenarios.length} scenarios x ${opts.profile ? 1 : opts.rounds} rounds` +
        `\nnode ${process.version}, ${cpus().length} CPUs; working directory ${dir}` +
        `\nexpected: seeding, then about ${planned} s of load (stopped at ${Math.round(planned * 1.5 + 30)} s)`,
    );

    // Before anything else: the build as it is now.
    const app = await snapshotBuild(dir, opts.dist, ownFiles);
    const seedStarted = performance.now();
    console.log(`seeding ${opts.items} action items through the migrations ...`);
    const fixtures = await seedDatabase({
      databasePath,
      items: opts.items,
      owners: opts.owners,
      mine: 200,
      patchPool: 2000,
      outcomeMeetings,
    });
    console.log(
      `seeded in ${round1(fixtures.seedMs / 1000)} s (${fixtures.databaseMb} MB); ` +
        `${fixtures.patchIds.length} items to patch, ${fixtures.meetingIds.length} planned meetings`,
    );
    const { scenarios, built } = createScenarios(fixtures, runId);
    const selected = opts.scenarios.map((name) => scenarios[name]);

    const watchdog = setTimeout(
      () => {
        console.error(
          `\nthe run exceeded its bound (${Math.round(planned * 1.5 + 30)} s of load): stopped`,
        );
        killChildren();
        process.exit(2);
      },
      (planned * 1.5 + 30) * 1000,
    );
    watchdog.unref();

    const env = serviceEnv(databasePath);
    const tally = new Map<string, number>();
    const loadStarted = new Date().toISOString();
    if (opts.profile) {
      await profileRun(opts, app, env, logFile, selected, dir);
      return;
    }
    const coldStarts: number[] = [];
    for (let i = 0; i < COLD_STARTS; i++) {
      const probe = Server.start('service', app, app.service, env, logFile, {
        nodeArgs: opts.nodeOptions,
      });
      coldStarts.push(Math.round(await probe.ready()));
      await probe.stop();
    }
    const coldStartMs = median(coldStarts);
    console.log(
      `cold start to the first 200 on /health: ${coldStarts.join(', ')} ms (median ${coldStartMs})`,
    );

    const service = Server.start('service', app, app.service, env, logFile, {
      nodeArgs: opts.nodeOptions,
    });
    await service.ready();
    const baseline = Server.start('baseline', app, app.baseline, env, logFile);
    await baseline.ready();
    const idle = (pid: number) => {
      const m = memoryOf(pid);
      return { rss: round1(m.rss), anon: round1(m.anon), file: round1(m.file) };
    };
    const idleRss = { service: idle(service.pid), baseline: idle(baseline.pid) };
    const tokens: Tokens = {
      delegate: await signIn(service, 'delegate.in'),
      secretariat: await signIn(service, 'sec.in'),
      secretariatUs: await signIn(service, 'sec.us'),
    };
    const pageSize = await checkParity(service, baseline, tokens.delegate);
    console.log(
      `the baseline answers the hot read with the same ${pageSize}-item page as the service`,
    );

    const runs = new Map<string, RunFigures[]>();
    for (let round = 1; round <= opts.rounds; round++) {
      for (const scenario of selected) {
        const targets: [Target, Server][] = [['service', service]];
        if (WITH_BASELINE.includes(scenario.name)) {
          targets.push(['baseline', baseline]);
        }
        // Alternate who goes first, so that drift over a round weighs on both alike.
        if (round % 2 === 0) {
          targets.reverse();
        }
        for (const [target, server] of targets) {
          const connections = scenario.connections ?? opts.connections;
          if (opts.warmup > 0) {
            await load(server, scenario, target, tokens, connections, opts.warmup, tally);
          }
          const figures = await load(
            server,
            scenario,
            target,
            tokens,
            connections,
            opts.duration,
            tally,
          );
          const key = `${scenario.name}:${target}`;
          runs.set(key, [...(runs.get(key) ?? []), figures]);
          console.log(
            `round ${round} ${scenario.name.padEnd(11)} ${target.padEnd(8)} ${String(figures.rps).padStart(8)} req/s ` +
              `p50 ${figures.p50} ms p99 ${figures.p99} ms errors ${figures.errors} RSS ${figures.rssPeakMb} MiB (anon ${figures.anonPeakMb}) other CPU ${figures.otherCpuPercent}%` +
              (figures.errors ? ` ${JSON.stringify(figures.statusCodes)}` : ''),
          );
        }
      }
    }
    await Promise.all([service.stop(), baseline.stop()]);

    const results: Partial<Record<ScenarioName, ScenarioResult>> = {};
    for (const scenario of selected) {
      const ours = summarize(runs.get(`${scenario.name}:service`)!);
      const theirs = WITH_BASELINE.includes(scenario.name)
        ? summarize(runs.get(`${scenario.name}:baseline`)!)
        : undefined;
      results[scenario.name] = {
        description: scenario.description,
        connections: scenario.connections ?? opts.connections,
        service: ours,
        ...(theirs ? { baseline: theirs, ratio: round2(ours.median.rps / theirs.median.rps) } : {}),
      };
    }

    let compare: { items: number; rps: number } | undefined;
    if (opts.compare) {
      const earlier = JSON.parse(readFileSync(opts.compare, 'utf8')) as {
        items: number;
        scenarios: Partial<Record<ScenarioName, ScenarioResult>>;
      };
      const hot = earlier.scenarios['hot-read'];
      compare = hot ? { items: earlier.items, rps: hot.service.median.rps } : undefined;
      const now = results['hot-read'];
      if (hot?.baseline && now?.baseline) {
        console.log(
          `\nthe baseline's hot read: ${hot.baseline.median.rps} req/s at ${earlier.items} items, ` +
            `${now.baseline.median.rps} req/s at ${opts.items} (what the data size costs SQLite itself)`,
        );
      }
    }
    const targetVerdicts = verdicts(results, coldStartMs, compare, opts.items);
    const writes = checkWrites(databasePath, fixtures, loadStarted, tally);
    const used = built();

    console.log(
      `\nMedians of ${opts.rounds} rounds, ${opts.duration} s each, ${opts.items} items ` +
        `(latencies in ms at the client; RSS = peak under load; ratio = service req/s / baseline req/s)\n`,
    );
    console.log(table(results));
    const noisiest = Math.max(
      ...Object.values(results).flatMap((r) => [
        r.service.otherCpuPercentMax,
        r.baseline?.otherCpuPercentMax ?? 0,
      ]),
    );
    if (noisiest > 10) {
      console.log(
        `\nnote: other processes took up to ${noisiest}% of the machine's CPU during a run; ` +
          'figures from such runs are noisy (see otherCpuPercent in the JSON)',
      );
    }
    const show = (m: { rss: number; anon: number; file: number }) =>
      `${m.rss} MiB (anon ${m.anon}, file ${m.file})`;
    console.log(
      `\nidle RSS: service ${show(idleRss.service)}, baseline ${show(idleRss.baseline)}; ` +
        "'anon' = RssAnon, the process's own memory; 'file' = mapped files: the node binary, " +
        'and database pages under mmap_size',
    );
    console.log(`cold start (median of ${COLD_STARTS}): ${coldStartMs} ms`);
    console.log('\ntargets:');
    for (const v of targetVerdicts) {
      const mark = v.pass === null ? 'n/a ' : v.pass ? 'PASS' : 'FAIL';
      console.log(`  ${mark}  ${v.target}: ${v.value ?? '-'} (target ${v.limit})`);
    }
    const anon = Math.max(...Object.values(results).map((r) => r.service.anonPeakMb));
    console.log(
      `  info  service RssAnon under load (MiB): ${anon} ` +
        '(RSS less mapped files: the database pages under mmap_size and the node binary)',
    );
    if (opts.scenarios.some((name) => ['create', 'patch', 'outcomes'].includes(name))) {
      console.log(
        `\nwrites (the database may hold up to one more per connection and run than was ` +
          `answered: requests cut off when a run stopped): ${JSON.stringify(writes)}`,
      );
    }
    if (used.outcomes > fixtures.meetingIds.length) {
      console.log(
        `note: ${used.outcomes - fixtures.meetingIds.length} outcome posts reused an already held meeting`,
      );
    }

    const result = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      items: opts.items,
      owners: opts.owners,
      connections: opts.connections,
      duration: opts.duration,
      warmup: opts.warmup,
      rounds: opts.rounds,
      seed: {
        ms: fixtures.seedMs,
        databaseMb: fixtures.databaseMb,
        wallMs: Math.round(performance.now() - seedStarted),
      },
      coldStartMs: { median: coldStartMs, runs: coldStarts },
      idleRssMb: idleRss,
      scenarios: results,
      targets: targetVerdicts,
      writes,
      outcomeMeetings: { pool: fixtures.meetingIds.length, posted: used.outcomes },
    };
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, JSON.stringify(result, null, 2) + '\n');
    console.log(`\nwritten to ${opts.out}`);
  } finally {
    killChildren();
    if (!opts.keep) {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Each scenario against its own profiled service process; only the load is profiled. */
async function profileRun(
  opts: Options,
  app: App,
  env: NodeJS.ProcessEnv,
  logFile: string,
  scenarios: Scenario[],
  dir: string,
): Promise<void> {
  const summaries: Record<string, ProfileSummary> = {};
  let tokens: Tokens | undefined;
  for (const scenario of scenarios) {
    const file = join(dir, `${scenario.name}.cpuprofile`);
    const service = Server.start(
      'service',
      app,
      app.service,
      { ...env, BENCH_CPU_PROFILE: file },
      logFile,
      { nodeArgs: [...opts.nodeOptions, '--import', app.profileHook], ipc: true },
    );
    await service.ready();
    tokens ??= {
      delegate: await signIn(service, 'delegate.in'),
      secretariat: await signIn(service, 'sec.in'),
      secretariatUs: await signIn(service, 'sec.us'),
    };
    const connections = scenario.connections ?? opts.connections;
    const tally = new Map<string, number>();
    if (opts.warmup > 0) {
      await load(service, scenario, 'service', tokens, connections, opts.warmup, tally);
    }
    service.child.send('profile:start');
    await delay(50);
    const figures = await load(
      service,
      scenario,
      'service',
      tokens,
      connections,
      opts.duration,
      tally,
    );
    const exited = once(service.child, 'exit');
    service.child.send('profile:stop');
    await exited;
    summaries[scenario.name] = {
      ...summarizeProfile(file),
      ...summarizeStatements(file, figures.responses),
    };
    console.log(
      `\n${scenario.name} under the profiler: ${figures.rps} req/s, p50 ${figures.p50} ms, ` +
        `p99 ${figures.p99} ms, errors ${figures.errors}`,
    );
    printProfile(scenario.name, summaries[scenario.name]);
    const kept = join(dirname(opts.out), `${scenario.name}.cpuprofile`);
    mkdirSync(dirname(kept), { recursive: true });
    writeFileSync(kept, readFileSync(file));
    console.log(`profile kept as ${kept} (open it in Chrome DevTools or speedscope)`);
  }
  const out = opts.out.replace(/\.json$/, '') + '.profile.json';
  writeFileSync(out, JSON.stringify({ items: opts.items, summaries }, null, 2) + '\n');
  console.log(`\nsummaries written to ${out}`);
}

process.once('SIGINT', () => {
  killChildren();
  process.exit(130);
});

await main();
