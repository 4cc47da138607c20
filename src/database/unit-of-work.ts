import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

interface Unit {
  em: EntityManager;
  writable: boolean;
}

/**
 * The one door to the database. TypeORM's SQLite driver shares a single connection between
 * all requests, so a transaction opened while another is pending would run inside it as a
 * savepoint and vanish with its rollback, or keep rows that were rolled back (typeorm #1884,
 * #8668; see test/unit/unit-of-work.spec.ts). Every unit therefore waits its turn in one
 * FIFO queue: a transaction for writes, a plain read otherwise (a read must not see another
 * unit's uncommitted rows either).
 *
 * A unit started inside another joins it: a request that records its Idempotency-Key runs
 * the whole handler in one unit, so the record commits with the change or not at all.
 * Starting a transaction inside a read is a programming error and rejects.
 *
 * Keep units short and free of slow work (password hashing, network): the queue waits on
 * whatever a unit awaits.
 */
@Injectable()
export class UnitOfWork {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly current = new AsyncLocalStorage<Unit>();

  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; it commits when `work` resolves and rolls back if it throws. */
  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    const unit = this.current.getStore();
    if (unit) {
      return unit.writable
        ? work(unit.em)
        : Promise.reject(new Error('A transaction cannot start inside a read'));
    }
    return this.enqueue(() =>
      this.dataSource.transaction((em) => this.current.run({ em, writable: true }, () => work(em))),
    );
  }

  /** Runs read-only `work` outside a transaction, in turn with every other unit. */
  read<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    const unit = this.current.getStore();
    if (unit) {
      return work(unit.em);
    }
    const em = this.dataSource.manager;
    return this.enqueue(() => this.current.run({ em, writable: false }, () => work(em)));
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
