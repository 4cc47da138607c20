import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The service's settings, read from the environment once at boot. */
export interface AppConfig {
  port: number;
  host: string;
  /** The SQLite file; unused when databaseUrl is set. */
  databasePath: string;
  /** postgres://... selects PostgreSQL (several instances may share it); unset: SQLite. */
  databaseUrl: string | undefined;
  /** The PostgreSQL schema the tables live in, first on the search_path. */
  databaseSchema: string;
  /** Connections each instance keeps to PostgreSQL. */
  databasePoolSize: number;
  jwtSecret: Buffer;
  jwtIssuer: string;
  jwtAudience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  seedPassword: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** smtp://user:pass@host:port; unset: reminders are in-app only. */
  smtpUrl: string | undefined;
  smtpFrom: string;
  /** Whether this instance runs the hourly reminder pass (and a catch-up pass at start). */
  reminderSchedule: boolean;
  /** The public base URL calendar feed links are built on; unset: taken from the request. */
  publicUrl: string | undefined;
  loginThrottleLimit: number;
  loginThrottleTtlSeconds: number;
}

export const APP_CONFIG = Symbol('APP_CONFIG');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const;
const MIN_SECRET_BYTES = 32;

class ConfigErrors {
  readonly messages: string[] = [];

  integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number) {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      return fallback;
    }
    // Number() would read " " as 0 and "1e3" or "0x50" as other numbers than the one meant.
    const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      this.messages.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  /** postgres://user:password@host:port/database[?schema=name] */
  databaseUrl(raw: string | undefined): { databaseUrl?: string; databaseSchema: string } {
    if (raw === undefined) {
      return { databaseSchema: 'public' };
    }
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      this.messages.push('DATABASE_URL must look like postgres://user@host:5432/database');
      return { databaseSchema: 'public' };
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      this.messages.push('DATABASE_URL must be a postgres:// URL');
    }
    const schema = url.searchParams.get('schema') ?? 'public';
    // The schema name is written into SQL (search_path, CREATE SCHEMA): a plain identifier only.
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      this.messages.push('DATABASE_URL schema must be a lower-case identifier (a-z, 0-9, _)');
    }
    url.searchParams.delete('schema');
    return { databaseUrl: url.toString(), databaseSchema: schema };
  }
}

/**
 * Validates the environment and returns a typed config, or throws one error listing every
 * problem. A missing JWT_SECRET is generated once and kept beside the database (mode 0600),
 * so restarts keep sessions valid.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const errors = new ConfigErrors();
  const port = errors.integer(env, 'PORT', 3000, 0, 65535);
  const accessTokenTtlSeconds = errors.integer(env, 'ACCESS_TOKEN_TTL_SECONDS', 900, 30, 86400);
  const refreshTokenTtlSeconds = errors.integer(
    env,
    'REFRESH_TOKEN_TTL_SECONDS',
    30 * 86400,
    60,
    365 * 86400,
  );
  const loginThrottleLimit = errors.integer(env, 'LOGIN_THROTTLE_LIMIT', 100, 1, 100000);
  const loginThrottleTtlSeconds = errors.integer(env, 'LOGIN_THROTTLE_TTL_SECONDS', 60, 1, 86400);

  const databasePath = resolve(env.DATABASE_PATH || 'data/jwg.sqlite');
  const databasePoolSize = errors.integer(env, 'DATABASE_POOL_SIZE', 10, 1, 500);
  const { databaseUrl, databaseSchema } = errors.databaseUrl(env.DATABASE_URL || undefined);

  const logLevel = (env.LOG_LEVEL || 'info') as AppConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    errors.messages.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }

  const seedPassword = env.JWG_SEED_PASSWORD || undefined;
  if (seedPassword !== undefined && (seedPassword.length < 8 || seedPassword.length > 128)) {
    errors.messages.push('JWG_SEED_PASSWORD must be 8 to 128 characters long');
  }

  let jwtSecret: Buffer | undefined;
  if (env.JWT_SECRET) {
    jwtSecret = Buffer.from(env.JWT_SECRET, 'utf8');
    if (jwtSecret.length < MIN_SECRET_BYTES) {
      errors.messages.push(`JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes long`);
    }
  } else if (databaseUrl) {
    // Every instance must sign and check tokens with the same key: a key generated beside
    // one instance would sign tokens the others refuse.
    errors.messages.push('JWT_SECRET is required with DATABASE_URL (all instances share it)');
  }

  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^\s]+$/.test(smtpUrl)) {
    errors.messages.push('SMTP_URL must look like smtp://user:password@host:port (or smtps://)');
  }
  const publicUrl = env.PUBLIC_URL ? env.PUBLIC_URL.replace(/\/+$/, '') : undefined;
  if (publicUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(publicUrl)) {
    errors.messages.push('PUBLIC_URL must be an http(s) URL');
  }
  const schedule = env.REMINDER_SCHEDULE || 'on';
  if (schedule !== 'on' && schedule !== 'off') {
    errors.messages.push(`REMINDER_SCHEDULE must be on or off, got "${schedule}"`);
  }

  if (errors.messages.length > 0) {
    throw new Error(`Invalid configuration:\n  - ${errors.messages.join('\n  - ')}`);
  }

  return {
    port,
    host: env.HOST || '0.0.0.0',
    databasePath,
    databaseUrl,
    databaseSchema,
    databasePoolSize,
    jwtSecret: jwtSecret ?? loadOrCreateSecret(join(dirname(databasePath), 'jwt-secret')),
    jwtIssuer: 'jwg-tracker',
    jwtAudience: 'jwg-tracker-api',
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds,
    seedPassword,
    logLevel,
    smtpUrl,
    smtpFrom: env.SMTP_FROM || 'JWG Tracker <no-reply@jwg-tracker.invalid>',
    reminderSchedule: schedule === 'on',
    publicUrl,
    loginThrottleLimit,
    loginThrottleTtlSeconds,
  };
}

function loadOrCreateSecret(file: string): Buffer {
  if (existsSync(file)) {
    if ((statSync(file).mode & 0o077) !== 0) {
      chmodSync(file, 0o600);
    }
    const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    if (secret.length < MIN_SECRET_BYTES) {
      throw new Error(`Invalid configuration: ${file} holds a secret shorter than 32 bytes`);
    }
    return secret;
  }
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(48);
  // Written in full under a private name, then published with link(): another instance
  // starting at the same moment never reads a half-written file, and link() fails if it
  // published first.
  const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(draft, 'wx', 0o600);
  try {
    writeSync(fd, secret.toString('base64url') + '\n');
    // A power cut after the first start must not leave an empty key behind.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(draft, file);
  } catch (error) {
    // Another process created it first: use theirs so both sign with the same key.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return loadOrCreateSecret(file);
    }
    throw error;
  } finally {
    unlinkSync(draft);
  }
  return secret;
}
