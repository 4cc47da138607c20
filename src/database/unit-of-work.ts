import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * The one door to the database. TypeORM's SQLite driver shares a single connection between
 * all requests, so a transaction opened while another is pending would run inside it and
 * vanish with its rollback (typeorm #1884, #8668). Every unit therefore waits its turn in one
 * FIFO queue: a transaction for writes, a plain read otherwise (a read must not see another
 * unit's uncommitted rows either).
 *
 * Keep units short and free of slow work (password hashing, network): the queue waits on
 * whatever a unit awaits.
 */
@Injectable()
export class UnitOfWork {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly inside = new AsyncLocalStorage<true>();

  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; it commits when `work` resolves and rolls back if it throws. */
  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.enqueue(() => this.dataSource.transaction((em) => work(em)));
  }

  /** Runs read-only `work` outside a transaction, in turn with every other unit. */
  read<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.enqueue(() => work(this.dataSource.manager));
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    if (this.inside.getStore()) {
      // Waiting for ourselves would never end; this is always a programming error.
      return Promise.reject(new Error('A unit of work cannot start another one'));
    }
    const result = this.tail.then(() => this.inside.run(true, work));
    this.tail = result.catch(() => undefined);
    return result;
  }
}
