import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACCOUNTS, API, createTestApp, type TestApp } from '../support/test-app.js';

interface NotificationView {
  id: string;
  kind: string;
  subjectType: string;
  subjectId: string;
  title: string;
  body: string;
  createdAt: string;
  readAt: string | null;
}

interface PassReport {
  data: {
    kind: string;
    recipientId: string;
    subjectType: string;
    subjectId: string;
    window: string;
  }[];
  hidden: number;
}

/**
 * Passes run as of 2031-06-10 from 12:00 UTC on, a minute apart: 08:00 and later in New York
 * (EDT), 17:30 and later in New Delhi, so every pass falls on the same local day on both sides
 * and after the 08:00 send time. An item due 2031-06-17 is then due in exactly 7 days.
 */
const FIRST_PASS = Date.parse('2031-06-10T12:00:00.000Z');
const TODAY = '2031-06-10';
const DUE_IN_7_DAYS = '2031-06-17';
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('notifications', () => {
  let app: TestApp;
  let passes = 0;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  /** Runs a reminder pass as admin, each one a minute after the previous. */
  async function runPass(): Promise<PassReport> {
    const now = new Date(FIRST_PASS + passes++ * 60_000).toISOString();
    const res = await app.as('admin', 'post', '/reminders/run').send({ now }).expect(200);
    return res.body as PassReport;
  }

  /** A new action item owned by `owner`, created by their delegation's secretariat. */
  async function createItem(
    owner: string,
    title: string,
    options: { dueDate?: string; visibility?: 'joint' | 'IN' | 'US' } = {},
  ): Promise<{ id: string; code: string }> {
    const ownerId = await app.userId(owner);
    const me = await app.as(owner, 'get', '/me').expect(200);
    const creator = me.body.delegation === 'IN' ? 'sec.in' : 'sec.us';
    const res = await app
      .as(creator, 'post', '/action-items')
      .send({
        title,
        ownerId,
        dueDate: options.dueDate ?? DUE_IN_7_DAYS,
        visibility: options.visibility ?? 'joint',
      })
      .expect(201);
    return res.body as { id: string; code: string };
  }

  async function notificationsOf(username: string, query = ''): Promise<NotificationView[]> {
    const res = await app.as(username, 'get', `/me/notifications${query}`).expect(200);
    expect(res.body.nextCursor).toBeNull();
    return res.body.data as NotificationView[];
  }

  let users = 0;
  /** A fresh US delegate, so that their notifications are only the ones a test causes. */
  async function freshDelegate(delegation: 'IN' | 'US' = 'US'): Promise<string> {
    const username = `notified.${delegation.toLowerCase()}.${++users}`;
    await app.createUser({ username, role: 'delegate', delegation });
    return username;
  }

  it('delivers a due-soon reminder to its recipient only', async () => {
    const item = await createItem('delegate.us', 'Send the visit request list');
    const report = await runPass();
    const recipientId = await app.userId('delegate.us');
    expect(report.data).toContainEqual({
      kind: 'action_due_soon',
      recipientId,
      subjectType: 'action_item',
      subjectId: item.id,
      window: TODAY,
    });
    expect(report.data.filter((r) => r.subjectId === item.id)).toHaveLength(1);

    const mine = await notificationsOf('delegate.us');
    expect(mine).toEqual([
      {
        id: expect.any(String),
        kind: 'action_due_soon',
        subjectType: 'action_item',
        subjectId: item.id,
        title: expect.stringContaining(item.code),
        body: expect.stringContaining('Send the visit request list'),
        createdAt: expect.stringMatching(ISO_TIMESTAMP),
        readAt: null,
      },
    ]);
    expect(mine[0].title).toContain(DUE_IN_7_DAYS);

    for (const account of ACCOUNTS.filter((a) => a !== 'delegate.us')) {
      const theirs = await notificationsOf(account);
      expect(theirs.filter((n) => n.subjectId === item.id)).toEqual([]);
      expect(theirs.map((n) => n.id)).not.toContain(mine[0].id);
    }
  });

  it('lists the newest first', async () => {
    const owner = await freshDelegate();
    const first = await createItem(owner, 'Newest-first: older');
    await runPass();
    await sleep(5);
    const second = await createItem(owner, 'Newest-first: newer');
    await runPass();

    const list = await notificationsOf(owner);
    expect(list.map((n) => n.subjectId)).toEqual([second.id, first.id]);
    expect(list[0].createdAt > list[1].createdAt).toBe(true);
  });

  it('marks a notification read once, and filters by unread', async () => {
    const owner = await freshDelegate();
    await createItem(owner, 'Read me');
    await runPass();
    const [unread] = await notificationsOf(owner, '?unread=true');
    expect(unread).toMatchObject({ kind: 'action_due_soon', readAt: null });
    expect(await notificationsOf(owner, '?unread=false')).toEqual([]);

    const read = await app.as(owner, 'post', `/me/notifications/${unread.id}/read`).expect(200);
    expect(read.body).toEqual({ ...unread, readAt: expect.stringMatching(ISO_TIMESTAMP) });
    expect(read.body.readAt >= unread.createdAt).toBe(true);

    expect(await notificationsOf(owner, '?unread=true')).toEqual([]);
    expect(await notificationsOf(owner, '?unread=false')).toEqual([read.body]);
    expect(await notificationsOf(owner)).toEqual([read.body]);

    await sleep(5);
    const again = await app.as(owner, 'post', `/me/notifications/${unread.id}/read`).expect(200);
    expect(again.body).toEqual(read.body);
    expect(await notificationsOf(owner)).toEqual([read.body]);
  });

  it("answers 404 for someone else's notification and for an unknown id", async () => {
    const owner = await freshDelegate();
    await createItem(owner, 'Not yours');
    await runPass();
    const [notification] = await notificationsOf(owner);

    for (const other of ['delegate.us', 'dsa.us', 'sec.us', 'admin', 'dsa.in']) {
      const res = await app
        .as(other, 'post', `/me/notifications/${notification.id}/read`)
        .expect(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 404 });
    }
    // Untouched by the attempts.
    expect(await notificationsOf(owner, '?unread=true')).toEqual([notification]);

    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope', 'x'.repeat(300)]) {
      await app.as(owner, 'post', `/me/notifications/${id}/read`).expect(404);
    }
  });

  it('pages with limit and cursor', async () => {
    const owner = await freshDelegate();
    for (const title of ['Page one', 'Page two', 'Page three']) {
      await createItem(owner, title);
      await runPass();
      await sleep(2);
    }
    const all = await notificationsOf(owner);
    expect(all).toHaveLength(3);

    const seen: NotificationView[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await app.as(owner, 'get', `/me/notifications${query}`).expect(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...(res.body.data as NotificationView[]));
      cursor = res.body.nextCursor as string | null;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual(all);

    // The unread filter pages the same way.
    await app.as(owner, 'post', `/me/notifications/${all[1].id}/read`).expect(200);
    const page1 = await app.as(owner, 'get', '/me/notifications?unread=true&limit=1').expect(200);
    expect(page1.body.data.map((n: NotificationView) => n.id)).toEqual([all[0].id]);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await app
      .as(owner, 'get', `/me/notifications?unread=true&limit=1&cursor=${page1.body.nextCursor}`)
      .expect(200);
    expect(page2.body).toEqual({ data: [all[2]], nextCursor: null });
  });

  it('rejects a bad query with 400', async () => {
    for (const query of [
      'unread=maybe',
      'unread=1',
      'unread=',
      'limit=0',
      'limit=201',
      'limit=two',
      'limit=1.5',
      'cursor=not-a-cursor',
      'sort=createdAt',
      'kind=action_due_soon',
    ]) {
      const res = await app.as('delegate.us', 'get', `/me/notifications?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 400 });
    }
  });

  it('answers 401 without a bearer token', async () => {
    await app.http.get(`${API}/me/notifications`).expect(401);
    await app.http.get(`${API}/me/notifications?unread=true`).expect(401);
    await app.http
      .post(`${API}/me/notifications/00000000-0000-4000-8000-000000000000/read`)
      .expect(401);
    await app.http
      .get(`${API}/me/notifications`)
      .set('authorization', 'Bearer not-a-token')
      .expect(401);
  });

  it('never tells the other delegation or admin about an IN-only item', async () => {
    const owner = await freshDelegate('IN');
    const soon = await createItem(owner, 'IN-only: due soon', { visibility: 'IN' });
    // Three weeks overdue: escalated to the IN DSA.
    const late = await createItem(owner, 'IN-only: long overdue', {
      visibility: 'IN',
      dueDate: '2031-05-20',
    });
    const hiddenIds = [soon.id, late.id];

    const preview = await app
      .as(
        'admin',
        'get',
        `/reminders/preview?now=${new Date(FIRST_PASS + passes * 60_000).toISOString()}`,
      )
      .expect(200);
    const report = await runPass();
    expect(report).toEqual(preview.body);
    expect(report.data.filter((r) => hiddenIds.includes(r.subjectId))).toEqual([]);
    expect(report.hidden).toBe(2);

    const ownerNotes = await notificationsOf(owner);
    expect(ownerNotes.map((n) => [n.kind, n.subjectId])).toEqual([['action_due_soon', soon.id]]);
    const dsaIn = await notificationsOf('dsa.in');
    expect(
      dsaIn.filter((n) => hiddenIds.includes(n.subjectId)).map((n) => [n.kind, n.subjectId]),
    ).toEqual([['action_escalated', late.id]]);

    for (const account of ACCOUNTS.filter((a) => a === 'admin' || a.endsWith('.us'))) {
      const theirs = await notificationsOf(account);
      expect(theirs.filter((n) => hiddenIds.includes(n.subjectId))).toEqual([]);
      expect(JSON.stringify(theirs)).not.toContain('IN-only');
    }
  });
});
