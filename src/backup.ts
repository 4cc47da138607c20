import Database from 'better-sqlite3';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `npm run backup -- <file>`: a consistent copy of the SQLite database at DATABASE_PATH,
 * taken with SQLite's online backup API while the service keeps serving. Never a file copy:
 * copying the file misses what is still in the WAL and can catch a page mid-write.
 *
 * The path is read as loadConfig() reads it, but without loadConfig(): that would create a
 * JWT secret beside the database as a side effect, and refuse to run on settings the backup
 * does not use.
 */
async function main(args: string[]): Promise<void> {
  if (args.length !== 1 || !args[0]) {
    throw new Error(
      'Usage: npm run backup -- <file>  (or node dist/backup.js <file>); ' +
        'DATABASE_PATH names the database, as for the service',
    );
  }
  const source = resolve(process.env.DATABASE_PATH || 'data/jwg.sqlite');
  const target = resolve(args[0]);
  if (existsSync(target)) {
    throw new Error(`${target} already exists; a backup never overwrites a file`);
  }
  if (!existsSync(dirname(target))) {
    throw new Error(`the directory ${dirname(target)} does not exist`);
  }
  if (!existsSync(source)) {
    throw new Error(`no database at ${source} (set DATABASE_PATH)`);
  }
  await backup(source, target);
}

async function backup(source: string, target: string): Promise<void> {
  // Read-only: the backup must never change the live database, nor create one by mistake.
  const db = new Database(source, { readonly: true, fileMustExist: true });
  // The copy is written under a private name and published with link(), which fails if the
  // target appeared meanwhile: no half-written file under the target's name, no overwrite.
  const draft = `${target}.${process.pid}.partial`;
  try {
    // Private from the start: the copy holds password hashes and sessions.
    closeSync(openSync(draft, 'wx', 0o600));
    db.pragma('busy_timeout = 5000');
    const { totalPages } = await db.backup(draft, {
      // The first step only counts the pages; copy the rest in one step, under one read
      // snapshot, so that writes by the service cannot keep restarting the backup.
      progress: () => 0x7fffffff,
    });
    syncFile(draft);
    try {
      linkSync(draft, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new Error(`${target} appeared during the backup; a backup never overwrites a file`, {
          cause: error,
        });
      }
      throw error;
    }
    syncFile(dirname(target));
    const bytes = statSync(target).size;
    process.stdout.write(`Backed up ${source} to ${target}: ${totalPages} pages, ${bytes} bytes\n`);
  } finally {
    db.close();
    if (existsSync(draft)) {
      unlinkSync(draft);
    }
  }
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    `backup failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
