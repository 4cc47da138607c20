import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Foundation1763700000000 implements MigrationInterface {
  name = 'Foundation1763700000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE delegations (
      code varchar(2) PRIMARY KEY CHECK (code IN ('IN', 'US')),
      name varchar(200) NOT NULL
    )`);

    await db.query(`CREATE TABLE users (
      id varchar(36) PRIMARY KEY,
      username varchar(64) NOT NULL,
      display_name varchar(200) NOT NULL,
      role varchar(16) NOT NULL
        CHECK (role IN ('admin', 'dsa', 'secretariat', 'delegate', 'observer')),
      delegation varchar(2) REFERENCES delegations (code),
      email varchar(254),
      timezone varchar(64) NOT NULL,
      active boolean NOT NULL,
      password_hash varchar(200) NOT NULL,
      token_version integer NOT NULL DEFAULT 0,
      version integer NOT NULL DEFAULT 1,
      created_at varchar(24) NOT NULL,
      updated_at varchar(24) NOT NULL,
      CHECK ((role = 'admin') = (delegation IS NULL))
    )`);
    // Usernames are stored lower-case; this index also orders the directory (keyset pages).
    await db.query(`CREATE UNIQUE INDEX users_username ON users (username)`);
    // "Each delegation has exactly one active DSA": the database refuses a second one, so two
    // racing requests cannot both succeed.
    await db.query(
      `CREATE UNIQUE INDEX users_one_active_dsa ON users (delegation) WHERE role = 'dsa' AND active`,
    );

    await db.query(`CREATE TABLE sessions (
      id varchar(36) PRIMARY KEY,
      user_id varchar(36) NOT NULL REFERENCES users (id),
      created_at varchar(24) NOT NULL,
      expires_at varchar(24) NOT NULL,
      revoked_at varchar(24)
    )`);
    // Ending every session of a user (password or role change, deactivation).
    await db.query(`CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL`);

    await db.query(`CREATE TABLE refresh_tokens (
      token_hash varchar(64) PRIMARY KEY,
      session_id varchar(36) NOT NULL REFERENCES sessions (id),
      created_at varchar(24) NOT NULL,
      spent_at varchar(24)
    )`);
    await db.query(`CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id)`);

    await db.query(`CREATE TABLE login_lockouts (
      username varchar(64) PRIMARY KEY,
      failures integer NOT NULL,
      window_started_at varchar(24) NOT NULL,
      locked_until varchar(24),
      lock_count integer NOT NULL
    )`);

    await db.query(`CREATE TABLE working_group (
      id varchar(36) PRIMARY KEY,
      name varchar(200) NOT NULL,
      mandate text NOT NULL,
      cadence_months integer NOT NULL CHECK (cadence_months BETWEEN 1 AND 24),
      version integer NOT NULL DEFAULT 1,
      created_at varchar(24) NOT NULL,
      updated_at varchar(24) NOT NULL
    )`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of [
      'working_group',
      'login_lockouts',
      'refresh_tokens',
      'sessions',
      'users',
      'delegations',
    ]) {
      await db.query(`DROP TABLE ${table}`);
    }
  }
}
