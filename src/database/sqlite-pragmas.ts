import type BetterSqlite3 from 'better-sqlite3';

/**
 * The pragmas the service relies on: WAL with synchronous=FULL so that a write acknowledged
 * to a client survives kill -9 and power loss; foreign keys; a busy timeout for the backup
 * and seed commands that open the file beside the service; a memory map large enough that a
 * million-row table reads as fast as a small one.
 */
export const REQUIRED_PRAGMAS = {
  journal_mode: 'wal',
  synchronous: 2, // FULL
  foreign_keys: 1,
  busy_timeout: 5000,
  mmap_size: 1024 * 1024 * 1024,
} as const;

export function applyPragmas(db: BetterSqlite3.Database): void {
  for (const [name, value] of Object.entries(REQUIRED_PRAGMAS)) {
    db.pragma(`${name} = ${value}`);
  }
  verifyPragmas(db);
}

/** Reads every pragma back and throws when one is not in force. */
export function verifyPragmas(db: BetterSqlite3.Database): void {
  const wrong: string[] = [];
  for (const [name, expected] of Object.entries(REQUIRED_PRAGMAS)) {
    const actual: unknown = db.pragma(name, { simple: true });
    // SQLite may cap mmap_size below the request (SQLITE_MAX_MMAP_SIZE); any map will do.
    const ok = name === 'mmap_size' ? Number(actual) > 0 : String(actual) === String(expected);
    if (!ok) {
      wrong.push(`${name} is ${String(actual)}, expected ${expected}`);
    }
  }
  if (wrong.length > 0) {
    throw new Error(`SQLite is not configured as required: ${wrong.join('; ')}`);
  }
}
