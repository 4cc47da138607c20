import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One sign-in. Its access tokens carry its id; its refresh tokens form one family, so
 * revoking the session ends both at once.
 */
@Entity('sessions')
export class Session {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  @Column({ name: 'created_at', type: 'varchar', length: 24 })
  createdAt!: string;

  @Column({ name: 'expires_at', type: 'varchar', length: 24 })
  expiresAt!: string;

  @Column({ name: 'revoked_at', type: 'varchar', length: 24, nullable: true })
  revokedAt!: string | null;
}

@Entity('refresh_tokens')
export class RefreshToken {
  /** SHA-256 of the token, base64url: the token itself is never stored. */
  @PrimaryColumn({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash!: string;

  @Column({ name: 'session_id', type: 'varchar', length: 36 })
  sessionId!: string;

  @Column({ name: 'created_at', type: 'varchar', length: 24 })
  createdAt!: string;

  @Column({ name: 'spent_at', type: 'varchar', length: 24, nullable: true })
  spentAt!: string | null;
}

/** Failed sign-ins per username, whether or not the account exists. */
@Entity('login_lockouts')
export class LoginLockout {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  username!: string;

  @Column({ type: 'integer' })
  failures!: number;

  @Column({ name: 'window_started_at', type: 'varchar', length: 24 })
  windowStartedAt!: string;

  @Column({ name: 'locked_until', type: 'varchar', length: 24, nullable: true })
  lockedUntil!: string | null;

  @Column({ name: 'lock_count', type: 'integer' })
  lockCount!: number;
}
