import type BetterSqlite3 from 'better-sqlite3';

/**
 * The pragmas the service relies on: WAL with synchronous=FULL so that a write acknowledged
 * to a client survives kill -9 and power loss; foreign keys; a busy timeout for the backup
 * and seed commands that open the file beside the service. Reads go through a 16 MiB page
 * cache and no memory map: every mapped page a read touches counts in the process's RSS (a
 * filtered list scanning 100k items mapped ~100 MiB), while a cached page costs the same
 * for the hot read and the OS page cache keeps the rest of the file.
 */
export const REQUIRED_PRAGMAS = {
  journal_mode: 'wal',
  synchronous: 2, // FULL
  foreign_keys: 1,
  busy_timeout: 5000,
  mmap_size: 0,
  cache_size: -16 * 1024, // KiB
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
    if (String(actual) !== String(expected)) {
      wrong.push(`${name} is ${String(actual)}, expected ${expected}`);
    }
  }
  if (wrong.length > 0) {
    throw new Error(`SQLite is not configured as required: ${wrong.join('; ')}`);
  }
}
