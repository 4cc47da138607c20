/**
 * The service under HTTP load, next to a minimal baseline on the same database.
 *
 *   npm run bench [-- options]
 *   DATABASE_URL='postgres://user@host:5432/database?schema=jwg_bench' npm run bench [-- options]
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
 *   --node-options=S   flags for the service's node (default as `npm start`:
 *                      --max-semi-space-size=4 --heap-growing-percent=50)
 *   --keep             keep the temporary directory (and the PostgreSQL schema)
 *
 * Copies the build to a temporary directory (a concurrent `nest build` empties dist/), builds
 * a fresh database through the service's migrations and fills it (bench/database.ts,
 * bench/seed-database.ts): a SQLite file in that directory, or with DATABASE_URL a PostgreSQL
 * schema (jwg_bench unless the URL names one; made fresh, dropped at the end). Then it
 * measures the service's cold start (spawn to the first 200 on /health, three times), starts
 * the built service (node dist/main.js) and the baseline (bench/baseline-server.ts, or
 * bench/baseline-server-pg.ts) as child processes (bench/processes.ts), checks that both
 * answer the hot read with the same page, and drives each with autocannon, scenario by
 * scenario, alternating which goes first in each round (bench/load.ts).
 *
 * Latencies are the client's, in milliseconds, over every response; errors are non-2xx
 * answers, socket errors and timeouts; RSS is the peak VmRSS of the process under load (with
 * its RssAnon part: VmRSS also counts the database pages mapped under mmap_size; PostgreSQL's
 * own processes are not counted). Each run also records how much of the machine's CPU other
 * processes took meanwhile (PostgreSQL's server among them): on a shared machine, that says
 * which figures are noise. After the load, the database is checked for what the writes must
 * leave: audit events and idempotency records (bench/report.ts prints it all).
 *
 * The whole run is bounded: it stops (and says so) past one and a half times its announced
 * length. Seeding comes before and is reported on its own (about 6 s per 100k items).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type BenchDatabase, benchDatabase } from './database.js';
import {
  checkParity,
  checkWrites,
  load,
  median,
  round1,
  round2,
  type RunFigures,
  signInAll,
  summarize,
} from './load.js';
import {
  type App,
  COLD_STARTS,
  delay,
  killChildren,
  measureColdStarts,
  memoryOf,
  readOwnFiles,
  ROOT,
  Server,
  snapshotBuild,
} from './processes.js';
import { summarizeProfile, summarizeStatements, type ProfileSummary } from './profile-summary.js';
import {
  printProfile,
  printSummary,
  type Results,
  type ScenarioResult,
  verdicts,
  writeResult,
} from './report.js';
import {
  createScenarios,
  type Scenario,
  SCENARIO_NAMES,
  type ScenarioName,
  type Target,
  type Tokens,
  WITH_BASELINE,
} from './scenarios.js';
import { BENCH_PASSWORD, seedDatabase } from './seed-database.js';

const JWT_SECRET = 'jwg-bench-secret-that-is-at-least-32-bytes-long';
/** Spawns, sign-ins and checks between the measured runs, per run, roughly. */
const OVERHEAD_PER_RUN_S = 0.5;

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
      // As `npm start` runs the service: a smaller young generation keeps RSS down.
      'node-options': {
        type: 'string',
        default: '--max-semi-space-size=4 --heap-growing-percent=50',
      },
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

/** The baseline's environment; the service gets the same, and what `npm start` sets. */
function baselineEnv(database: BenchDatabase): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    ...database.env,
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

function serviceEnv(database: BenchDatabase): NodeJS.ProcessEnv {
  return {
    ...baselineEnv(database),
    // As `npm start` runs it: glibc gives argon2's freed hash memory back at once instead of
    // keeping it in the heap, where it inflates RSS.
    MALLOC_MMAP_THRESHOLD_: '131072',
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

async function main(): Promise<void> {
  const ownFiles = readOwnFiles();
  const opts = options();
  const runId = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'jwg-http-bench-'));
  const logFile = join(dir, 'servers.log');
  let database: BenchDatabase | undefined;
  try {
    database = await benchDatabase({
      dir,
      keep: opts.keep,
      url: process.env.DATABASE_URL || undefined,
    });
    // One planned meeting per outcomes post, at up to 300 posts a second (past that, reused).
    const outcomeMeetings = Math.max(500, (opts.duration + opts.warmup) * opts.rounds * 300);

    const planned = plannedSeconds(opts);
    console.log(
      `JWG Tracker HTTP benchmark (${opts.profile ? 'profile' : 'measure'}): ${opts.items} items, ` +
        `${opts.owners} owners, ${opts.connections} connections, ${opts.duration}s (+${opts.warmup}s warm-up) ` +
        `x ${opts.scenarios.length} scenarios x ${opts.profile ? 1 : opts.rounds} rounds` +
        `\nnode ${process.version}, ${cpus().length} CPUs; ${database.label}; working directory ${dir}` +
        `\nexpected: seeding, then about ${planned} s of load (stopped at ${Math.round(planned * 1.5 + 30)} s)`,
    );

    // Before anything else: the build as it is now.
    const app = await snapshotBuild(dir, opts.dist, ownFiles, database.baselineScript);
    const seedStarted = performance.now();
    console.log(`seeding ${opts.items} action items through the migrations ...`);
    const fixtures = await seedDatabase(database, {
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

    const env = serviceEnv(database);
    const tally = new Map<string, number>();
    const loadStarted = new Date().toISOString();
    if (opts.profile) {
      await profileRun(opts, app, env, logFile, selected, dir);
      return;
    }
    const coldStarts = await measureColdStarts(app, env, logFile, opts.nodeOptions);
    const coldStartMs = median(coldStarts);
    console.log(
      `cold start to the first 200 on /health: ${coldStarts.join(', ')} ms (median ${coldStartMs})`,
    );

    const service = Server.start('service', app, app.service, env, logFile, {
      nodeArgs: opts.nodeOptions,
    });
    await service.ready();
    const baseline = Server.start('baseline', app, app.baseline, baselineEnv(database), logFile);
    await baseline.ready();
    const idle = (pid: number) => {
      const m = memoryOf(pid);
      return { rss: round1(m.rss), anon: round1(m.anon), file: round1(m.file) };
    };
    const idleRss = { service: idle(service.pid), baseline: idle(baseline.pid) };
    const tokens = await signInAll(service);
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

    const results: Results = {};
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
            `${now.baseline.median.rps} req/s at ${opts.items} (what the data size costs the database itself)`,
        );
      }
    }
    const targetVerdicts = verdicts(results, coldStartMs, compare, opts.items);
    const writes = await checkWrites(database, fixtures, loadStarted, tally);
    const used = built();
    const outcomeMeetingsUsed = { pool: fixtures.meetingIds.length, posted: used.outcomes };

    printSummary({
      database: database.label,
      rounds: opts.rounds,
      duration: opts.duration,
      items: opts.items,
      results,
      idleRss,
      coldStartMs,
      verdicts: targetVerdicts,
      writes: opts.scenarios.some((name) => ['create', 'patch', 'outcomes'].includes(name))
        ? writes
        : undefined,
      outcomeMeetings: outcomeMeetingsUsed,
    });

    writeResult(opts.out, {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      database: database.kind,
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
      outcomeMeetings: outcomeMeetingsUsed,
    });
  } finally {
    killChildren();
    await database?.close();
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
    tokens ??= await signInAll(service);
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
