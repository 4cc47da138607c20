import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EntityManager } from 'typeorm';
import { API, createTestApp, SEED_PASSWORD, type TestApp } from '../support/test-app.js';

interface Event {
  id: string;
  at: string;
  actorId: string | null;
  action: string;
  entityType: string;
  entityId: string | null;
  changes: Record<string, unknown>;
  visibility: string;
  prevHash: string;
  hash: string;
}

describe('audit trail', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  const events = async (account: string, query = ''): Promise<Event[]> => {
    const all: Event[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { data: Event[]; nextCursor: string | null } } = await app
        .as(account, 'get', `/audit-events?limit=200${query}${cursor ? `&cursor=${cursor}` : ''}`)
        .expect(200);
      all.push(...res.body.data);
      cursor = res.body.nextCursor;
    } while (cursor);
    return all;
  };
  const verify = async () =>
    (await app.as('admin', 'get', '/audit-events/verify').expect(200)).body;
  /** Runs SQL around the triggers, as someone with the database file could. */
  const tamper = (sql: string) => app.uow.transaction((em) => aroundTriggers(em, sql));

  it('records each change with its actor, chained by SHA-256', async () => {
    const owner = await app.userId('delegate.us');
    const created = await app
      .as('sec.us', 'post', '/action-items')
      .send({ title: 'Audited', ownerId: owner, dueDate: '2030-05-01' })
      .expect(201);
    await app
      .as('delegate.us', 'patch', `/action-items/${created.body.id}`)
      .send({ status: 'in_progress' })
      .expect(200);
    const trail = await events('dsa.us', `&entityType=action_item&entityId=${created.body.id}`);
    expect(trail.map((e) => [e.action, e.actorId])).toEqual([
      ['action_item.updated', owner],
      ['action_item.created', await app.userId('sec.us')],
    ]);
    expect(trail[0].changes).toMatchObject({ status: 'in_progress', version: 2 });
    expect(trail[0].prevHash).toMatch(/^[0-9a-f]{64}$/);
    expect(trail[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await verify()).toEqual({ ok: true, checked: expect.any(Number), firstBadId: null });
  });

  it('writes nothing when the change is rolled back', async () => {
    const before = (await events('admin')).length;
    await app
      .as('sec.in', 'post', '/action-items')
      .send({ title: 'x', ownerId: 'nobody', dueDate: '2030-01-01' })
      .expect(400);
    await app
      .as('sec.in', 'post', `/meetings/00000000-0000-4000-8000-000000000000/outcomes`)
      .send({})
      .expect(404);
    expect((await events('admin')).length).toBe(before);
  });

  it('records sign-ins, failed sign-ins, refresh reuse, logouts and refusals for admin only', async () => {
    const session = await app.login('observer.in');
    await app.http
      .post(`${API}/auth/login`)
      .send({ username: 'observer.in', password: 'wrong-password' })
      .expect(401);
    await app.http
      .post(`${API}/auth/refresh`)
      .send({ refreshToken: session.refreshToken })
      .expect(200);
    await app.http
      .post(`${API}/auth/refresh`)
      .send({ refreshToken: session.refreshToken })
      .expect(401);
    await app.as('observer.in', 'post', '/users').send({}).expect(403);
    const actions = (await events('admin')).map((e) => e.action);
    for (const action of [
      'user.login',
      'user.login_failed',
      'session.refresh_reused',
      'access.denied',
    ]) {
      expect(actions).toContain(action);
    }
    for (const account of ['dsa.in', 'dsa.us']) {
      const seen = await events(account);
      expect(seen.some((e) => e.visibility === 'account')).toBe(false);
    }
    const text = JSON.stringify(await events('admin'));
    expect(text).not.toContain(SEED_PASSWORD);
    expect(text).not.toContain('wrong-password');
    expect(text).not.toContain(session.refreshToken);
    expect(text).not.toContain(session.accessToken);
  });

  it('shows each event only as far as its record was visible when it happened', async () => {
    const owner = await app.userId('delegate.in');
    const item = await app
      .as('sec.in', 'post', '/action-items')
      .send({ title: 'India only', ownerId: owner, dueDate: '2030-05-01', visibility: 'IN' })
      .expect(201);
    const id = item.body.id as string;
    await app
      .as('sec.in', 'post', `/action-items/${id}/notes`)
      .send({ body: 'SECRET-NOTE-TEXT' })
      .expect(201);
    for (const account of ['dsa.us', 'admin']) {
      expect(await events(account, `&entityId=${id}`)).toEqual([]);
    }
    expect((await events('dsa.in', `&entityId=${id}`)).map((e) => e.action)).toEqual([
      'action_item.created',
    ]);
    // Released to joint: the release is a joint event; what happened before stays India's.
    await app
      .as('sec.in', 'patch', `/action-items/${id}`)
      .send({ visibility: 'joint' })
      .expect(200);
    expect((await events('dsa.us', `&entityId=${id}`)).map((e) => e.action)).toEqual([
      'action_item.released',
    ]);
    expect((await events('dsa.in', `&entityId=${id}`)).map((e) => e.action)).toEqual([
      'action_item.released',
      'action_item.created',
    ]);
    // No event carries a note's text, not even for its own delegation.
    for (const account of ['dsa.in', 'admin']) {
      expect(JSON.stringify(await events(account))).not.toContain('SECRET-NOTE-TEXT');
    }
  });

  it('is readable by admin and DSAs only', async () => {
    for (const account of ['sec.in', 'delegate.us', 'observer.in']) {
      await app.as(account, 'get', '/audit-events').expect(403);
    }
    for (const account of ['dsa.in', 'sec.in', 'observer.us']) {
      await app.as(account, 'get', '/audit-events/verify').expect(403);
    }
    await app.http.get(`${API}/audit-events`).expect(401);
    await app.as('admin', 'get', '/audit-events?limit=0').expect(400);
    await app.as('admin', 'get', '/audit-events?actor=me').expect(400);
  });

  it('refuses updates and deletes in the database itself', async () => {
    await expect(
      app.uow.transaction((em) => em.query(`UPDATE audit_events SET action = 'x'`)),
    ).rejects.toThrow(/immutable/);
    await expect(app.uow.transaction((em) => em.query(`DELETE FROM audit_events`))).rejects.toThrow(
      /immutable/,
    );
    expect((await verify()).ok).toBe(true);
  });

  it('detects an edited event and names it', async () => {
    const [victim] = await events('admin', '&entityType=user');
    await tamper(`UPDATE audit_events SET changes = '{"role":"admin"}' WHERE id = '${victim.id}'`);
    expect(await verify()).toEqual({
      ok: false,
      checked: expect.any(Number),
      firstBadId: victim.id,
    });
    await tamper(
      `UPDATE audit_events SET changes = '${JSON.stringify(victim.changes)}' WHERE id = '${victim.id}'`,
    );
    expect((await verify()).ok).toBe(true);
  });

  it('detects a deleted event, in the middle and at the end', async () => {
    const rows: { id: string; seq: number }[] = await app.uow.read((em) =>
      em.query('SELECT id, seq FROM audit_events ORDER BY seq'),
    );
    const middle = rows[Math.floor(rows.length / 2)];
    const after = rows[Math.floor(rows.length / 2) + 1];
    await tamper(`DELETE FROM audit_events WHERE id = '${middle.id}'`);
    expect(await verify()).toEqual({
      ok: false,
      checked: expect.any(Number),
      firstBadId: after.id,
    });

    const fresh = await createTestApp();
    try {
      await fresh.as('sec.in', 'post', '/policy-items').send({ title: 'Last one' }).expect(201);
      const last: { id: string }[] = await fresh.uow.read((em) =>
        em.query('SELECT id FROM audit_events ORDER BY seq DESC LIMIT 2'),
      );
      await fresh.uow.transaction((em) =>
        aroundTriggers(em, `DELETE FROM audit_events WHERE id = '${last[0].id}'`),
      );
      const report = (await fresh.as('admin', 'get', '/audit-events/verify').expect(200)).body;
      expect(report).toEqual({ ok: false, checked: expect.any(Number), firstBadId: last[1].id });
    } finally {
      await fresh.close();
    }
  });
});

/** Runs `sql` with the audit table's triggers off, then puts them back. */
async function aroundTriggers(em: EntityManager, sql: string): Promise<void> {
  if (em.connection.options.type === 'postgres') {
    await em.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    await em.query(sql);
    await em.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    return;
  }
  await em.query('DROP TRIGGER audit_events_no_update');
  await em.query('DROP TRIGGER audit_events_no_delete');
  await em.query(sql);
  await em.query(`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END`);
  await em.query(`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END`);
}
