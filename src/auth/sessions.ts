import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { IsNull } from 'typeorm';
import { nowIso } from '../common/clock.js';
import { User } from '../users/user.entity.js';
import { RefreshToken, Session } from './session.entity.js';
import { newRefreshToken } from './tokens.js';

/** Opens a session and its first refresh token; returns the token in clear, once. */
export async function openSession(
  em: EntityManager,
  userId: string,
  refreshTtlSeconds: number,
): Promise<{ sessionId: string; refreshToken: string }> {
  const now = new Date();
  const session: Session = {
    id: randomUUID(),
    userId,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + refreshTtlSeconds * 1000).toISOString(),
    revokedAt: null,
  };
  await em.insert(Session, session);
  const refreshToken = await issueRefreshToken(em, session.id);
  return { sessionId: session.id, refreshToken };
}

export async function issueRefreshToken(em: EntityManager, sessionId: string): Promise<string> {
  const { token, hash } = newRefreshToken();
  await em.insert(RefreshToken, {
    tokenHash: hash,
    sessionId,
    createdAt: nowIso(),
    spentAt: null,
  });
  return token;
}

export async function revokeSession(em: EntityManager, sessionId: string): Promise<void> {
  await em.update(Session, { id: sessionId, revokedAt: IsNull() }, { revokedAt: nowIso() });
}

/**
 * Ends every session of a user at once: their refresh tokens die with the sessions, and the
 * bumped token version refuses any access token issued before.
 */
export async function endAllSessions(em: EntityManager, userId: string): Promise<void> {
  await em.update(Session, { userId, revokedAt: IsNull() }, { revokedAt: nowIso() });
  await em.increment(User, { id: userId }, 'tokenVersion', 1);
}
