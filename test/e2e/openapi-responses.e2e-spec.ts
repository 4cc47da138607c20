import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OpenApiValidator } from '../support/openapi-validator.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/** Real answers from every kind of route, checked against the document's own schemas. */
describe('responses match the OpenAPI document', () => {
  let app: TestApp;
  let validator: OpenApiValidator;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    app = await createTestApp();
    validator = await OpenApiValidator.of(app);
    const owner = await app.userId('delegate.in');
    ids.user = owner;
    ids.meeting = (await app.as('sec.in', 'get', '/meetings?limit=1').expect(200)).body.data[0].id;
    ids.agendaItem = (
      await app.as('sec.in', 'get', `/meetings/${ids.meeting}/agenda-items`).expect(200)
    ).body.data[0].id;
    ids.policyItem = (
      await app.as('sec.in', 'get', '/policy-items?limit=1').expect(200)
    ).body.data[0].id;
    ids.actionItem = (
      await app
        .as('sec.in', 'post', '/action-items')
        .send({ title: 'Checked', ownerId: owner, dueDate: '2030-01-10' })
        .expect(201)
    ).body.id;
    await app
      .as('delegate.in', 'post', `/action-items/${ids.actionItem}/updates`)
      .send({ note: 'Started' })
      .expect(201);
    await app
      .as('sec.in', 'post', `/action-items/${ids.actionItem}/notes`)
      .send({ body: 'Internal' })
      .expect(201);
    await app
      .as('admin', 'post', '/reminders/run')
      .send({ now: '2030-01-11T12:00:00Z' })
      .expect(200);
  });
  afterAll(() => app.close());

  const cases: [string, string, string, string, number][] = [
    ['dsa.in', 'GET', '/api/v1/me', '/me', 200],
    ['dsa.in', 'GET', '/api/v1/users', '/users', 200],
    ['dsa.in', 'GET', '/api/v1/users/{id}', '/users/<user>', 200],
    ['dsa.in', 'GET', '/api/v1/delegations', '/delegations', 200],
    ['dsa.in', 'GET', '/api/v1/working-group', '/working-group', 200],
    ['dsa.in', 'GET', '/api/v1/meetings', '/meetings', 200],
    ['dsa.in', 'GET', '/api/v1/meetings/{id}', '/meetings/<meeting>', 200],
    [
      'dsa.in',
      'GET',
      '/api/v1/meetings/{id}/agenda-items',
      '/meetings/<meeting>/agenda-items',
      200,
    ],
    ['dsa.in', 'GET', '/api/v1/agenda-items/{id}', '/agenda-items/<agendaItem>', 200],
    ['dsa.in', 'GET', '/api/v1/policy-items', '/policy-items', 200],
    ['dsa.in', 'GET', '/api/v1/policy-items/{id}', '/policy-items/<policyItem>', 200],
    ['dsa.in', 'GET', '/api/v1/action-items', '/action-items', 200],
    ['dsa.in', 'GET', '/api/v1/action-items/{id}', '/action-items/<actionItem>', 200],
    [
      'dsa.in',
      'GET',
      '/api/v1/action-items/{id}/updates',
      '/action-items/<actionItem>/updates',
      200,
    ],
    ['dsa.in', 'GET', '/api/v1/action-items/{id}/notes', '/action-items/<actionItem>/notes', 200],
    ['delegate.in', 'GET', '/api/v1/me/action-items', '/me/action-items', 200],
    ['delegate.in', 'GET', '/api/v1/me/notifications', '/me/notifications', 200],
    ['admin', 'GET', '/api/v1/audit-events', '/audit-events', 200],
    ['admin', 'GET', '/api/v1/audit-events/verify', '/audit-events/verify', 200],
    [
      'admin',
      'GET',
      '/api/v1/reminders/preview',
      '/reminders/preview?now=2030-01-18T12:00:00Z',
      200,
    ],
    [
      'observer.us',
      'GET',
      '/api/v1/action-items/{id}',
      '/action-items/00000000-0000-4000-8000-000000000000',
      404,
    ],
    ['observer.us', 'POST', '/api/v1/users', '/users', 403],
    ['dsa.in', 'GET', '/api/v1/action-items', '/action-items?limit=0', 400],
  ];

  it.each(cases)('%s %s %s (%s) -> %d', async (account, method, documented, path, status) => {
    const concrete = path.replace(/<(\w+)>/g, (_m, kind: string) => ids[kind]);
    const res = await app
      .as(account, method.toLowerCase() as 'get' | 'post', concrete)
      .send(method === 'POST' ? {} : undefined);
    expect(res.status).toBe(status);
    const errors = validator.check(method, documented, status, res.body);
    expect(errors).toEqual([]);
    if (status === 200 && Array.isArray(res.body.data)) {
      expect(res.body.data.length).toBeGreaterThan(0);
    }
  });

  it('matches the documented schema of writes too', async () => {
    const res = await app
      .as('sec.us', 'post', `/meetings/${ids.meeting}/outcomes`)
      .send({
        decisions: ['Checked'],
        actionItems: [{ title: 'From outcomes', ownerId: ids.user, dueDate: '2030-02-01' }],
      })
      .expect(201);
    expect(validator.check('POST', '/api/v1/meetings/{id}/outcomes', 201, res.body)).toEqual([]);
    const login = await app.http
      .post('/api/v1/auth/login')
      .send({ username: 'sec.us', password: 'seed-password-for-tests' })
      .expect(200);
    expect(validator.check('POST', '/api/v1/auth/login', 200, login.body)).toEqual([]);
  });
});
