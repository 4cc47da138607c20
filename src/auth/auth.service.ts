import {
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { nowIso } from '../common/clock.js';
import type { AuthUser } from '../common/auth-user.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { User } from '../users/user.entity.js';
import type { TokenPairDto } from './dto/auth.dto.js';
import { verifyPassword } from './passwords.js';
import { LoginLockout, RefreshToken, Session } from './session.entity.js';
import { isPostgres, sql } from '../database/sql.js';
import { endAllSessions, issueRefreshToken, openSession, revokeSession } from './sessions.js';
import { hashRefreshToken, jwtKey, signAccessToken, type AccessClaims } from './tokens.js';
import { recordEvent } from '../audit/audit-log.js';

const FAILURES_BEFORE_LOCK = 5;
const FAILURE_WINDOW_MS = 15 * 60 * 1000;
const FIRST_LOCK_MS = 15 * 60 * 1000;
const LONGEST_LOCK_MS = 24 * 60 * 60 * 1000;

export const INVALID_CREDENTIALS = 'Invalid username or password';

/** The user behind an open session, if still active and on the token's version. */
const SESSION_USER = `SELECT u.id AS "id", u.username AS "username", u.role AS "role",
    u.delegation AS "delegation"
  FROM sessions s INNER JOIN users u ON u.id = s.user_id
  WHERE s.id = $1 AND s.revoked_at IS NULL AND u.id = $2 AND u.active = TRUE
    AND u.token_version = $3`;

export class AccountLockedException extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super('Too many failed sign-ins: the account is locked for now', HttpStatus.TOO_MANY_REQUESTS);
  }
}

@Injectable()
export class AuthService {
  readonly key: KeyObject;

  constructor(
    private readonly uow: UnitOfWork,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.key = jwtKey(config);
  }

  /**
   * Checks a username and password. Each attempt is counted before the password is checked,
   * so a burst of parallel guesses cannot outrun the lockout; a success clears the count.
   * Unknown users, deactivated users and wrong passwords get the same 401 after the same work.
   */
  async verifyCredentials(username: string, password: string): Promise<User> {
    const user = await this.checkPassword(username, password);
    if (!user) {
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    return user;
  }

  /**
   * The user if the password is theirs, else null; counts the attempt against the account's
   * lockout (429 once locked). Also guards the password change, so a stolen access token
   * cannot be used to guess the current password.
   */
  async checkPassword(username: string, password: string): Promise<User | null> {
    const key = username.trim().toLowerCase();
    const { user, lockedFor } = await this.uow.transaction(async (em) => {
      const found = await em.findOneBy(User, { username: key });
      const lockedFor = await this.countAttempt(em, key);
      if (lockedFor !== null) {
        await recordLogin(em, 'user.login_locked', key, found);
      }
      return { user: found, lockedFor };
    });
    if (lockedFor !== null) {
      throw new AccountLockedException(lockedFor);
    }
    const ok = await verifyPassword(user?.active ? user.passwordHash : null, password);
    if (!ok || !user) {
      await this.uow.transaction((em) => recordLogin(em, 'user.login_failed', key, user));
      return null;
    }
    await this.uow.transaction((em) => em.delete(LoginLockout, { username: key }));
    return user;
  }

  /** Counts one attempt; returns the seconds left when the account is locked, else null. */
  private async countAttempt(em: EntityManager, username: string): Promise<number | null> {
    const now = Date.now();
    // The row is created if missing and locked (PostgreSQL; SQLite runs one unit at a time),
    // so parallel attempts, on any instance, count one after another.
    await sql(
      em,
      `INSERT INTO login_lockouts (username, failures, window_started_at, locked_until, lock_count)
       VALUES ($1, 0, $2, NULL, 0) ON CONFLICT (username) DO NOTHING`,
      [username, new Date(now).toISOString()],
    );
    const lockout = await em.findOne(LoginLockout, {
      where: { username },
      ...(isPostgres(em) ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (lockout?.lockedUntil && Date.parse(lockout.lockedUntil) > now) {
      return Math.ceil((Date.parse(lockout.lockedUntil) - now) / 1000);
    }
    const windowOpen =
      lockout !== null && now - Date.parse(lockout.windowStartedAt) < FAILURE_WINDOW_MS;
    const failures = windowOpen ? lockout.failures + 1 : 1;
    const lockCount = lockout?.lockCount ?? 0;
    const locks = failures >= FAILURES_BEFORE_LOCK;
    const lockMs = Math.min(FIRST_LOCK_MS * 2 ** lockCount, LONGEST_LOCK_MS);
    await em.save(LoginLockout, {
      username,
      failures: locks ? 0 : failures,
      windowStartedAt: windowOpen ? lockout.windowStartedAt : new Date(now).toISOString(),
      lockedUntil: locks ? new Date(now + lockMs).toISOString() : null,
      lockCount: locks ? lockCount + 1 : lockCount,
    });
    return null;
  }

  async login(user: User): Promise<TokenPairDto> {
    const { sessionId, refreshToken } = await this.uow.transaction(async (em) => {
      const session = await openSession(em, user.id, this.config.refreshTokenTtlSeconds);
      await recordEvent(em, {
        actorId: user.id,
        action: 'user.login',
        entityType: 'session',
        entityId: session.sessionId,
        visibility: 'account',
      });
      return session;
    });
    return this.tokenPair(user.id, sessionId, user.tokenVersion, refreshToken);
  }

  /**
   * Spends a refresh token for a new pair in the same session. A token that was already spent
   * means it leaked: the whole session (its family) is revoked.
   */
  async refresh(token: string): Promise<TokenPairDto> {
    const outcome = await this.uow.transaction(async (em) => {
      const stored = await em.findOneBy(RefreshToken, { tokenHash: hashRefreshToken(token) });
      const session = stored && (await em.findOneBy(Session, { id: stored.sessionId }));
      const user = session && (await em.findOneBy(User, { id: session.userId }));
      if (!stored || !session || !user) {
        return null;
      }
      if (stored.spentAt !== null) {
        await revokeSession(em, session.id);
        await recordEvent(em, {
          actorId: user.id,
          action: 'session.refresh_reused',
          entityType: 'session',
          entityId: session.id,
          changes: { revoked: true },
          visibility: 'account',
        });
        return null;
      }
      const now = nowIso();
      if (session.revokedAt !== null || session.expiresAt <= now || !user.active) {
        return null;
      }
      await em.update(RefreshToken, { tokenHash: stored.tokenHash }, { spentAt: now });
      const expiresAt = new Date(Date.now() + this.config.refreshTokenTtlSeconds * 1000);
      await em.update(Session, { id: session.id }, { expiresAt: expiresAt.toISOString() });
      return { user, sessionId: session.id, refreshToken: await issueRefreshToken(em, session.id) };
    });
    if (!outcome) {
      throw new UnauthorizedException('The refresh token is not valid');
    }
    return this.tokenPair(
      outcome.user.id,
      outcome.sessionId,
      outcome.user.tokenVersion,
      outcome.refreshToken,
    );
  }

  async logout(user: AuthUser): Promise<void> {
    await this.uow.transaction(async (em) => {
      await revokeSession(em, user.sessionId);
      await recordEvent(em, {
        actorId: user.id,
        action: 'session.logout',
        entityType: 'session',
        entityId: user.sessionId,
        visibility: 'account',
      });
    });
  }

  /**
   * In one transaction: applies `change` (a new password), ends every session of the user and
   * opens a new one for the caller.
   */
  async restartSessions(
    userId: string,
    change: (em: EntityManager) => Promise<unknown>,
  ): Promise<TokenPairDto> {
    const { sessionId, refreshToken, tokenVersion } = await this.uow.transaction(async (em) => {
      await change(em);
      await endAllSessions(em, userId);
      const session = await openSession(em, userId, this.config.refreshTokenTtlSeconds);
      const { tokenVersion } = await em.findOneByOrFail(User, { id: userId });
      return { ...session, tokenVersion };
    });
    return this.tokenPair(userId, sessionId, tokenVersion, refreshToken);
  }

  /**
   * The per-request session check behind every access token: the session is open, the user
   * active, and no password, role or activation change has happened since it was issued.
   */
  async authenticate(claims: Partial<AccessClaims> & { sub?: string }): Promise<AuthUser | null> {
    const { typ, sid, tv, sub } = claims;
    if (
      typ !== 'access' ||
      typeof sid !== 'string' ||
      typeof sub !== 'string' ||
      typeof tv !== 'number' ||
      // token_version is a 32-bit integer column: another number matches no row.
      !Number.isInteger(tv) ||
      tv < 0 ||
      tv > 0x7fffffff
    ) {
      return null;
    }
    // One constant statement, and no cache: a revoked session fails on its very next request.
    const { rows } = await this.uow.read((em) =>
      sql<Pick<AuthUser, 'id' | 'username' | 'role' | 'delegation'>>(em, SESSION_USER, [
        sid,
        sub,
        tv,
      ]),
    );
    const row = rows[0];
    if (!row) {
      return null;
    }
    return {
      id: row.id,
      username: row.username,
      role: row.role,
      delegation: row.delegation,
      sessionId: sid,
    };
  }

  private tokenPair(
    userId: string,
    sessionId: string,
    tokenVersion: number,
    refreshToken: string,
  ): TokenPairDto {
    return {
      accessToken: signAccessToken(this.config, this.key, userId, {
        sid: sessionId,
        tv: tokenVersion,
      }),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.config.accessTokenTtlSeconds,
    };
  }
}

/** A failed or refused sign-in; the username as typed is kept only when no account has it. */
function recordLogin(
  em: EntityManager,
  action: 'user.login_failed' | 'user.login_locked',
  username: string,
  user: User | null,
): Promise<void> {
  return recordEvent(em, {
    actorId: null,
    action,
    entityType: 'user',
    entityId: user?.id ?? null,
    changes: user ? {} : { username: username.slice(0, 64) },
    visibility: 'account',
  });
}
