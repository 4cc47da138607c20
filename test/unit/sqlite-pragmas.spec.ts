import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../../src/database/data-source.js';
import {
  applyPragmas,
  REQUIRED_PRAGMAS,
  verifyPragmas,
} from '../../src/database/sqlite-pragmas.js';

async function pragma(dataSource: DataSource, name: string): Promise<unknown> {
  const rows: Record<string, unknown>[] = await dataSource.query(`PRAGMA ${name}`);
  return Object.values(rows[0])[0];
}

function captureMessage(run: () => void): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error, but none was thrown');
}

describe('SQLite pragmas', () => {
  let dir: string;
  let databasePath: string;
  const open: { close(): unknown }[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jwg-pragmas-'));
    databasePath = join(dir, 'jwg.sqlite');
  });
  afterEach(async () => {
    for (const db of open.splice(0)) {
      await db.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function openAndTrack(): Promise<DataSource> {
    const dataSource = await openDatabase({ databasePath });
    open.push({ close: () => dataSource.destroy() });
    return dataSource;
  }

  function raw(): Database.Database {
    const db = new Database(databasePath);
    open.push(db);
    return db;
  }

  describe('openDatabase', () => {
    it('runs with WAL, synchronous=FULL, foreign keys, a busy timeout, a 16 MiB page cache and no memory map', async () => {
      const dataSource = await openAndTrack();
      expect(await pragma(dataSource, 'journal_mode')).toBe('wal');
      expect(await pragma(dataSource, 'synchronous')).toBe(2);
      expect(await pragma(dataSource, 'foreign_keys')).toBe(1);
      expect(await pragma(dataSource, 'busy_timeout')).toBe(5000);
      expect(await pragma(dataSource, 'mmap_size')).toBe(0);
      expect(await pragma(dataSource, 'cache_size')).toBe(-16384);
    });

    it('keeps foreign keys on after the migrations, which turn them off while they run', async () => {
      const dataSource = await openAndTrack();
      expect(await dataSource.showMigrations()).toBe(false);
      await expect(
        dataSource.query(
          `INSERT INTO users (id, username, display_name, role, delegation, timezone, active,
             password_hash, created_at, updated_at)
           VALUES ('u1', 'x', 'X', 'delegate', 'IN', 'UTC', 1, 'h', 'now', 'now')`,
        ),
      ).rejects.toThrow(/FOREIGN KEY constraint failed/);
    });

    it('applies the pragmas again on a restart, when the file is already in WAL mode', async () => {
      const first = await openDatabase({ databasePath });
      await first.destroy();
      // A connection that opens a WAL file falls back to synchronous=NORMAL on this build
      // (SQLITE_DEFAULT_WAL_SYNCHRONOUS=1): a restart must set FULL again.
      const plain = raw();
      expect(plain.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(plain.pragma('synchronous', { simple: true })).toBe(1);

      const dataSource = await openAndTrack();
      expect(await pragma(dataSource, 'journal_mode')).toBe('wal');
      expect(await pragma(dataSource, 'synchronous')).toBe(2);
    });
  });

  describe('verifyPragmas', () => {
    it('names every pragma a default connection gets wrong, and only those', () => {
      const db = raw();
      // better-sqlite3's defaults on a new file: rollback journal, a 16,000 KiB page cache;
      // synchronous FULL, foreign keys, the 5 s busy timeout and no memory map are right.
      expect(db.pragma('mmap_size', { simple: true })).toBe(0);
      expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);

      const message = captureMessage(() => verifyPragmas(db));
      expect(message).toMatch(/^SQLite is not configured as required/);
      expect(message).toContain('journal_mode is delete, expected wal');
      expect(message).toContain('cache_size is -16000, expected -16384');
      expect(message).not.toContain('mmap_size');
      expect(message).not.toContain('synchronous');
      expect(message).not.toContain('foreign_keys');
      expect(message).not.toContain('busy_timeout');
    });

    it('names synchronous, foreign_keys, busy_timeout and a memory map when they are wrong', () => {
      const db = raw();
      db.pragma('mmap_size = 1048576');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = OFF');
      db.pragma('busy_timeout = 0');
      const message = captureMessage(() => verifyPragmas(db));
      expect(message).toContain('synchronous is 1, expected 2');
      expect(message).toContain('foreign_keys is 0, expected 1');
      expect(message).toContain('busy_timeout is 0, expected 5000');
      expect(message).toContain('mmap_size is 1048576, expected 0');
    });

    it('passes once applyPragmas has run', () => {
      const db = raw();
      expect(() => applyPragmas(db)).not.toThrow();
      expect(() => verifyPragmas(db)).not.toThrow();
      expect(db.pragma('journal_mode', { simple: true })).toBe(REQUIRED_PRAGMAS.journal_mode);
      expect(db.pragma('synchronous', { simple: true })).toBe(REQUIRED_PRAGMAS.synchronous);
    });

    it('makes applyPragmas fail loudly where WAL is impossible (an in-memory database)', () => {
      const db = new Database(':memory:');
      open.push(db);
      expect(() => applyPragmas(db)).toThrow(/journal_mode is memory, expected wal/);
    });
  });
});
