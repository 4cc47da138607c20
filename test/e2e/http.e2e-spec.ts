import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { API, createTestApp, type TestApp } from '../support/test-app.js';

describe('HTTP conventions', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  const expectProblem = (
    res: { status: number; headers: Record<string, string>; body: unknown },
    status: number,
  ) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      type: expect.any(String),
      title: expect.any(String),
      status,
      detail: expect.any(String),
    });
  };

  it('answers unknown routes with a 404 problem', async () => {
    expectProblem(await app.http.get('/nowhere'), 404);
    expectProblem(await app.as('sec.in', 'get', '/nowhere'), 404);
    expectProblem(await app.http.delete(`${API}/users`), 404);
  });

  it('refuses a body over 100 KiB with 413', async () => {
    const res = await app
      .as('admin', 'post', '/users')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ displayName: 'x'.repeat(101 * 1024) }));
    expectProblem(res, 413);
  });

  it('refuses bodies that are not JSON with 415', async () => {
    expectProblem(
      await app.as('admin', 'post', '/users').set('content-type', 'text/plain').send('hello'),
      415,
    );
    expectProblem(
      await app
        .as('admin', 'post', '/users')
        .set('content-type', 'application/x-www-form-urlencoded')
        .send('a=b'),
      415,
    );
    expectProblem(
      await app.http.post(`${API}/auth/login`).set('content-type', 'text/xml').send('<a/>'),
      415,
    );
  });

  it('refuses malformed JSON and prototype pollution with 400', async () => {
    const post = (body: string) =>
      app.http.post(`${API}/auth/login`).set('content-type', 'application/json').send(body);
    expectProblem(await post('{"username": '), 400);
    expectProblem(
      await post('{"__proto__": {"admin": true}, "username": "a", "password": "b"}'),
      400,
    );
    expectProblem(
      await post('{"constructor": {"prototype": {"x": 1}}, "username": "a", "password": "b"}'),
      400,
    );
    expectProblem(await post('[]'), 400);
    expectProblem(await post('"text"'), 400);
    expectProblem(await post('null'), 400);
  });

  it('takes an empty body declared as JSON as no body', async () => {
    const extra = await app.login('sec.us');
    await app.http
      .post(`${API}/meetings/next`)
      .set('authorization', `Bearer ${extra.accessToken}`)
      .set('content-type', 'application/json')
      .expect(201);
    await app.http
      .post(`${API}/auth/logout`)
      .set('authorization', `Bearer ${extra.accessToken}`)
      .set('content-type', 'application/json')
      .expect(204);
    // A body that is required stays required.
    const res = await app.as('sec.us', 'post', '/meetings').set('content-type', 'application/json');
    expectProblem(res, 400);
  });

  it('sends security headers, a request id and no X-Powered-By', async () => {
    const res = await app.as('sec.in', 'get', '/me').expect(200);
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBeDefined();
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const error = await app.http.get(`${API}/me`);
    expect(error.headers['x-content-type-options']).toBe('nosniff');
  });

  it('sends no CORS grant to an unknown origin', async () => {
    const res = await app.http
      .options(`${API}/me`)
      .set('origin', 'https://evil.example')
      .set('access-control-request-method', 'GET');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const get = await app.as('sec.in', 'get', '/me').set('origin', 'https://evil.example');
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('does not answer TRACE', async () => {
    const res = await app.http.trace(`${API}/me`);
    expect(res.status).toBe(404);
  });

  it('serves the health check without a token', async () => {
    await app.http.get('/health').expect(200, { status: 'ok' });
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const res = await app.http.get('/api/openapi.json').expect(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(res.body.components.securitySchemes.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    const me = res.body.paths['/api/v1/me'].get;
    expect(me.security).toEqual([{ bearer: [] }]);
    expect(me.responses['401']).toBeDefined();
    const patchUser = res.body.paths['/api/v1/users/{id}'].patch;
    expect(Object.keys(patchUser.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '409', '412']),
    );
    expect(res.body.paths['/api/v1/auth/login'].post.security).toBeUndefined();
    const ui = await app.http.get('/api/docs').redirects(1);
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });

  it('documents exactly the routes the app serves', async () => {
    const doc = await app.http.get('/api/openapi.json').expect(200);
    const documented = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    const apiRoutes = app.routes
      .filter((r) => /^\/(api\/v1|health)/.test(r.url) && r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    expect(documented).toEqual(apiRoutes);
  });
});

describe('health when the database is gone', () => {
  it('answers 503 as a problem', async () => {
    const app = await createTestApp();
    try {
      await app.app.get(DataSource).destroy();
      const res = await app.http.get('/health');
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    } finally {
      await app.close().catch(() => undefined);
    }
  });
});
