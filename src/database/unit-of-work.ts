import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import type BetterSqlite3 from 'better-sqlite3';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { StaleVersionError } from './versioned-update.js';

interface Unit {
  em: EntityManager;
  writable: boolean;
}

/** Work a transaction runs last, just before it commits (the audit chain append). */
type Finisher = () => Promise<void>;

const finishers = new WeakMap<EntityManager, Finisher[]>();

/**
 * Schedules `finish` to run at the end of the unit's transaction that `em` belongs to, after
 * its work and before COMMIT. False when `em` is not a unit's transaction (the caller then
 * does the work at once).
 */
export function beforeCommit(em: EntityManager, finish: Finisher): boolean {
  const queue = finishers.get(em);
  queue?.push(finish);
  return queue !== undefined;
}

/**
 * PostgreSQL errors after which the whole unit runs again (besides a StaleVersionError): a
 * deadlock, a serialization failure, and a unique violation (two instances racing for the same key, e.g. the next
 * meeting number or an Idempotency-Key; the rerun sees the winner's row and answers as a
 * lone request would, 409 or the stored reply).
 */
const RETRYABLE = new Set(['40P01', '40001', '23505']);
const ATTEMPTS = 4;

/** A unit waiting its turn on SQLite. */
interface Waiting {
  work: (em: EntityManager) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** How a unit of a shared SQLite transaction ended, told to its caller once that commits. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Most writes one SQLite transaction carries, so that reads waiting behind a long run of
 * writes are not kept long.
 */
const MOST_WRITES_PER_COMMIT = 64;

/**
 * The one door to the database.
 *
 * SQLite: TypeORM's driver shares a single connection between all requests, so a transaction
 * opened while another is pending would run inside it as a savepoint and vanish with its
 * rollback, or keep rows that were rolled back (typeorm #1884, #8668; see
 * test/unit/unit-of-work.spec.ts). Every unit therefore waits its turn, one at a time: reads
 * in the order they came, outside any transaction (a read never sees uncommitted rows), then
 * the writes waiting meanwhile, in the order they came, in one transaction (group commit).
 * Each write runs in its own savepoint, undone alone if it throws, and the one COMMIT (with
 * synchronous=FULL, one fsync of the WAL) makes them durable together: under load the cost
 * of a commit is shared by every request in flight. No caller hears of its write before that
 * COMMIT, neither success nor failure (a write may have seen an earlier one's rows). If the
 * COMMIT fails, or SQLite drops the whole transaction (disk full, I/O error), every write of
 * the group that ran fails with that error and nothing of them is kept; the writes not yet
 * run go to the next group. A read that comes while writes wait may run before them: none
 * of them is answered yet, so either order is one their callers could have seen.
 *
 * PostgreSQL: each transaction takes its own pooled connection (READ COMMITTED); units run
 * side by side, in this instance and in others. Races are settled by the database: conditional
 * UPDATEs, unique keys, row locks (FOR UPDATE SKIP LOCKED) and an advisory lock for the audit
 * chain; a unit that loses a race with a retryable error runs again (at most ATTEMPTS times).
 *
 * A unit started inside another joins it: a request that records its Idempotency-Key runs
 * the whole handler in one unit, so the record commits with the change or not at all.
 * Starting a transaction inside a read is a programming error and rejects.
 *
 * Keep units short and free of slow work (password hashing, network): on SQLite every unit
 * waits on whatever the running one awaits, on PostgreSQL a connection of the pool does.
 */
@Injectable()
export class UnitOfWork {
  private readonly reads: Waiting[] = [];
  private readonly writes: Waiting[] = [];
  private draining = false;
  private readonly current = new AsyncLocalStorage<Unit>();
  private readonly pooled: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.pooled = dataSource.options.type === 'postgres';
  }

  /** Runs `work` in one transaction; it commits when `work` resolves and rolls back if it throws. */
  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    const unit = this.current.getStore();
    if (unit) {
      return unit.writable
        ? work(unit.em)
        : Promise.reject(new Error('A transaction cannot start inside a read'));
    }
    return this.pooled
      ? withRetries(() => this.dataSource.transaction((em) => this.runWrite(em, work)))
      : this.wait(this.writes, work);
  }

  /** Runs read-only `work` outside a transaction (on SQLite, in turn with every other unit). */
  read<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    const unit = this.current.getStore();
    if (unit) {
      return work(unit.em);
    }
    return this.pooled ? this.runRead(work) : this.wait(this.reads, work);
  }

  /** A write's work, then what it scheduled for just before COMMIT. */
  private async runWrite<T>(em: EntityManager, work: (em: EntityManager) => Promise<T>) {
    finishers.set(em, []);
    const result = await this.current.run({ em, writable: true }, () => work(em));
    for (const finish of finishers.get(em)!) {
      await finish();
    }
    return result;
  }

  /** Async, so that work throwing at once rejects like any other failure. */
  private async runRead<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    const em = this.dataSource.manager;
    return this.current.run({ em, writable: false }, () => work(em));
  }

  private wait<T>(line: Waiting[], work: (em: EntityManager) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      line.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.draining) {
        return;
      }
      this.draining = true;
      if (line === this.writes) {
        // A unit's statements run synchronously: a write that started at once would commit
        // before any other request is read from the network. Waiting for the end of this
        // turn of the event loop lets the writes of the requests read in it share the COMMIT.
        setImmediate(() => void this.drain());
      } else {
        void this.drain();
      }
    });
  }

  /**
   * Takes turns on SQLite until nothing waits: reads while any wait (a request's next read
   * comes as its last one ends), then the writes waiting, as one group.
   */
  private async drain(): Promise<void> {
    try {
      while (this.reads.length > 0 || this.writes.length > 0) {
        for (let read = this.reads.shift(); read; read = this.reads.shift()) {
          await this.runRead(read.work).then(read.resolve, read.reject);
        }
        if (this.writes.length > 0) {
          await this.commitGroup(this.writes.splice(0, MOST_WRITES_PER_COMMIT));
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Writes in one transaction, a savepoint each; their callers hear of them once it has
   * committed or failed. Never throws: the turns go on.
   */
  private async commitGroup(group: Waiting[]): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    const db = (this.dataSource.driver as unknown as { databaseConnection: BetterSqlite3.Database })
      .databaseConnection;
    const outcomes: Outcome[] = [];
    let failure: { error: unknown } | undefined;
    try {
      await runner.startTransaction();
      for (const unit of group) {
        outcomes.push(await this.runInSavepoint(runner, db, unit.work));
      }
      await runner.commitTransaction();
    } catch (error) {
      failure = { error };
      await abandon(runner, db).catch(() => undefined);
      // The units after the one that failed the transaction have not run: next group.
      this.writes.unshift(...group.splice(outcomes.length + 1));
    }
    group.forEach((unit, index) => {
      const outcome = outcomes[index];
      if (failure) {
        unit.reject(failure.error);
      } else if (outcome.ok) {
        unit.resolve(outcome.value);
      } else {
        unit.reject(outcome.error);
      }
    });
  }

  /**
   * One unit of a shared transaction: its work is undone alone if it throws. Throws only when
   * SQLite has rolled the whole transaction back (the earlier units' work went with it).
   */
  private async runInSavepoint(
    runner: QueryRunner,
    db: BetterSqlite3.Database,
    work: (em: EntityManager) => Promise<unknown>,
  ): Promise<Outcome> {
    // A manager of its own: what a unit schedules before COMMIT is keyed by it.
    const em = this.dataSource.createEntityManager(runner);
    db.exec('SAVEPOINT unit');
    try {
      const value = await this.runWrite(em, work);
      db.exec('RELEASE unit');
      return { ok: true, value };
    } catch (error) {
      if (!db.inTransaction) {
        throw error;
      }
      db.exec('ROLLBACK TO unit; RELEASE unit');
      return { ok: false, error };
    }
  }
}

/**
 * Rolls back what is left of a failed transaction and leaves TypeORM's runner (which counts
 * its own transactions) ready for the next, even when SQLite already ended the transaction.
 */
async function abandon(runner: QueryRunner, db: BetterSqlite3.Database): Promise<void> {
  if (!runner.isTransactionActive) {
    return;
  }
  if (!db.inTransaction) {
    db.exec('BEGIN');
  }
  await runner.rollbackTransaction();
}

async function withRetries<T>(once: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await once();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const retryable =
        error instanceof StaleVersionError || (typeof code === 'string' && RETRYABLE.has(code));
      if (attempt >= ATTEMPTS || !retryable) {
        throw error;
      }
    }
  }
}
