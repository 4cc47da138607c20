import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { DataSource } from 'typeorm';
import { sql } from '../database/sql.js';

/** One statement counts a hit and opens a new window when the last one has ended. */
const HIT = `INSERT INTO rate_limits (key, hits, window_ends_at) VALUES ($1, 1, $2)
  ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN rate_limits.window_ends_at <= $3 THEN 1 ELSE rate_limits.hits + 1 END,
    window_ends_at = CASE WHEN rate_limits.window_ends_at <= $3 THEN $2
                          ELSE rate_limits.window_ends_at END
  RETURNING hits, window_ends_at`;
const SWEEP = 'DELETE FROM rate_limits WHERE window_ends_at <= $1';
/** Ended windows are swept every this many hits, so the table holds about the active keys. */
const SWEEP_EVERY = 1000;

/**
 * A @fastify/rate-limit store in the database, for several instances behind a load balancer:
 * they share one count per address and route. Each hit is one atomic upsert, so parallel
 * requests on any instance are all counted.
 */
export function databaseRateLimitStore(dataSource: DataSource): FastifyRateLimitStoreCtor {
  let hits = 0;
  class DatabaseRateLimitStore implements FastifyRateLimitStore {
    constructor(
      _options: unknown,
      private readonly route = '',
    ) {}

    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      const now = Date.now();
      const ends = new Date(now + timeWindow).toISOString();
      sql<{ hits: number; window_ends_at: string }>(dataSource.manager, HIT, [
        `${this.route} ${key}`,
        ends,
        new Date(now).toISOString(),
      ])
        .then(async ({ rows: [row] }) => {
          if (++hits % SWEEP_EVERY === 0) {
            await sql(dataSource.manager, SWEEP, [new Date(now).toISOString()]);
          }
          callback(null, { current: row.hits, ttl: Date.parse(row.window_ends_at) - now });
        })
        .catch((error: Error) => callback(error));
    }

    child(routeOptions: { method: string | string[]; url: string }): FastifyRateLimitStore {
      return new DatabaseRateLimitStore(
        undefined,
        `${String(routeOptions.method)} ${routeOptions.url}`,
      );
    }
  }
  return DatabaseRateLimitStore;
}
