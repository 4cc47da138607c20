import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestApp, type TestApp } from '../support/test-app.js';

describe('smoke', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('serves health and me', async () => {
    await app.http.get('/health').expect(200, { status: 'ok' });
    const me = await app.as('dsa.in', 'get', '/me').expect(200);
    expect(me.body.displayName).toBe('Anurag Bajpai');
  });
});
