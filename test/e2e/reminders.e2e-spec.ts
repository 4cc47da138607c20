import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { API, createTestApp, type TestApp } from '../support/test-app.js';

interface Sent {
  kind: string;
  recipientId: string;
  subjectType: string;
  subjectId: string;
  window: string;
}

/**
 * Time travel through POST /reminders/run {now}: each kind at the edges of its window, in
 * India (UTC+05:30) and US Eastern time (UTC-05:00 in winter), once and only once.
 * 08:00 in India is 02:30 UTC; 08:00 in New York (January) is 13:00 UTC.
 */
describe('reminders', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await createTestApp();
  });
  afterEach(() => app.close());

  const run = async (now: string): Promise<{ data: Sent[]; hidden: number }> =>
    (await app.as('admin', 'post', '/reminders/run').send({ now }).expect(200)).body;
  const about = (report: { data: Sent[] }, subjectId: string) =>
    report.data
      .filter((r) => r.subjectId === subjectId)
      .map((r) => [r.kind, r.recipientId, r.window]);
  const item = async (owner: string, dueDate: string, visibility = 'joint') =>
    (
      await app
        .as(owner.endsWith('.us') ? 'sec.us' : 'sec.in', 'post', '/action-items')
        .send({ title: `Task for ${owner}`, ownerId: await app.userId(owner), dueDate, visibility })
        .expect(201)
    ).body.id as string;
  const notifications = async (account: string, subjectId: string) =>
    (await app.as(account, 'get', '/me/notifications?limit=200').expect(200)).body.data.filter(
      (n: { subjectId: string }) => n.subjectId === subjectId,
    );

  describe('action_due_soon', () => {
    it('reaches an Indian owner at 08:00 IST, 7 days and 1 day before, once each', async () => {
      const id = await item('delegate.in', '2030-01-17');
      const owner = await app.userId('delegate.in');
      expect(about(await run('2030-01-10T02:29:00Z'), id)).toEqual([]);
      expect(about(await run('2030-01-10T02:30:00Z'), id)).toEqual([
        ['action_due_soon', owner, '2030-01-10'],
      ]);
      expect(about(await run('2030-01-10T09:00:00Z'), id)).toEqual([]);
      expect(about(await run('2030-01-15T12:00:00Z'), id)).toEqual([]);
      expect(about(await run('2030-01-16T02:29:00Z'), id)).toEqual([]);
      expect(about(await run('2030-01-16T02:30:00Z'), id)).toEqual([
        ['action_due_soon', owner, '2030-01-16'],
      ]);
      const received = await notifications('delegate.in', id);
      expect(received).toHaveLength(2);
      expect(received[0]).toMatchObject({
        kind: 'action_due_soon',
        subjectType: 'action_item',
        readAt: null,
      });
      expect(received[0].title).toMatch(/due on 2030-01-17/);
    });

    it('reaches a US owner at 08:00 Eastern, not at the Indian hour', async () => {
      const id = await item('delegate.us', '2030-01-17');
      const owner = await app.userId('delegate.us');
      // 02:30 UTC on the 10th is still the 9th in New York.
      expect(about(await run('2030-01-10T02:30:00Z'), id)).toEqual([]);
      expect(about(await run('2030-01-10T12:59:00Z'), id)).toEqual([]);
      expect(about(await run('2030-01-10T13:00:00Z'), id)).toEqual([
        ['action_due_soon', owner, '2030-01-10'],
      ]);
    });

    it('is re-armed when the due date moves', async () => {
      const id = await item('delegate.in', '2030-01-17');
      expect(about(await run('2030-01-10T03:00:00Z'), id)).toHaveLength(1);
      await app
        .as('sec.in', 'patch', `/action-items/${id}`)
        .send({ dueDate: '2030-01-24' })
        .expect(200);
      expect(about(await run('2030-01-17T03:00:00Z'), id)).toEqual([
        ['action_due_soon', await app.userId('delegate.in'), '2030-01-17'],
      ]);
    });
  });

  describe('action_overdue and action_escalated', () => {
    it('reminds the owner 1, 8 and 15 days after the due date', async () => {
      const id = await item('delegate.us', '2030-01-10');
      const owner = await app.userId('delegate.us');
      expect(about(await run('2030-01-10T20:00:00Z'), id)).toEqual([]);
      expect(about(await run('2030-01-11T12:59:00Z'), id)).toEqual([]);
      expect(about(await run('2030-01-11T13:00:00Z'), id)).toEqual([
        ['action_overdue', owner, '2030-01-11'],
      ]);
      expect(about(await run('2030-01-12T13:00:00Z'), id)).toEqual([]);
      expect(about(await run('2030-01-18T13:00:00Z'), id)).toEqual([
        ['action_overdue', owner, '2030-01-18'],
      ]);
    });

    it('escalates once to the owner DSA on the 14th day, in the DSA timezone', async () => {
      const id = await item('delegate.in', '2030-01-10');
      const dsa = await app.userId('dsa.in');
      expect(
        about(await run('2030-01-24T02:29:00Z'), id).filter(
          ([kind]) => kind === 'action_escalated',
        ),
      ).toEqual([]);
      expect(
        about(await run('2030-01-24T02:30:00Z'), id).filter(
          ([kind]) => kind === 'action_escalated',
        ),
      ).toEqual([['action_escalated', dsa, '2030-01-10']]);
      expect(
        about(await run('2030-02-20T03:00:00Z'), id).filter(
          ([kind]) => kind === 'action_escalated',
        ),
      ).toEqual([]);
      expect(await notifications('dsa.in', id)).toHaveLength(1);
      expect(await notifications('dsa.us', id)).toHaveLength(0);
    });

    it('catches up a pass missed while the service was down, once', async () => {
      const id = await item('delegate.in', '2030-01-10');
      const owner = await app.userId('delegate.in');
      await run('2030-01-09T12:00:00Z');
      // Down until the 30th: the overdue windows of the 11th, 18th and 25th were missed.
      expect(about(await run('2030-01-30T12:00:00Z'), id)).toEqual([
        ['action_escalated', await app.userId('dsa.in'), '2030-01-10'],
        ['action_overdue', owner, '2030-01-25'],
      ]);
      expect(about(await run('2030-01-30T13:00:00Z'), id)).toEqual([]);
    });

    it('sends nothing about closed items', async () => {
      const done = await item('delegate.in', '2030-01-10');
      const cancelled = await item('delegate.in', '2030-01-10');
      await app
        .as('delegate.in', 'patch', `/action-items/${done}`)
        .send({ status: 'done' })
        .expect(200);
      await app
        .as('sec.in', 'patch', `/action-items/${cancelled}`)
        .send({ status: 'cancelled' })
        .expect(200);
      const report = await run('2030-01-30T12:00:00Z');
      expect(about(report, done)).toEqual([]);
      expect(about(report, cancelled)).toEqual([]);
    });
  });

  describe('meetings and minutes', () => {
    const meeting = async (startsOn: string, endsOn = startsOn) =>
      (
        await app
          .as('sec.in', 'post', '/meetings')
          .send({ title: 'JWG meeting', kind: 'plenary', startsOn, endsOn, hostDelegation: 'IN' })
          .expect(201)
      ).body.id as string;

    it('announces a meeting 7 days ahead to every active user, and not a cancelled one', async () => {
      const id = await meeting('2030-03-10');
      const cancelled = await meeting('2030-03-10');
      await app
        .as('sec.in', 'patch', `/meetings/${cancelled}`)
        .send({ status: 'cancelled' })
        .expect(200);
      const users = (await app.as('admin', 'get', '/users?limit=200').expect(200)).body.data;
      const report = await run('2030-03-03T13:00:00Z');
      const announced = about(report, id);
      expect(
        announced.every(
          ([kind, , window]) => kind === 'meeting_upcoming' && window === '2030-03-03',
        ),
      ).toBe(true);
      expect(announced.map(([, recipient]) => recipient).sort()).toEqual(
        users.map((u: { id: string }) => u.id).sort(),
      );
      expect(about(report, cancelled)).toEqual([]);
      expect(about(await run('2030-03-04T13:00:00Z'), id)).toEqual([]);
    });

    it('re-arms the announcement when the meeting moves', async () => {
      const id = await meeting('2030-03-10');
      expect(about(await run('2030-03-03T13:00:00Z'), id).length).toBeGreaterThan(0);
      await app
        .as('sec.in', 'patch', `/meetings/${id}`)
        .send({ startsOn: '2030-03-20', endsOn: '2030-03-20' })
        .expect(200);
      const moved = about(await run('2030-03-13T13:00:00Z'), id);
      expect(moved.length).toBeGreaterThan(0);
      expect(moved.every(([, , window]) => window === '2030-03-13')).toBe(true);
    });

    it('tells both secretariats once when a held meeting has no minutes after 10 days', async () => {
      const id = await meeting('2030-03-01', '2030-03-02');
      await app
        .as('sec.in', 'post', `/meetings/${id}/outcomes`)
        .send({ decisions: ['Done'] })
        .expect(201);
      const withMinutes = await meeting('2030-03-01', '2030-03-02');
      await app
        .as('sec.in', 'post', `/meetings/${withMinutes}/outcomes`)
        .send({ minutes: 'Text' })
        .expect(201);
      expect(about(await run('2030-03-11T12:00:00Z'), id)).toEqual([]);
      const secretariat = [await app.userId('sec.in'), await app.userId('sec.us')];
      const report = await run('2030-03-12T13:00:00Z');
      expect(
        about(report, id)
          .map(([kind, recipient]) => [kind, recipient])
          .sort(),
      ).toEqual(secretariat.map((r) => ['minutes_missing', r]).sort());
      expect(about(report, withMinutes)).toEqual([]);
      expect(about(await run('2030-04-12T13:00:00Z'), id)).toEqual([]);
    });

    it('asks each DSA whose side has not approved circulated minutes, once per circulation', async () => {
      const id = await meeting('2030-03-01');
      await app.as('sec.in', 'put', `/meetings/${id}/minutes`).send({ text: 'Draft' }).expect(200);
      await app.as('sec.in', 'post', `/meetings/${id}/minutes/circulate`).expect(200);
      const [dsaIn, dsaUs] = [await app.userId('dsa.in'), await app.userId('dsa.us')];
      await app.as('dsa.in', 'post', `/meetings/${id}/minutes/approve`).expect(200);
      // Circulated today (real time), so a pass a year on asks the side still to approve.
      const later = new Date(Date.now() + 365 * 86400000).toISOString();
      const awaiting = (report: { data: Sent[] }) =>
        about(report, id)
          .filter(([kind]) => kind === 'minutes_awaiting_approval')
          .map(([, r]) => r);
      expect(awaiting(await run(later))).toEqual([dsaUs]);
      expect(awaiting(await run(new Date(Date.parse(later) + 3600000).toISOString()))).toEqual([]);
      // Edited and circulated again: approvals are void, both sides are asked anew.
      await app.as('sec.in', 'put', `/meetings/${id}/minutes`).send({ text: 'Edited' }).expect(200);
      await app.as('sec.in', 'post', `/meetings/${id}/minutes/circulate`).expect(200);
      expect(
        awaiting(await run(new Date(Date.parse(later) + 7200000).toISOString())).sort(),
      ).toEqual([dsaIn, dsaUs].sort());
    });
  });

  describe('delivery', () => {
    it('delivers each reminder once when two passes run at once', async () => {
      const ids = await Promise.all(
        ['delegate.in', 'delegate.us', 'sec.in'].map((o) => item(o, '2030-01-17')),
      );
      const [a, b] = await Promise.all([run('2030-01-10T14:00:00Z'), run('2030-01-10T14:00:00Z')]);
      for (const id of ids) {
        expect(about(a, id).length + about(b, id).length).toBe(1);
      }
      const rows: { n: number }[] = await app.uow.read((em) =>
        em.query(
          `SELECT count(*) AS n FROM notifications WHERE subject_id IN ('${ids.join("','")}')`,
        ),
      );
      expect(Number(rows[0].n)).toBe(3);
    });

    it('keeps a delegation-only item inside its delegation, and out of admin reports', async () => {
      const id = await item('delegate.in', '2030-01-10', 'IN');
      await run('2030-01-10T12:00:00Z');
      const overdue = await run('2030-01-11T12:00:00Z');
      const escalated = await run('2030-01-24T12:00:00Z');
      expect(about(overdue, id)).toEqual([]);
      expect(about(escalated, id)).toEqual([]);
      expect(overdue.hidden).toBe(1);
      // The overdue reminder of the 18th, and the escalation.
      expect(escalated.hidden).toBe(2);
      expect(await notifications('delegate.in', id)).toHaveLength(2);
      expect(await notifications('dsa.in', id)).toHaveLength(1);
      for (const account of ['dsa.us', 'sec.us', 'delegate.us', 'observer.us', 'admin']) {
        expect(await notifications(account, id)).toHaveLength(0);
      }
    });

    it('previews without writing, and the run then sends what the preview showed', async () => {
      const id = await item('delegate.in', '2030-01-17');
      const count = async () =>
        Number((await app.uow.read((em) => em.query('SELECT count(*) AS n FROM reminders')))[0].n);
      const before = await count();
      const preview = (
        await app.as('admin', 'get', '/reminders/preview?now=2030-01-10T03:00:00Z').expect(200)
      ).body;
      expect(await count()).toBe(before);
      expect(about(preview, id)).toEqual([
        ['action_due_soon', await app.userId('delegate.in'), '2030-01-10'],
      ]);
      expect(await run('2030-01-10T03:00:00Z')).toEqual(preview);
    });

    it('is admin only, and checks now', async () => {
      for (const account of ['dsa.in', 'sec.us', 'delegate.in', 'observer.us']) {
        await app.as(account, 'post', '/reminders/run').send({}).expect(403);
        await app.as(account, 'get', '/reminders/preview').expect(403);
      }
      await app.http.post(`${API}/reminders/run`).expect(401);
      await app.as('admin', 'post', '/reminders/run').send({ now: 'yesterday' }).expect(400);
      await app.as('admin', 'get', '/reminders/preview?now=2030-13-45').expect(400);
      await app.as('admin', 'get', '/reminders/preview?when=now').expect(400);
      await app.as('admin', 'post', '/reminders/run').expect(200);
    });
  });
});
