import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
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

/**
 * The one door to the database.
 *
 * SQLite: TypeORM's driver shares a single connection between all requests, so a transaction
 * opened while another is pending would run inside it as a savepoint and vanish with its
 * rollback, or keep rows that were rolled back (typeorm #1884, #8668; see
 * test/unit/unit-of-work.spec.ts). Every unit therefore waits its turn in one FIFO queue: a
 * transaction for writes, a plain read otherwise (a read must not see another unit's
 * uncommitted rows either).
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
 * Keep units short and free of slow work (password hashing, network): on SQLite the queue
 * waits on whatever a unit awaits, on PostgreSQL a connection of the pool does.
 */
@Injectable()
export class UnitOfWork {
  private tail: Promise<unknown> = Promise.resolve();
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
    const once = () =>
      this.dataSource.transaction(async (em) => {
        finishers.set(em, []);
        const result = await this.current.run({ em, writable: true }, () => work(em));
        for (const finish of finishers.get(em)!) {
          await finish();
        }
        return result;
      });
    return this.pooled ? withRetries(once) : this.enqueue(once);
  }

  /** Runs read-only `work` outside a transaction (on SQLite, in turn with every other unit). */
  read<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    const unit = this.current.getStore();
    if (unit) {
      return work(unit.em);
    }
    const em = this.dataSource.manager;
    const run = () => this.current.run({ em, writable: false }, () => work(em));
    return this.pooled ? run() : this.enqueue(run);
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }
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
