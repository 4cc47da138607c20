/**
 * Preloaded into the service (node --import) when the benchmark profiles it. Over the IPC
 * channel the benchmark opens, 'profile:start' starts V8's CPU profiler and counts and times
 * the SQL statements better-sqlite3 runs (or, on PostgreSQL, the queries pg sends, from the
 * call to the answer: round trips included); 'profile:stop' writes the profile to
 * BENCH_CPU_PROFILE, the statements and the peaks of process.memoryUsage() beside it
 * (.sql.json, .memory.json), and exits. Only the load is measured, not the boot, and
 * the service's code is left as it is. (Not a signal: the service's shutdown hooks listen to
 * SIGUSR2 and the rest, and SIGUSR1 belongs to the inspector.)
 */
import type BetterSqlite3 from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import type pg from 'pg';
import { Session } from 'node:inspector';
import { createRequire } from 'node:module';

type Method = (this: BetterSqlite3.Statement, ...args: unknown[]) => unknown;

const out = process.env.BENCH_CPU_PROFILE;
if (out && process.send) {
  /** Per statement text: how many times it ran, and for how many milliseconds in all. */
  const statements = new Map<string, { n: number; ms: number }>();
  let counting = false;
  const timed = <T>(sql: string, run: () => T): T => {
    if (!counting) {
      return run();
    }
    const started = performance.now();
    try {
      return run();
    } finally {
      const entry = statements.get(sql) ?? { n: 0, ms: 0 };
      entry.n += 1;
      entry.ms += performance.now() - started;
      statements.set(sql, entry);
    }
  };

  // The same module instance the service's TypeORM driver loads (one realpath, one cache).
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its `this` below
  const prepare = Database.prototype.prepare;
  let wrapped = false;
  Database.prototype.prepare = function (this: BetterSqlite3.Database, sql: string) {
    const statement = prepare.call(this, sql);
    if (!wrapped) {
      wrapped = true;
      const proto = Object.getPrototypeOf(statement) as Record<string, Method>;
      for (const name of ['run', 'get', 'all', 'iterate']) {
        const original = proto[name];
        proto[name] = function (this: BetterSqlite3.Statement, ...args: unknown[]) {
          return timed(this.source, () => original.apply(this, args));
        };
      }
    }
    return statement;
  } as typeof prepare;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its `this` below
  const exec = Database.prototype.exec;
  Database.prototype.exec = function (this: BetterSqlite3.Database, sql: string) {
    return timed(sql, () => exec.call(this, sql));
  };

  // pg's queries, promise form (TypeORM's): timed until the answer or the error.
  const Client = (createRequire(import.meta.url)('pg') as typeof pg).Client;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its `this` below
  const query = Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
  Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const result = query.apply(this, args);
    if (counting && result instanceof Promise) {
      const config = args[0] as string | { text?: string };
      const sql = typeof config === 'string' ? config : (config.text ?? '?');
      const started = performance.now();
      const record = () => {
        const entry = statements.get(sql) ?? { n: 0, ms: 0 };
        entry.n += 1;
        entry.ms += performance.now() - started;
        statements.set(sql, entry);
      };
      result.then(record, record);
    }
    return result;
  } as typeof Client.prototype.query;

  /** Peaks of the heap and of native memory while measuring: what RSS is made of. */
  const memory: Record<string, number> = {};
  let sampler: NodeJS.Timeout | undefined;
  const sampleMemory = () => {
    for (const [name, bytes] of Object.entries(process.memoryUsage())) {
      memory[`${name}PeakMb`] = Math.max(
        memory[`${name}PeakMb`] ?? 0,
        Math.round(bytes / 104857.6) / 10,
      );
    }
  };

  const session = new Session();
  session.connect();
  process.on('message', (message) => {
    if (message === 'profile:start') {
      counting = true;
      sampler = setInterval(sampleMemory, 100);
      session.post('Profiler.enable', () => session.post('Profiler.start'));
    } else if (message === 'profile:stop') {
      counting = false;
      clearInterval(sampler);
      sampleMemory();
      session.post('Profiler.stop', (error, result) => {
        if (!error) {
          writeFileSync(out, JSON.stringify(result.profile));
          writeFileSync(`${out}.sql.json`, JSON.stringify(Object.fromEntries(statements)));
          writeFileSync(`${out}.memory.json`, JSON.stringify(memory));
        }
        process.exit(error ? 1 : 0);
      });
    }
  });
}
