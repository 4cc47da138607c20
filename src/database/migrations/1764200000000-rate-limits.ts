import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-address throttling counters for instances that share a PostgreSQL database: each
 * instance counting alone would let a client make limit x instances attempts.
 */
export class RateLimits1764200000000 implements MigrationInterface {
  name = 'RateLimits1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE rate_limits (
      key varchar(200) PRIMARY KEY,
      hits integer NOT NULL,
      window_ends_at varchar(24) NOT NULL
    )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE rate_limits`);
  }
}
