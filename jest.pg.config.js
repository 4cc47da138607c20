import base from './jest.config.js';

/**
 * `npm run test:pg`: the e2e suite and the PostgreSQL-only tests on PostgreSQL (each app in a
 * fresh schema of TEST_DATABASE_URL). Left out, as they are about the SQLite file itself: the
 * online backup of the file (backup), kill -9 with the file's integrity check (crash).
 */
export default {
  ...base,
  roots: ['<rootDir>/test'],
  testRegex: '(e2e|pg)/.*\\.(spec|e2e-spec)\\.ts$',
  testPathIgnorePatterns: ['/node_modules/', '/test/e2e/backup\\.', '/test/e2e/crash\\.'],
};
