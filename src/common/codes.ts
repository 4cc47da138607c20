import type { EntityManager } from 'typeorm';
import { sql } from '../database/sql.js';
import type { Visibility } from './access.js';

/**
 * Bumps a scope's counter by `count` and returns the new last value, in one statement. The
 * counter's row stays locked until the transaction ends (on PostgreSQL), so a rolled-back
 * transaction never leaves a gap: take codes late in a unit, and, when a unit takes codes of
 * several scopes, in one order (see nextCodes), so that two units never wait on each other's
 * counters (a deadlock, which PostgreSQL only notices after deadlock_timeout).
 */
const BUMP = `INSERT INTO code_sequences (name, last) VALUES ($1, $2)
  ON CONFLICT (name) DO UPDATE SET last = code_sequences.last + $2
  RETURNING last`;

/**
 * The next code of a record kind within a visibility scope: PA-001 for joint records,
 * PA-IN-001 for records India alone sees. Each scope counts on its own, so the joint codes
 * never show gaps that would betray the other side's records.
 */
export async function nextCode(
  em: EntityManager,
  kind: 'PA' | 'AI',
  visibility: Visibility,
): Promise<string> {
  const [code] = await nextCodes(em, kind, [visibility]);
  return code;
}

/**
 * One code for each entry of `visibilities`, in that order: one statement per scope, the
 * scopes always taken in the same (sorted) order.
 */
export async function nextCodes(
  em: EntityManager,
  kind: 'PA' | 'AI',
  visibilities: readonly Visibility[],
): Promise<string[]> {
  const scopes = [...new Set(visibilities.map((v) => scopeName(kind, v)))].sort();
  const next = new Map<string, number>();
  for (const scope of scopes) {
    const count = visibilities.filter((v) => scopeName(kind, v) === scope).length;
    const { rows } = await sql<{ last: number | string }>(em, BUMP, [scope, count]);
    next.set(scope, Number(rows[0].last) - count + 1);
  }
  return visibilities.map((visibility) => {
    const scope = scopeName(kind, visibility);
    const n = next.get(scope)!;
    next.set(scope, n + 1);
    return `${scope}-${String(n).padStart(3, '0')}`;
  });
}

function scopeName(kind: 'PA' | 'AI', visibility: Visibility): string {
  return visibility === 'joint' ? kind : `${kind}-${visibility}`;
}
