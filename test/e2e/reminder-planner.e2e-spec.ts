import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { addDays } from '../../src/common/dates.js';
import { insertRows } from '../../src/database/bulk-insert.js';
import { RemindersService } from '../../src/reminders/reminders.service.js';
import {
  dueSoonWindows,
  escalationDue,
  localClock,
  overdueWindow,
} from '../../src/reminders/windows.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

interface UserRow {
  id: string;
  role: string;
  delegation: string | null;
  timezone: string;
  active: boolean | number;
}

interface ItemRow {
  id: string;
  status: string;
  owner_id: string;
  owner_delegation: string;
  due_date: string;
  visibility: string;
}

const OPEN = ['open', 'in_progress', 'blocked'];

/**
 * The planner walks the open items of each status in batches along (due date, id) and asks
 * the ledger which escalations it already holds. Here, with more items than one batch (runs of
 * equal due dates across the batch edges), every pass is checked against a plain reading of
 * the windows: item by item, every reminder due and not yet in the ledger, nothing else.
 */
describe('reminder planner', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await createTestApp();
  });
  afterEach(() => app.close());

  const ledger = async () =>
    new Set(
      (
        await app.query<{ k: string; r: string; s: string; w: string }>(
          `SELECT kind AS k, recipient_id AS r, subject_id AS s, due_window AS w FROM reminders
           WHERE subject_type = 'action_item'`,
        )
      ).map((x) => `${x.k}|${x.r}|${x.s}|${x.w}`),
    );

  /** What a pass as of `now` must plan, item by item, straight from the window rules. */
  const expected = async (now: Date, floor: Date) => {
    const users = await app.query<UserRow>(
      'SELECT id, role, delegation, timezone, active FROM users',
    );
    const active = users.filter((u) => Boolean(u.active));
    const byId = new Map(active.map((u) => [u.id, u]));
    const dsaOf = new Map(active.filter((u) => u.role === 'dsa').map((u) => [u.delegation, u]));
    const items = await app.query<ItemRow>(
      'SELECT id, status, owner_id, owner_delegation, due_date, visibility FROM action_items',
    );
    const keys = new Set<string>();
    for (const item of items.filter((i) => OPEN.includes(i.status))) {
      const owner = byId.get(item.owner_id);
      if (owner) {
        const clock = localClock(now, owner.timezone);
        const floorDay = localClock(floor, owner.timezone).today;
        for (const window of dueSoonWindows(item.due_date, clock, floorDay)) {
          keys.add(`action_due_soon|${owner.id}|${item.id}|${window}`);
        }
        const overdue = overdueWindow(item.due_date, clock, floorDay);
        if (overdue) {
          keys.add(`action_overdue|${owner.id}|${item.id}|${overdue}`);
        }
      }
      const dsa = dsaOf.get(item.owner_delegation);
      if (dsa && escalationDue(item.due_date, localClock(now, dsa.timezone))) {
        keys.add(`action_escalated|${dsa.id}|${item.id}|${item.due_date}`);
      }
    }
    return keys;
  };

  const difference = (a: Set<string>, b: Set<string>) => [...a].filter((k) => !b.has(k)).sort();

  /** Runs a pass and checks that it added exactly what is due and not yet in the ledger. */
  const pass = async (now: string, floor: string) => {
    const before = await ledger();
    const want = difference(await expected(new Date(now), new Date(floor)), before);
    const report = await app.as('admin', 'post', '/reminders/run').send({ now }).expect(200);
    const added = difference(await ledger(), before);
    expect(added).toEqual(want);
    return {
      added,
      report: report.body as { data: unknown[]; hidden: number; truncated?: number },
    };
  };

  /** Items straight into the table: more than a planner batch, due dates in runs. */
  const plant = async (count: number, from: string, days: number, status = 'open') => {
    const users = await app.query<UserRow>(
      `SELECT id, role, delegation, timezone, active FROM users
       WHERE delegation IS NOT NULL AND role <> 'dsa'`,
    );
    const owners = users.filter((u) => Boolean(u.active));
    const at = new Date().toISOString();
    const columns = ['id', 'code', 'title', 'description', 'status', 'owner_id'];
    columns.push('owner_delegation', 'due_date', 'visibility', 'version', 'created_at');
    columns.push('updated_at');
    const rows = Array.from({ length: count }, (_, n) => {
      const owner = owners[n % owners.length];
      const visibility = n % 7 === 0 ? owner.delegation! : 'joint';
      const code = `PL-${randomUUID().slice(0, 8)}`;
      const due = addDays(from, n % days);
      const row: (string | number)[] = [randomUUID(), code, code, '', status, owner.id];
      row.push(owner.delegation!, due, visibility, 1, at, at);
      return row;
    });
    await app.uow.transaction((em) => insertRows(em, 'action_items', columns, rows));
    return rows.map((r) => r[0] as string);
  };

  it(
    'plans every due reminder once across batches, re-arms moved dates and catches up after' +
      ' downtime',
    async () => {
      // 5,200 open items over 130 days (40 a day) and a few hundred in the other statuses.
      const open = await plant(5200, '2029-11-01', 130);
      await plant(300, '2029-11-15', 90, 'in_progress');
      await plant(300, '2029-11-20', 90, 'blocked');
      await plant(50, '2029-12-01', 30, 'done');

      const first = '2030-01-20T14:00:00.000Z';
      const p1 = await pass(first, new Date(Date.parse(first) - 3600_000).toISOString());
      const escalated = p1.added.filter((k) => k.startsWith('action_escalated'));
      expect(escalated.length).toBeGreaterThan(3000);
      // The admin route lists every reminder admin may see (SPEC), even for a backlog pass,
      // and counts the delegation-only ones. (The count also holds the seeded meetings'.)
      const { data, hidden, truncated } = p1.report;
      expect(truncated).toBeUndefined();
      expect(data.length).toBeGreaterThan(3000);
      expect(data.length + hidden).toBeGreaterThanOrEqual(p1.added.length);

      // Down for a week. Meanwhile: escalated items get new (older) due dates, some close,
      // some reopen, and new items arrive long overdue.
      const moved = escalated.slice(0, 25).map((k) => k.split('|')[2]);
      for (const id of moved) {
        await app.query(`UPDATE action_items SET due_date = ? WHERE id = ?`, ['2029-10-15', id]);
      }
      const [, dsa, viaApi] = escalated[30].split('|');
      await app
        .as(
          dsa === (await app.userId('dsa.in')) ? 'sec.in' : 'sec.us',
          'patch',
          `/action-items/${viaApi}`,
        )
        .send({ dueDate: '2029-10-20' })
        .expect(200);
      // (Closed ones are picked apart from the moved ones, which must be re-escalated.)
      const closed = open.filter((id) => id !== viaApi && !moved.includes(id)).slice(0, 40);
      for (const id of closed) {
        await app.query(`UPDATE action_items SET status = 'done' WHERE id = ?`, [id]);
      }
      await plant(120, '2029-12-10', 20);

      const second = '2030-01-27T14:00:00.000Z';
      const p2 = await pass(second, first);
      const reEscalated = p2.added.filter((k) => k.startsWith('action_escalated'));
      for (const id of [...moved, viaApi]) {
        expect(reEscalated.filter((k) => k.split('|')[2] === id)).toHaveLength(1);
      }
      expect(reEscalated.length).toBeGreaterThanOrEqual(26 + 120);

      // Reopened: escalated once for that due date already, so not again (today's overdue
      // window, missed while they were closed, is due).
      for (const id of closed) {
        await app.query(`UPDATE action_items SET status = 'open' WHERE id = ?`, [id]);
      }
      const third = '2030-01-27T15:00:00.000Z';
      const p3 = await pass(third, second);
      expect(p3.added.filter((k) => !k.startsWith('action_overdue'))).toEqual([]);
      const p4 = await pass('2030-01-27T16:00:00.000Z', third);
      expect(p4.added).toEqual([]);
      expect(p4.report).toEqual({ data: [], hidden: 0 });

      // The scheduler's pass (listUpTo 0) lists nothing and counts all it delivered.
      await plant(20, '2030-01-01', 5);
      const before = await ledger();
      const counted = await app.app
        .get(RemindersService)
        .run(new Date('2030-01-27T17:00:00.000Z'), 0);
      const added = difference(await ledger(), before);
      expect(added.length).toBeGreaterThan(20);
      expect(counted.data).toEqual([]);
      expect(counted.hidden + (counted.truncated ?? 0)).toBe(added.length);

      const [{ n }] = await app.query<{ n: number | string }>(
        `SELECT count(*) AS n FROM reminders r JOIN notifications x ON x.reminder_id = r.id`,
      );
      const [{ sent }] = await app.query<{ sent: number | string }>(
        `SELECT count(*) AS sent FROM reminders WHERE state = 'sent'`,
      );
      expect(Number(n)).toBe(Number(sent));
    },
    120_000,
  );
});
