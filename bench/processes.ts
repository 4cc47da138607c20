/**
 * The benchmark's child processes: the service and the baseline started from a snapshot of
 * the build, on port 0, watched through /proc (their port, their resident memory, the CPU
 * other processes take meanwhile), and stopped whatever happens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root, from dist/bench/bench/. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const COLD_STARTS = 3;
const START_TIMEOUT_MS = 30_000;

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

export interface Memory {
  /** VmRSS: what the target is about. */
  rss: number;
  /** RssAnon: the heap and native allocations, the part that is the process's own. */
  anon: number;
  /** RssFile: pages of mapped files, mostly the database under mmap_size (page cache). */
  file: number;
}

/** The resident memory of a process, in MiB. */
export function memoryOf(pid: number): Memory {
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
export function otherCpu(): () => number {
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

export const delay = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A child process the benchmark started, and stops. */
export class Server {
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
export interface App {
  root: string;
  service: string;
  /** The baseline for the database under test. */
  baseline: string;
  profileHook: string;
}

/**
 * The compiled files the benchmark starts besides the service, read as soon as it starts
 * (dist/bench/ goes with the next `nest build`, which empties dist/).
 */
export function readOwnFiles(): Map<string, string> {
  const compiled = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  return new Map(
    [
      'bench/baseline-common.js',
      'bench/baseline-server.js',
      'bench/baseline-server-pg.js',
      'bench/profile-hook.js',
      'src/database/sqlite-pragmas.js',
    ].map((file) => [file, readFileSync(join(compiled, file), 'utf8')]),
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
export async function snapshotBuild(
  dir: string,
  dist: string,
  ownFiles: Map<string, string>,
  baselineScript: string,
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
    baseline: join(root, 'dist/bench/bench', baselineScript),
    profileHook: join(root, 'dist/bench/bench/profile-hook.js'),
  };
}

/** Every child still running, so that an abort never leaves one behind. */
const live = new Set<ChildProcess>();
export function killChildren(): void {
  for (const child of live) {
    child.kill('SIGKILL');
  }
}

/** Milliseconds from spawn to the first 200 on /health, COLD_STARTS times over. */
export async function measureColdStarts(
  app: App,
  env: NodeJS.ProcessEnv,
  logFile: string,
  nodeArgs: string[],
): Promise<number[]> {
  const coldStarts: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const probe = Server.start('service', app, app.service, env, logFile, { nodeArgs });
    coldStarts.push(Math.round(await probe.ready()));
    await probe.stop();
  }
  return coldStarts;
}
