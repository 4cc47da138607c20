/**
 * What a run reports: the table of medians against the baseline, the verdicts on the
 * performance targets, the notes on noise and memory, CPU profiles, and the JSON result.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { round2, type TargetFigures } from './load.js';
import { COLD_STARTS } from './processes.js';
import type { ProfileSummary } from './profile-summary.js';
import type { ScenarioName } from './scenarios.js';

const TARGETS = {
  hotReadRatio: 0.6,
  createRatio: 0.4,
  hotReadC1P99Ms: 5,
  scaleCostRatio: 1.25,
  coldStartMs: 1500,
  rssMb: 200,
} as const;

export interface ScenarioResult {
  description: string;
  connections: number;
  service: TargetFigures;
  baseline?: TargetFigures;
  /** Median service req/s over median baseline req/s. */
  ratio?: number;
}

export type Results = Partial<Record<ScenarioName, ScenarioResult>>;

export interface Verdict {
  target: string;
  value: number | null;
  limit: string;
  pass: boolean | null;
}

export interface MemoryFigures {
  rss: number;
  anon: number;
  file: number;
}

export function table(results: Results): string {
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

export function verdicts(
  results: Results,
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

export function printProfile(name: string, summary: ProfileSummary): void {
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
        `${summary.sqlMsPerRequest} ms in the database driver (count, ms, statement; on PostgreSQL, ms to the answer):`,
    );
    for (const s of summary.statements.slice(0, 25)) {
      const texts = s.distinctTexts > 1 ? ` [${s.distinctTexts} distinct texts]` : '';
      console.log(
        `  ${String(s.perRequest).padStart(6)} ${s.msPerRequest.toFixed(3).padStart(7)}  ${s.sql}${texts}`,
      );
    }
  }
}

export interface Summary {
  /** What the service ran on, e.g. "SQLite" or "PostgreSQL (schema jwg_bench)". */
  database: string;
  rounds: number;
  duration: number;
  items: number;
  results: Results;
  idleRss: { service: MemoryFigures; baseline: MemoryFigures };
  coldStartMs: number;
  verdicts: Verdict[];
  /** What the writes left behind; printed when a scenario writes. */
  writes: Record<string, number> | undefined;
  outcomeMeetings: { pool: number; posted: number };
}

export function printSummary(summary: Summary): void {
  const { results } = summary;
  console.log(
    `\nMedians of ${summary.rounds} rounds, ${summary.duration} s each, ${summary.items} items, ` +
      `${summary.database} ` +
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
  const show = (m: MemoryFigures) => `${m.rss} MiB (anon ${m.anon}, file ${m.file})`;
  console.log(
    `\nidle RSS: service ${show(summary.idleRss.service)}, baseline ${show(summary.idleRss.baseline)}; ` +
      "'anon' = RssAnon, the process's own memory; 'file' = mapped files: the node binary, " +
      'and database pages under mmap_size',
  );
  console.log(`cold start (median of ${COLD_STARTS}): ${summary.coldStartMs} ms`);
  console.log('\ntargets:');
  for (const v of summary.verdicts) {
    const mark = v.pass === null ? 'n/a ' : v.pass ? 'PASS' : 'FAIL';
    console.log(`  ${mark}  ${v.target}: ${v.value ?? '-'} (target ${v.limit})`);
  }
  const anon = Math.max(...Object.values(results).map((r) => r.service.anonPeakMb));
  console.log(
    `  info  service RssAnon under load (MiB): ${anon} ` +
      '(RSS less mapped files: the database pages under mmap_size and the node binary)',
  );
  if (summary.writes) {
    console.log(
      `\nwrites (the database may hold up to one more per connection and run than was ` +
        `answered: requests cut off when a run stopped): ${JSON.stringify(summary.writes)}`,
    );
  }
  const { pool, posted } = summary.outcomeMeetings;
  if (posted > pool) {
    console.log(`note: ${posted - pool} outcome posts reused an already held meeting`);
  }
}

export function writeResult(file: string, result: object): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nwritten to ${file}`);
}
