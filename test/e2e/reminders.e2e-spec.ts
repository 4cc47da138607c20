import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestApp, type TestApp } from '../support/test-app.js';

describe('reminders smoke', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('runs a pass', async () => {
    const preview = await app.as('admin', 'get', '/reminders/preview?now=2026-11-22T10:00:00Z').expect(200);
    const run = await app.as('admin', 'post', '/reminders/run').send({ now: '2026-11-22T10:00:00Z' }).expect(200);
    expect(run.body).toEqual(preview.body);
    const again = await app.as('admin', 'post', '/reminders/run').send({ now: '2026-11-22T10:00:00Z' }).expect(200);
    expect(again.body).toEqual({ data: [], hidden: 0 });
    const n = await app.as('sec.in', 'get', '/me/notifications?unread=true').expect(200);
    expect(n.body.data.length).toBeGreaterThan(0);
    console.log(JSON.stringify(run.body, null, 1).slice(0, 1500), JSON.stringify(n.body.data[0]));
  });
});
