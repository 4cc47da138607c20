import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOpenApiDocument, createApp } from './app.setup.js';
import { loadConfig } from './config/config.js';

/**
 * `node dist/openapi.js <file>`: writes the OpenAPI document, built from the application on a
 * throwaway database, for linting (npm run check) and for clients.
 */
async function main(target: string | undefined): Promise<void> {
  if (!target) {
    throw new Error('Usage: node dist/openapi.js <file.json>');
  }
  const dir = mkdtempSync(join(tmpdir(), 'jwg-openapi-'));
  try {
    const app = await createApp(
      loadConfig({
        DATABASE_PATH: join(dir, 'jwg.sqlite'),
        JWG_SEED_PASSWORD: 'not-used-for-anything',
        LOG_LEVEL: 'silent',
        REMINDER_SCHEDULE: 'off',
      }),
    );
    await app.init();
    writeFileSync(target, `${JSON.stringify(await buildOpenApiDocument(app), null, 2)}\n`);
    await app.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
