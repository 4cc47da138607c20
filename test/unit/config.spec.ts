import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/config.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256!';

function captureError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, but none was thrown');
}

function fileMode(file: string): number {
  return statSync(file).mode & 0o777;
}

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jwg-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('defaults', () => {
    // JWT_SECRET is given so that the defaults never write a secret into the working copy.
    const config = loadConfig({ JWT_SECRET: SECRET });

    it('serves on port 3000 on every interface', () => {
      expect(config.port).toBe(3000);
      expect(config.host).toBe('0.0.0.0');
    });

    it('keeps the database in data/jwg.sqlite, as an absolute path', () => {
      expect(config.databasePath).toBe(resolve('data/jwg.sqlite'));
    });

    it('issues access tokens for 900 seconds and refresh tokens for 30 days', () => {
      expect(config.accessTokenTtlSeconds).toBe(900);
      expect(config.refreshTokenTtlSeconds).toBe(30 * 86400);
    });

    it('logs at info, has no seed password and uses the given secret bytes', () => {
      expect(config.logLevel).toBe('info');
      expect(config.seedPassword).toBeUndefined();
      expect(config.jwtSecret.equals(Buffer.from(SECRET, 'utf8'))).toBe(true);
    });

    it('treats empty values as unset', () => {
      const empty = loadConfig({ JWT_SECRET: SECRET, PORT: '', LOG_LEVEL: '', DATABASE_PATH: '' });
      expect(empty.port).toBe(3000);
      expect(empty.logLevel).toBe('info');
      expect(empty.databasePath).toBe(resolve('data/jwg.sqlite'));
    });
  });

  it('reads valid values from the environment', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_PATH: join(dir, 'db.sqlite'),
      ACCESS_TOKEN_TTL_SECONDS: '60',
      LOG_LEVEL: 'silent',
      JWG_SEED_PASSWORD: 'seed-password',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      databasePath: join(dir, 'db.sqlite'),
      accessTokenTtlSeconds: 60,
      logLevel: 'silent',
      seedPassword: 'seed-password',
    });
  });

  it('throws one error that lists every problem', () => {
    const error = captureError(() =>
      loadConfig({
        JWT_SECRET: 'short',
        PORT: 'abc',
        LOG_LEVEL: 'loud',
        ACCESS_TOKEN_TTL_SECONDS: '5',
        JWG_SEED_PASSWORD: 'short',
      }),
    );
    expect(error.message).toMatch(/^Invalid configuration/);
    expect(error.message).toContain('PORT must be an integer from 0 to 65535, got "abc"');
    expect(error.message).toContain('LOG_LEVEL must be one of');
    expect(error.message).toContain('got "loud"');
    expect(error.message).toContain('ACCESS_TOKEN_TTL_SECONDS');
    expect(error.message).toContain('JWG_SEED_PASSWORD');
    expect(error.message).toContain('JWT_SECRET must be at least 32 bytes long');
    expect(error.message.split('\n  - ')).toHaveLength(6);
  });

  it('reports PORT=abc and LOG_LEVEL=loud together', () => {
    const error = captureError(() =>
      loadConfig({ JWT_SECRET: SECRET, PORT: 'abc', LOG_LEVEL: 'loud' }),
    );
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('LOG_LEVEL');
  });

  it.each([' ', '1e3', '0x50', '80.5', '-1', '65536', '3000abc'])(
    'rejects PORT=%j instead of reading a different number',
    (port) => {
      expect(() => loadConfig({ JWT_SECRET: SECRET, PORT: port })).toThrow(/PORT must be/);
    },
  );

  it('accepts the bounds of a range, and surrounding whitespace', () => {
    expect(loadConfig({ JWT_SECRET: SECRET, PORT: '0' }).port).toBe(0);
    expect(loadConfig({ JWT_SECRET: SECRET, PORT: '65535' }).port).toBe(65535);
    expect(loadConfig({ JWT_SECRET: SECRET, PORT: ' 8080\n' }).port).toBe(8080);
  });

  it('rejects a JWT_SECRET shorter than 32 bytes, and accepts one of exactly 32', () => {
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(31) })).toThrow(
      'JWT_SECRET must be at least 32 bytes long',
    );
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(32) }).jwtSecret).toHaveLength(32);
  });

  it('does not write a secret file when JWT_SECRET is given', () => {
    loadConfig({ JWT_SECRET: SECRET, DATABASE_PATH: join(dir, 'jwg.sqlite') });
    expect(existsSync(join(dir, 'jwt-secret'))).toBe(false);
  });

  describe('without JWT_SECRET', () => {
    it('generates a secret once beside the database, readable by the owner only', () => {
      const databasePath = join(dir, 'nested', 'jwg.sqlite');
      const first = loadConfig({ DATABASE_PATH: databasePath });
      const file = join(dir, 'nested', 'jwt-secret');

      expect(existsSync(file)).toBe(true);
      expect(fileMode(file)).toBe(0o600);
      expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
      expect(
        Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url').equals(first.jwtSecret),
      ).toBe(true);

      // A restart reads the same key, so the sessions signed before it stay valid.
      const second = loadConfig({ DATABASE_PATH: databasePath });
      expect(second.jwtSecret.equals(first.jwtSecret)).toBe(true);
      expect(fileMode(file)).toBe(0o600);
    });

    it('generates a different secret for another database directory', () => {
      const a = loadConfig({ DATABASE_PATH: join(dir, 'a', 'jwg.sqlite') });
      const b = loadConfig({ DATABASE_PATH: join(dir, 'b', 'jwg.sqlite') });
      expect(a.jwtSecret.equals(b.jwtSecret)).toBe(false);
    });

    it('tightens a secret file with looser permissions to 0600 and keeps its bytes', () => {
      const file = join(dir, 'jwt-secret');
      const secret = Buffer.alloc(48, 7);
      writeFileSync(file, secret.toString('base64url') + '\n');
      chmodSync(file, 0o644);

      const config = loadConfig({ DATABASE_PATH: join(dir, 'jwg.sqlite') });

      expect(fileMode(file)).toBe(0o600);
      expect(config.jwtSecret.equals(secret)).toBe(true);
    });

    it('refuses a stored secret shorter than 32 bytes', () => {
      writeFileSync(join(dir, 'jwt-secret'), Buffer.alloc(16, 1).toString('base64url'), {
        mode: 0o600,
      });
      expect(() => loadConfig({ DATABASE_PATH: join(dir, 'jwg.sqlite') })).toThrow(
        /shorter than 32 bytes/,
      );
    });

    it('leaves no temporary files beside the secret', () => {
      loadConfig({ DATABASE_PATH: join(dir, 'jwg.sqlite') });
      loadConfig({ DATABASE_PATH: join(dir, 'jwg.sqlite') });
      expect(readdirNames(dir)).toEqual(['jwt-secret']);
    });
  });
});

function readdirNames(dir: string): string[] {
  return readdirSync(dir).sort();
}
