/**
 * Reads a V8 .cpuprofile and says where the time went: self time by function and by package,
 * and inclusive time of the service's own functions (each counted once per stack, however
 * deep it recurses).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  /** Of the busy (not idle) time. */
  percent: number;
}

export interface StatementFigures {
  /** The statement, numbers written as N. */
  sql: string;
  perRequest: number;
  /** Milliseconds per request spent running it (COMMIT: the fsync of synchronous=FULL). */
  msPerRequest: number;
  /** Texts that differ only by numbers TypeORM wrote inline: each one a new prepare. */
  distinctTexts: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** SQL statements run per HTTP response, in all and the most frequent. */
  statementsPerRequest?: number;
  sqlMsPerRequest?: number;
  statements?: StatementFigures[];
  /** Peaks of process.memoryUsage() in the service under load, MiB. */
  memory?: Record<string, number>;
  /** Time the event loop had nothing to do: the part of the run the process was not busy. */
  idlePercent: number;
  selfByFunction: Share[];
  selfByPackage: Share[];
  inclusiveAppFunctions: Share[];
}

/** node_modules/<pkg>, the service's own code, node's internals, or V8's pseudo-frames. */
export function packageOf(url: string, functionName: string): string {
  if (url === '') {
    return functionName.startsWith('(') ? functionName : '(native)';
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 14).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) {
    return 'node';
  }
  if (url.includes('/dist/bench/')) {
    // The profile hook's wrapper around better-sqlite3's calls: V8 books part of the native
    // statement's time on its JS caller.
    return 'better-sqlite3 (native, via the profile hook)';
  }
  const app = /\/dist\/(src\/)?(.*)$/.exec(url);
  return app ? `app:${app[2].split('/')[0]}` : url;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (url.includes('/dist/bench/bench/profile-hook')) {
    return 'better-sqlite3 statement (native, booked on the profile hook)';
  }
  if (url === '') {
    return functionName || '(anonymous)';
  }
  const file = url.replace(/^.*\/node_modules\//, '').replace(/^.*\/dist\//, 'dist/');
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

function top(totals: Map<string, number>, all: number, count: number): Share[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({
      name,
      ms: Math.round(us / 1000),
      percent: Math.round((us / all) * 1000) / 10,
    }));
}

/** The statements the profile hook recorded beside the profile, per response. */
export function summarizeStatements(
  file: string,
  responses: number,
): Pick<ProfileSummary, 'statementsPerRequest' | 'sqlMsPerRequest' | 'statements' | 'memory'> {
  const recorded = JSON.parse(readFileSync(`${file}.sql.json`, 'utf8')) as Record<
    string,
    { n: number; ms: number }
  >;
  const grouped = new Map<string, { n: number; ms: number; texts: number }>();
  for (const [sql, { n, ms }] of Object.entries(recorded)) {
    const key = sql.replace(/\s+/g, ' ').replace(/\b\d+\b/g, 'N');
    const entry = grouped.get(key) ?? { n: 0, ms: 0, texts: 0 };
    grouped.set(key, { n: entry.n + n, ms: entry.ms + ms, texts: entry.texts + 1 });
  }
  const per = (n: number) => Math.round((n / Math.max(1, responses)) * 1000) / 1000;
  const all = [...grouped.values()];
  return {
    memory: JSON.parse(readFileSync(`${file}.memory.json`, 'utf8')) as Record<string, number>,
    statementsPerRequest: per(all.reduce((sum, e) => sum + e.n, 0)),
    sqlMsPerRequest: per(all.reduce((sum, e) => sum + e.ms, 0)),
    statements: [...grouped.entries()]
      .sort((a, b) => b[1].n - a[1].n)
      .map(([sql, e]) => ({
        sql: sql.slice(0, 140),
        perRequest: per(e.n),
        msPerRequest: per(e.ms),
        distinctTexts: e.texts,
      })),
  };
}

export function summarizeProfile(file: string, count = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const all = [...self.values()].reduce((a, b) => a + b, 0);

  const selfByFunction = new Map<string, number>();
  const selfByPackage = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const name = label(node);
    selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + us);
    const pkg = packageOf(node.callFrame.url, node.callFrame.functionName);
    selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + us);
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
    }
  }

  // Inclusive time of the service's functions: a node's subtree, unless an ancestor on the
  // stack already counts the same function.
  const inclusive = new Map<string, number>();
  const subtree = new Map<number, number>();
  const sizeOf = (node: ProfileNode): number => {
    let total = self.get(node.id) ?? 0;
    for (const child of node.children ?? []) {
      total += sizeOf(byId.get(child)!);
    }
    subtree.set(node.id, total);
    return total;
  };
  const root = profile.nodes[0];
  sizeOf(root);
  const onStack = new Map<string, number>();
  const walk = (node: ProfileNode) => {
    const isApp = packageOf(node.callFrame.url, node.callFrame.functionName).startsWith('app:');
    const name = label(node);
    const counted = isApp && !onStack.get(name);
    if (counted) {
      inclusive.set(name, (inclusive.get(name) ?? 0) + subtree.get(node.id)!);
    }
    onStack.set(name, (onStack.get(name) ?? 0) + 1);
    for (const child of node.children ?? []) {
      walk(byId.get(child)!);
    }
    onStack.set(name, onStack.get(name)! - 1);
  };
  walk(root);

  // Shares are of the busy time: what the process spent while it had work.
  const busy = Math.max(1, all - idle);
  selfByFunction.delete('(idle)');
  selfByPackage.delete('(idle)');
  return {
    totalMs: Math.round(all / 1000),
    idlePercent: Math.round((idle / all) * 1000) / 10,
    selfByFunction: top(selfByFunction, busy, count),
    selfByPackage: top(selfByPackage, busy, count),
    inclusiveAppFunctions: top(inclusive, busy, count),
  };
}
