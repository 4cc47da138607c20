import { createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { AppConfig } from '../config/config.js';

/** The claims of an access token beyond the registered ones (sub, iss, aud, iat, exp). */
export interface AccessClaims {
  typ: 'access';
  /** The session the token belongs to; revoking it ends the token at once. */
  sid: string;
  /** The user's token version when it was issued; bumping it ends every session. */
  tv: number;
}

/**
 * The JWT key, built once: handing jsonwebtoken a plain string makes it rebuild a key
 * object on every verify, which halves the whole service's throughput.
 */
export function jwtKey(config: AppConfig): KeyObject {
  return createSecretKey(config.jwtSecret);
}

export function signAccessToken(
  config: AppConfig,
  key: KeyObject,
  userId: string,
  claims: Omit<AccessClaims, 'typ'>,
): string {
  const payload: AccessClaims = { typ: 'access', ...claims };
  return jwt.sign(payload, key, {
    algorithm: 'HS256',
    expiresIn: config.accessTokenTtlSeconds,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    subject: userId,
  });
}

/** A refresh token is 256 random bits; only its hash is stored. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}
