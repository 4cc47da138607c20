import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataSourceOptions, openDatabase } from '../../src/database/data-source.js';
import { MIGRATIONS } from '../../src/database/entities.js';

describe(openDatabase.name, () => {
  let dir: string;
  let databasePath: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jwg-data-source-'));
    databasePath = join(dir, 'jwg.sqlite');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('never synchronizes the schema: it comes from the migrations only', () => {
    expect(dataSourceOptions({ databasePath })).toMatchObject({
      type: 'better-sqlite3',
      database: databasePath,
      synchronize: false,
      migrationsTransactionMode: 'each',
    });
  });

  it('creates the schema on a new file, and a second open runs nothing again', async () => {
    const first = await openDatabase({ databasePath });
    const tables: { name: string }[] = await first.query(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'delegations',
        'login_lockouts',
        'migrations',
        'refresh_tokens',
        'sessions',
        'users',
        'working_group',
      ]),
    );
    const ran: { name: string }[] = await first.query('SELECT name FROM migrations');
    expect(ran).toHaveLength(MIGRATIONS.length);
    expect(ran).toContainEqual({ name: 'Foundation1763700000000' });
    await first.destroy();

    const second = await openDatabase({ databasePath });
    try {
      expect(await second.showMigrations()).toBe(false);
      expect(await second.query('SELECT name FROM migrations')).toEqual(ran);
    } finally {
      await second.destroy();
    }
  });

  it('closes the file again when a migration fails', async () => {
    const db = new Database(databasePath);
    db.exec('CREATE TABLE delegations (something_else TEXT)');
    db.close();

    // TypeORM logs the failed migration to the console as well; keep the test output clean.
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await expect(openDatabase({ databasePath })).rejects.toThrow(/already exists/);
    } finally {
      log.mockRestore();
    }

    // An open connection in WAL mode keeps its -wal file; the last close checkpoints and
    // removes it. A leaked connection would also hold the file for the rest of the process.
    expect(existsSync(`${databasePath}-wal`)).toBe(false);
    const after = new Database(databasePath);
    try {
      expect(after.pragma('journal_mode = DELETE', { simple: true })).toBe('delete');
    } finally {
      after.close();
    }
  });
});

describe('database file permissions', () => {
  it('creates the directory 0700 and the file, with its WAL, 0600', async () => {
    const root = mkdtempSync(join(tmpdir(), 'jwg-perm-'));
    const databasePath = join(root, 'private', 'jwg.sqlite');
    try {
      const dataSource = await openDatabase({ databasePath });
      await dataSource.query('CREATE TABLE probe (x integer)');
      expect(statSync(join(root, 'private')).mode & 0o777).toBe(0o700);
      expect(statSync(databasePath).mode & 0o777).toBe(0o600);
      if (existsSync(`${databasePath}-wal`)) {
        expect(statSync(`${databasePath}-wal`).mode & 0o077).toBe(0);
      }
      await dataSource.destroy();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
