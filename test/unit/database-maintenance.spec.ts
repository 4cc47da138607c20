import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../../src/database/data-source.js';
import { DatabaseMaintenance, OPTIMIZE_EVERY_MS } from '../../src/database/maintenance.js';
import { UnitOfWork } from '../../src/database/unit-of-work.js';

const nextTick = () => new Promise((resolve) => setImmediate(resolve));

describe(DatabaseMaintenance.name, () => {
  let dir: string;
  let dataSource: DataSource;
  let maintenance: DatabaseMaintenance;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jwg-maintenance-'));
    dataSource = await openDatabase({ databasePath: join(dir, 'jwg.sqlite') });
    maintenance = new DatabaseMaintenance(new UnitOfWork(dataSource), dataSource);
    // Rows the migrations' ANALYZE (run on empty tables) never saw.
    await dataSource.query('CREATE TABLE scratch (id INTEGER PRIMARY KEY, label TEXT NOT NULL)');
    await dataSource.query('CREATE INDEX scratch_label ON scratch (label)');
    for (let i = 0; i < 200; i++) {
      await dataSource.query('INSERT INTO scratch (label) VALUES (?)', [`label ${i % 20}`]);
    }
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await maintenance.onModuleDestroy();
    if (dataSource.isInitialized) {
      await dataSource.destroy();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function statistics(table: string): Promise<string[]> {
    const rows: { idx: string | null; stat: string }[] = await dataSource.query(
      'SELECT idx, stat FROM sqlite_stat1 WHERE tbl = ?',
      [table],
    );
    return rows.map((row) => `${row.idx} ${row.stat}`);
  }

  it('analyzes the tables whose statistics are missing', async () => {
    expect(await statistics('scratch')).toEqual([]);
    await maintenance.optimize();
    expect(await statistics('scratch')).toContain('scratch_label 200 10');
  });

  it('optimizes once after start, then hourly on a timer that does not hold the process', async () => {
    const setIntervalSpy = jest.spyOn(global, 'setInterval');
    const optimize = jest.spyOn(maintenance, 'optimize');
    maintenance.onApplicationBootstrap();
    await nextTick();
    expect(optimize).toHaveBeenCalledTimes(1);
    expect(setIntervalSpy).toHaveBeenCalledWith(expect.any(Function), OPTIMIZE_EVERY_MS);
    const timer = setIntervalSpy.mock.results[0].value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);

    // The timer's callback: a run in turn with the others.
    setIntervalSpy.mock.calls[0][0]();
    const clearIntervalSpy = jest.spyOn(global, 'clearInterval');
    await maintenance.onModuleDestroy();
    expect(optimize).toHaveBeenCalledTimes(2);
    expect(clearIntervalSpy).toHaveBeenCalledWith(timer);
    expect(await statistics('scratch')).toContain('scratch_label 200 10');
  });

  it('runs nothing once the module is destroyed, even a start-up run still pending', async () => {
    const optimize = jest.spyOn(maintenance, 'optimize');
    maintenance.onApplicationBootstrap();
    await maintenance.onModuleDestroy();
    await nextTick();
    expect(optimize).not.toHaveBeenCalled();
  });

  it('logs a failed run instead of throwing it', async () => {
    const optimize = jest
      .spyOn(maintenance, 'optimize')
      .mockRejectedValue(new Error('database is locked'));
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    maintenance.onApplicationBootstrap();
    await nextTick();
    await maintenance.onModuleDestroy();
    expect(optimize).toHaveBeenCalledTimes(1);
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('database is locked'));
  });

  it('leaves PostgreSQL to autovacuum: no run, no timer', async () => {
    const postgres = { options: { type: 'postgres' } } as DataSource;
    const idle = new DatabaseMaintenance(new UnitOfWork(postgres), postgres);
    const setIntervalSpy = jest.spyOn(global, 'setInterval');
    const optimize = jest.spyOn(idle, 'optimize');
    idle.onApplicationBootstrap();
    await nextTick();
    await idle.onModuleDestroy();
    expect(optimize).not.toHaveBeenCalled();
    expect(setIntervalSpy).not.toHaveBeenCalled();
  });
});
