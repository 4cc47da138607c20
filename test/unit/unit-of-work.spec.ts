import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';
import { openDatabase } from '../../src/database/data-source.js';
import { UnitOfWork } from '../../src/database/unit-of-work.js';

class Intentional extends Error {
  constructor() {
    super('intentional failure');
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Settles like `promise`, or rejects after `ms` so a deadlock fails fast and says so. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const timeout = new AbortController();
  try {
    return await Promise.race([
      promise,
      sleep(ms, undefined, { signal: timeout.signal }).then(() => {
        throw new Error(`${what} did not settle within ${ms} ms (deadlock?)`);
      }),
    ]);
  } finally {
    timeout.abort();
  }
}

const insert = (em: EntityManager, label: string) =>
  em.query('INSERT INTO scratch (label) VALUES (?)', [label]);

async function labels(em: EntityManager): Promise<string[]> {
  const rows: { label: string }[] = await em.query('SELECT label FROM scratch ORDER BY id');
  return rows.map((row) => row.label);
}

describe(UnitOfWork.name, () => {
  let dir: string;
  let databasePath: string;
  let dataSource: DataSource;
  let uow: UnitOfWork;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jwg-uow-'));
    databasePath = join(dir, 'jwg.sqlite');
    dataSource = await openDatabase({ databasePath });
    uow = new UnitOfWork(dataSource);
    await uow.transaction((em) =>
      em.query('CREATE TABLE scratch (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE)'),
    );
  });

  afterEach(async () => {
    // Leave no half-open transaction behind, whatever a failing test did.
    if (dataSource.isInitialized) {
      await dataSource.destroy();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** What another process sees in the file: committed rows only. */
  function committedLabels(): string[] {
    const db = new Database(databasePath, { readonly: true });
    try {
      const rows = db.prepare('SELECT label FROM scratch ORDER BY id').all() as {
        label: string;
      }[];
      return rows.map((row) => row.label);
    } finally {
      db.close();
    }
  }

  it('commits a unit that resolves and rolls back one that throws', async () => {
    await expect(uow.transaction((em) => insert(em, 'kept'))).resolves.toBeDefined();
    await expect(
      uow.transaction(async (em) => {
        await insert(em, 'dropped');
        throw new Intentional();
      }),
    ).rejects.toThrow(Intentional);
    expect(await uow.read(labels)).toEqual(['kept']);
    expect(committedLabels()).toEqual(['kept']);
  });

  it('returns what the unit returns', async () => {
    await expect(uow.transaction(() => Promise.resolve(42))).resolves.toBe(42);
    await expect(uow.read(() => Promise.resolve('read'))).resolves.toBe('read');
  });

  it('keeps 50 concurrent writes apart from a transaction that rolls back while they wait', async () => {
    const inserted = deferred();
    const failing = uow.transaction(async (em) => {
      await insert(em, 'rolled-back');
      inserted.resolve();
      await sleep(50);
      throw new Intentional();
    });
    // Fire the writes only once the failing transaction is open and holds its row.
    await inserted.promise;
    const writes = Array.from({ length: 50 }, (_, i) =>
      uow.transaction(async (em) => {
        await insert(em, `row-${i}`);
        return i;
      }),
    );

    const results = await Promise.allSettled([failing, ...writes]);

    const rejected = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as unknown] : [],
    );
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toBeInstanceOf(Intentional);
    expect(results[0].status).toBe('rejected');
    expect(results.slice(1).every((result) => result.status === 'fulfilled')).toBe(true);
    expect(rejected.map(String).join(' ')).not.toMatch(/SQLITE_BUSY|database is locked/);

    const expected = Array.from({ length: 50 }, (_, i) => `row-${i}`);
    const seen = await uow.read(labels);
    expect(seen).not.toContain('rolled-back');
    expect(seen).toEqual(expected);
    // Durable in the file, as another connection sees it.
    expect(committedLabels()).toEqual(expected);
  });

  it("does not let a read see a pending transaction's uncommitted row", async () => {
    const inserted = deferred();
    const writer = uow.transaction(async (em) => {
      await insert(em, 'uncommitted');
      inserted.resolve();
      await sleep(50);
      throw new Intentional();
    });
    await inserted.promise;

    // Straight on the shared connection the row is visible before it commits: this is what
    // the queue keeps reads away from.
    expect(await labels(dataSource.manager)).toEqual(['uncommitted']);

    const read = uow.read(labels);
    await expect(writer).rejects.toThrow(Intentional);
    expect(await read).toEqual([]);
  });

  it('runs a read queued behind a write after the write commits, so it sees the row', async () => {
    const inserted = deferred();
    const writer = uow.transaction(async (em) => {
      await insert(em, 'committed');
      inserted.resolve();
      await sleep(20);
    });
    await inserted.promise;
    const read = uow.read(labels);
    await writer;
    expect(await read).toEqual(['committed']);
  });

  it('runs units one at a time; reads in the order they came, writes too', async () => {
    const log: string[] = [];
    const units = Array.from({ length: 20 }, (_, i) => {
      const work = async (em: EntityManager) => {
        log.push(`start ${i}`);
        await em.query('SELECT 1');
        // Later units finish their wait sooner: only the turns keep them apart and in order.
        await sleep(20 - i);
        log.push(`end ${i}`);
        return i;
      };
      return i % 3 === 0 ? uow.read(work) : uow.transaction(work);
    });

    expect(await Promise.all(units)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const started = log.filter((entry) => entry.startsWith('start')).map((e) => Number(e.slice(6)));
    // Never two at once: each start is followed by its own end.
    expect(log).toEqual(started.flatMap((i) => [`start ${i}`, `end ${i}`]));
    const reads = started.filter((i) => i % 3 === 0);
    const writes = started.filter((i) => i % 3 !== 0);
    expect(reads).toEqual([...reads].sort((a, b) => a - b));
    expect(writes).toEqual([...writes].sort((a, b) => a - b));
  });

  describe('group commit', () => {
    let commits: number;

    beforeEach(() => {
      commits = 0;
      // The one query runner TypeORM's SQLite driver hands every caller.
      const runner = dataSource.createQueryRunner();
      const commit = runner.commitTransaction.bind(runner);
      runner.commitTransaction = () => {
        commits += 1;
        return commit();
      };
    });

    it('commits the writes waiting together once, each undone alone if it throws', async () => {
      const writes = Array.from({ length: 10 }, (_, i) =>
        uow.transaction(async (em) => {
          await insert(em, `row-${i}`);
          if (i === 4) {
            throw new Intentional();
          }
          return i;
        }),
      );
      const results = await Promise.allSettled(writes);

      expect(commits).toBe(1);
      expect(results.map((result) => result.status)).toEqual(
        Array.from({ length: 10 }, (_, i) => (i === 4 ? 'rejected' : 'fulfilled')),
      );
      const expected = [0, 1, 2, 3, 5, 6, 7, 8, 9].map((i) => `row-${i}`);
      expect(committedLabels()).toEqual(expected);
    });

    it('tells each caller only once its write is durable', async () => {
      const seenWhenTold = await Promise.all(
        ['a', 'b', 'c'].map((label) =>
          uow.transaction((em) => insert(em, label)).then(() => committedLabels()),
        ),
      );
      expect(commits).toBe(1);
      expect(seenWhenTold).toEqual([
        ['a', 'b', 'c'],
        ['a', 'b', 'c'],
        ['a', 'b', 'c'],
      ]);
    });

    it('fails every write of the group when the COMMIT fails, and goes on', async () => {
      // A deferred foreign key is checked at COMMIT: the one write that breaks it passes its
      // own savepoint and fails the shared commit.
      await uow.transaction(async (em) => {
        await em.query('CREATE TABLE parent (id INTEGER PRIMARY KEY)');
        await em.query(
          `CREATE TABLE child (id INTEGER PRIMARY KEY,
             parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`,
        );
      });
      commits = 0;
      const group = [
        uow.transaction((em) => insert(em, 'before')),
        uow.transaction((em) => em.query('INSERT INTO child (parent_id) VALUES (42)')),
        uow.transaction((em) => insert(em, 'after')),
      ];
      const results = await Promise.allSettled(group);

      expect(commits).toBe(1);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        expect(String((result as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
      }
      expect(committedLabels()).toEqual([]);
      await uow.transaction((em) => insert(em, 'next'));
      expect(committedLabels()).toEqual(['next']);
    });

    it('fails the writes that ran when SQLite drops the transaction, and runs the rest', async () => {
      const group = [
        uow.transaction((em) => insert(em, 'lost')),
        uow.transaction(async (em) => {
          // As SQLite does on a full disk or an I/O error: the whole transaction is gone.
          await em.query('ROLLBACK');
          throw new Intentional();
        }),
        uow.transaction((em) => insert(em, 'kept')),
      ];
      const results = await Promise.allSettled(group);

      expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
      expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(Intentional);
      expect(committedLabels()).toEqual(['kept']);
      expect(await uow.read(labels)).toEqual(['kept']);
    });

    it('runs a read that comes while writes wait before them, outside their transaction', async () => {
      const order: string[] = [];
      const write = uow.transaction(async (em) => {
        order.push('write');
        await insert(em, 'row');
      });
      const read = uow.read(async (em) => {
        order.push('read');
        return labels(em);
      });
      await expect(read).resolves.toEqual([]);
      await write;
      expect(order).toEqual(['read', 'write']);
    });
  });

  it('goes on after a unit fails', async () => {
    const order: string[] = [];
    const failing = uow.read(() => {
      order.push('failing');
      return Promise.reject(new Intentional());
    });
    const throwingRead = uow.read(() => {
      order.push('throwing read');
      throw new Intentional();
    });
    const throwing = uow.transaction(() => {
      order.push('throwing');
      throw new Intentional();
    });
    const next = uow.transaction(async (em) => {
      order.push('next');
      await insert(em, 'after-failures');
    });
    await expect(failing).rejects.toThrow(Intentional);
    await expect(throwingRead).rejects.toThrow(Intentional);
    await expect(throwing).rejects.toThrow(Intentional);
    await expect(next).resolves.toBeUndefined();
    expect(order).toEqual(['failing', 'throwing read', 'throwing', 'next']);
    expect(await uow.read(labels)).toEqual(['after-failures']);
  });

  describe('a unit started inside a unit', () => {
    it.each<['transaction' | 'read', 'transaction' | 'read']>([
      ['transaction', 'transaction'],
      ['read', 'transaction'],
      ['read', 'read'],
    ])('%s inside %s joins the enclosing unit instead of deadlocking', async (inner, outer) => {
      const result = uow[outer](async (outerEm) =>
        uow[inner]((innerEm) => Promise.resolve(innerEm === outerEm)),
      );
      await expect(within(result, 2000, 'the outer unit')).resolves.toBe(true);
    });

    it('refuses a transaction inside a read', async () => {
      const result = uow.read(() => uow.transaction(() => Promise.resolve('never')));
      await expect(within(result, 2000, 'the outer unit')).rejects.toThrow(
        'A transaction cannot start inside a read',
      );
    });

    it('commits a joined transaction only with the enclosing one', async () => {
      const outer = uow.transaction(async (em) => {
        await insert(em, 'outer');
        await uow.transaction((inner) => insert(inner, 'inner'));
        throw new Intentional();
      });
      await expect(within(outer, 2000, 'the outer unit')).rejects.toThrow(Intentional);
      expect(await uow.read(labels)).toEqual([]);
      await uow.transaction(async (em) => {
        await insert(em, 'outer');
        await uow.transaction((inner) => insert(inner, 'inner'));
      });
      expect(await uow.read(labels)).toEqual(['outer', 'inner']);
    });

    it('stays joined across awaits and timers inside the unit', async () => {
      const outer = uow.transaction(async (em) => {
        await insert(em, 'uncommitted');
        await sleep(5);
        return uow.read(labels);
      });
      await expect(within(outer, 2000, 'the outer unit')).resolves.toEqual(['uncommitted']);
    });

    it('does not stop units started one after another from outside', async () => {
      await uow.transaction((em) => insert(em, 'first'));
      await uow.transaction((em) => insert(em, 'second'));
      expect(await uow.read(labels)).toEqual(['first', 'second']);
    });
  });

  /*
   * Without the queue: what TypeORM 1.x's better-sqlite3 driver does with two transactions
   * that overlap. It hands every caller the same query runner on the one connection, and
   * `transactionSupport` is "nested": the second transaction does not fail with "cannot
   * start a transaction within a transaction", it silently becomes SAVEPOINT typeorm_1
   * inside the first.
   */
  describe('plain dataSource.transaction, without the queue (the bug the queue fixes)', () => {
    it("loses the second transaction's acknowledged write when the first rolls back", async () => {
      const firstInserted = deferred();
      const releaseFirst = deferred();
      const first = dataSource.transaction(async (em) => {
        await insert(em, 'first');
        firstInserted.resolve();
        await releaseFirst.promise;
        throw new Intentional();
      });
      await firstInserted.promise;

      // Resolves: to its caller this write is committed (in fact RELEASE SAVEPOINT).
      await expect(dataSource.transaction((em) => insert(em, 'acknowledged'))).resolves.toEqual(
        expect.anything(),
      );
      expect(await labels(dataSource.manager)).toEqual(['first', 'acknowledged']);
      expect(committedLabels()).toEqual([]);

      releaseFirst.resolve();
      await expect(first).rejects.toThrow(Intentional);

      // The first one's ROLLBACK took the acknowledged row with it.
      expect(await labels(dataSource.manager)).toEqual([]);
      expect(committedLabels()).toEqual([]);
    });

    it('commits the rolled-back row and loses the other when the rollback comes first', async () => {
      const firstInserted = deferred();
      const secondInserted = deferred();
      const releaseFirst = deferred();
      const releaseSecond = deferred();
      const first = dataSource.transaction(async (em) => {
        await insert(em, 'rolled-back');
        firstInserted.resolve();
        await releaseFirst.promise;
        throw new Intentional();
      });
      await firstInserted.promise;
      const second = dataSource.transaction(async (em) => {
        await insert(em, 'acknowledged');
        secondInserted.resolve();
        await releaseSecond.promise;
      });
      await secondInserted.promise;

      // The first one's rollback runs at depth 2: ROLLBACK TO SAVEPOINT typeorm_1, which undoes
      // the second one's row and leaves the first one's row in the open transaction...
      releaseFirst.resolve();
      await expect(first).rejects.toThrow(Intentional);
      expect(await labels(dataSource.manager)).toEqual(['rolled-back']);

      // ...which the second one's COMMIT then makes durable.
      releaseSecond.resolve();
      await expect(second).resolves.toBeUndefined();
      expect(committedLabels()).toEqual(['rolled-back']);
    });
  });
});
