import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ACTION_ITEM_COLUMNS } from '../../src/action-items/action-items.service.js';
import { insertRows } from '../../src/database/bulk-insert.js';
import type { ActionItemJson } from '../support/action-item-json.js';
import { addDays, todayIn } from '../support/dates.js';
import { type Account, createTestApp, SEED_PASSWORD, type TestApp } from '../support/test-app.js';

/**
 * The read path of action items (lists, /me, by id, the CSV export) against an oracle: every
 * row in the database, filtered and ordered in plain code by the rules of SPEC 4 and 5. Covers
 * what a rewrite of the list statement could break: each filter alone and combined, `q` as
 * literal case-insensitive text, keyset pages over equal sort keys, overdue in two owner
 * timezones a day apart, and delegation-only items that the other side never sees.
 */

type Item = ActionItemJson;

/** A row as the oracle sees it: the item and its owner's timezone. */
type Row = Omit<Item, 'overdue'> & { timezone: string };

type Filters = Partial<
  Record<
    | 'status'
    | 'owner'
    | 'delegation'
    | 'meetingId'
    | 'policyItemId'
    | 'dueBefore'
    | 'dueAfter'
    | 'overdue'
    | 'q'
    | 'sort',
    string
  >
>;

const STATUSES = ['open', 'in_progress', 'blocked', 'done', 'cancelled'];
/** UTC+14 and UTC-11: their dates always differ, by one day or two. */
const EAST = 'Pacific/Kiritimati';
const WEST = 'Pacific/Pago_Pago';
const CALLERS: Account[] = ['sec.in', 'sec.us', 'admin'];

const isClosed = (status: string) => status === 'done' || status === 'cancelled';
const overdueOf = (row: Row, now: Date) =>
  !isClosed(row.status) && row.dueDate < todayIn(row.timezone, now);

describe('action item reads', () => {
  let app: TestApp;
  let rows: Row[];
  let delegations: Record<string, string | null>;
  let userIds: Record<string, string>;
  let meetingId: string;
  let policyItemId: string;
  /** A word only this run's titles contain. */
  const tag = `rd${Date.now().toString(36)}`;
  const eastToday = todayIn(EAST);
  const westToday = todayIn(WEST);
  const dueDates = [addDays(westToday, -1), westToday, eastToday, addDays(eastToday, 1)];
  const updatedAts = [
    '2026-01-05T10:00:00.000Z',
    '2026-02-05T10:00:00.000Z',
    '2026-03-05T10:00:00.000Z',
  ];
  const titles = [
    'Rate 100% Done',
    'rate 1000 done',
    'under_score',
    'underXscore',
    'back\\slash',
    'backslash',
    'MiXeD CaSe',
    'plain',
  ];

  /** The oracle: what `caller` must get for `filters`, in order. */
  function expected(caller: string, filters: Filters, now = new Date()): Row[] {
    const delegation = delegations[caller];
    const statuses = filters.status?.split(',');
    const owner = filters.owner === 'me' ? userIds[caller] : filters.owner;
    const q = filters.q?.toLowerCase();
    const sort = filters.sort ?? 'dueDate';
    const key = sort.replace('-', '') as 'dueDate' | 'updatedAt';
    const sign = sort.startsWith('-') ? -1 : 1;
    return rows
      .filter(
        (row) =>
          (row.visibility === 'joint' || row.visibility === delegation) &&
          (!statuses || statuses.includes(row.status)) &&
          (!owner || row.ownerId === owner) &&
          (!filters.delegation || row.ownerDelegation === filters.delegation) &&
          (!filters.meetingId || row.meetingId === filters.meetingId) &&
          (!filters.policyItemId || row.policyItemId === filters.policyItemId) &&
          (!filters.dueBefore || row.dueDate < filters.dueBefore) &&
          (!filters.dueAfter || row.dueDate > filters.dueAfter) &&
          (!filters.overdue || overdueOf(row, now) === (filters.overdue === 'true')) &&
          (!q || row.title.toLowerCase().includes(q) || row.description.toLowerCase().includes(q)),
      )
      .sort((a, b) => {
        const byKey = a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0;
        return sign * (byKey !== 0 ? byKey : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
      });
  }

  const queryString = (params: Record<string, string>) => new URLSearchParams(params).toString();

  /** Every page of a list, following nextCursor; checks each page's size on the way. */
  async function listAll(caller: string, filters: Filters, limit = 200): Promise<Item[]> {
    const items: Item[] = [];
    let cursor: string | null = null;
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(500);
      const query = queryString({
        ...filters,
        limit: String(limit),
        ...(cursor ? { cursor } : {}),
      });
      const res = await app.as(caller, 'get', `/action-items?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 200 });
      const page = res.body.data as Item[];
      expect(page.length).toBeLessThanOrEqual(limit);
      items.push(...page);
      cursor = res.body.nextCursor as string | null;
      if (!cursor) {
        return items;
      }
      expect(page).toHaveLength(limit);
    }
  }

  const idsOf = (items: { id: string }[]) => items.map((item) => item.id);

  async function expectList(caller: string, filters: Filters, limit = 200): Promise<Item[]> {
    const listed = await listAll(caller, filters, limit);
    expect({ caller, filters, ids: idsOf(listed) }).toEqual({
      caller,
      filters,
      ids: idsOf(expected(caller, filters)),
    });
    return listed;
  }

  async function createOwner(username: string, delegation: string, timezone: string) {
    await app
      .as('admin', 'post', '/users')
      .send({
        username,
        displayName: username,
        role: 'delegate',
        delegation,
        timezone,
        password: SEED_PASSWORD,
      })
      .expect(201);
    await app.signIn(username);
    userIds[username] = await app.userId(username);
    delegations[username] = delegation;
  }

  beforeAll(async () => {
    app = await createTestApp();
    userIds = {};
    delegations = { admin: null, 'sec.in': 'IN', 'sec.us': 'US', 'delegate.in': 'IN' };
    for (const account of Object.keys(delegations)) {
      userIds[account] = await app.userId(account);
    }
    await createOwner('reads.east', 'IN', EAST);
    await createOwner('reads.west', 'US', WEST);
    const meetings = await app.as('sec.in', 'get', '/meetings').expect(200);
    meetingId = (meetings.body.data as { id: string }[])[0].id;
    const policy = await app
      .as('sec.in', 'post', '/policy-items')
      .send({ title: `${tag} policy` })
      .expect(201);
    policyItemId = (policy.body as { id: string }).id;

    // 48 items per owner over few distinct due dates and update times: many equal sort keys.
    const planted: (string | number | null)[][] = [];
    for (const [owner, delegation] of [
      ['reads.east', 'IN'],
      ['reads.west', 'US'],
    ] as const) {
      for (let i = 0; i < 48; i++) {
        const status = STATUSES[i % STATUSES.length];
        planted.push([
          randomUUID(),
          `RD-${delegation}-${String(i).padStart(3, '0')}`,
          `${tag} ${titles[i % titles.length]}`,
          i % 3 === 0 ? `Has a NEEDLE ${tag}` : '',
          status,
          userIds[owner],
          delegation,
          dueDates[i % dueDates.length],
          i % 4 === 1 ? meetingId : null,
          null,
          i % 5 === 2 ? policyItemId : null,
          i % 6 === 5 ? delegation : 'joint',
          isClosed(status) ? '2026-01-01T00:00:00.000Z' : null,
          1,
          '2026-01-01T00:00:00.000Z',
          updatedAts[i % updatedAts.length],
        ]);
      }
    }
    await app.uow.transaction((em) => insertRows(em, 'action_items', ACTION_ITEM_COLUMNS, planted));
    rows = await app.query<Row>(
      `SELECT ai.id AS "id", ai.code AS "code", ai.title AS "title",
         ai.description AS "description", ai.status AS "status", ai.owner_id AS "ownerId",
         ai.owner_delegation AS "ownerDelegation", ai.due_date AS "dueDate",
         ai.meeting_id AS "meetingId", ai.agenda_item_id AS "agendaItemId",
         ai.policy_item_id AS "policyItemId", ai.visibility AS "visibility",
         ai.completed_at AS "completedAt", ai.version AS "version",
         ai.created_at AS "createdAt", ai.updated_at AS "updatedAt", u.timezone AS "timezone"
       FROM action_items ai JOIN users u ON u.id = ai.owner_id`,
    );
  });
  afterAll(() => app.close());

  it('presents every field as the item has it, overdue included', async () => {
    const listed = await expectList('sec.in', { owner: userIds['reads.east'] });
    const now = new Date();
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const item of listed) {
      const { timezone, ...row } = byId.get(item.id)!;
      expect(timezone).toBe(EAST);
      expect(item).toStrictEqual({
        ...row,
        version: 1,
        overdue: overdueOf(byId.get(item.id)!, now),
      });
    }
    const one = await app.as('sec.in', 'get', `/action-items/${listed[0].id}`).expect(200);
    expect(one.body).toStrictEqual(listed[0]);
  });

  describe('filters', () => {
    const alone = (): Filters[] => [
      {},
      { status: 'open' },
      { status: 'in_progress,blocked' },
      { status: 'done,cancelled,open,in_progress,blocked' },
      { status: 'open,open,done,open,done,open' },
      { owner: userIds['reads.east'] },
      { owner: userIds['reads.west'] },
      { owner: 'me' },
      { owner: 'no-such-user' },
      { delegation: 'IN' },
      { delegation: 'US' },
      { meetingId },
      { policyItemId },
      { dueBefore: eastToday },
      { dueAfter: westToday },
      { overdue: 'true' },
      { overdue: 'false' },
      { q: tag },
      { q: 'needle' },
      { sort: 'dueDate' },
      { sort: '-dueDate' },
      { sort: 'updatedAt' },
      { sort: '-updatedAt' },
    ];

    it('selects and orders each filter alone as the rules say, for each side and admin', async () => {
      for (const caller of CALLERS) {
        for (const filters of alone()) {
          await expectList(caller, filters);
        }
      }
    });

    it('combines every pair of filters, and all of them at once', async () => {
      const one: Filters = {
        status: 'open,blocked,done',
        owner: userIds['reads.east'],
        delegation: 'IN',
        meetingId,
        dueBefore: addDays(eastToday, 1),
        dueAfter: addDays(westToday, -2),
        overdue: 'true',
        q: 'a',
        sort: '-updatedAt',
      };
      const names = Object.keys(one) as (keyof Filters)[];
      let nonEmpty = 0;
      for (const caller of ['sec.in', 'sec.us'] as const) {
        for (let i = 0; i < names.length; i++) {
          for (let j = i + 1; j < names.length; j++) {
            const filters = { [names[i]]: one[names[i]], [names[j]]: one[names[j]] };
            if ((await expectList(caller, filters)).length > 0) {
              nonEmpty++;
            }
          }
        }
        await expectList(caller, one);
        await expectList(caller, { ...one, overdue: 'false' });
      }
      // The pairs are not vacuous: most select something.
      expect(nonEmpty).toBeGreaterThan(40);
      const everything = { ...one };
      delete everything.meetingId;
      expect(expected('sec.in', everything).length).toBeGreaterThan(0);
      await expectList('sec.in', everything);
    });

    it('takes q as literal text, whatever its case: % _ and \\ match only themselves', async () => {
      const titlesFor = async (q: string) =>
        [...new Set((await expectList('sec.in', { q })).map((item) => item.title))].sort();
      expect(await titlesFor(`${tag} rate 100%`)).toEqual([`${tag} Rate 100% Done`]);
      expect(await titlesFor('100% DONE')).toEqual([`${tag} Rate 100% Done`]);
      expect(await titlesFor('r_s')).toEqual([`${tag} under_score`]);
      expect(await titlesFor(`${tag} under_`)).toEqual([`${tag} under_score`]);
      expect(await titlesFor('k\\s')).toEqual([`${tag} back\\slash`]);
      expect(await titlesFor(`${tag} BACK\\`)).toEqual([`${tag} back\\slash`]);
      expect(await titlesFor('mixed case')).toEqual([`${tag} MiXeD CaSe`]);
      expect(await titlesFor(`${tag} MIXED`)).toEqual([`${tag} MiXeD CaSe`]);
      expect(await titlesFor(`${tag}%plain`)).toEqual([]);
      expect(await titlesFor(`${tag}_plain`)).toEqual([]);
      // The description counts too, in any case.
      const needles = await expectList('sec.us', { q: `NeEdLe ${tag.toUpperCase()}` });
      expect(needles.length).toBeGreaterThan(0);
      expect(needles.every((item) => item.description.includes('NEEDLE'))).toBe(true);
    });
  });

  describe('keyset pages', () => {
    it('never skip or repeat a row across equal sort keys, in all four sorts', async () => {
      for (const sort of ['dueDate', '-dueDate', 'updatedAt', '-updatedAt']) {
        for (const filters of [
          { owner: userIds['reads.east'], sort },
          { q: tag, sort },
          { q: tag, status: 'open,in_progress,blocked', sort },
        ]) {
          for (const caller of ['sec.in', 'sec.us'] as const) {
            const paged = await expectList(caller, filters, 7);
            expect(new Set(idsOf(paged)).size).toBe(paged.length);
            expect(paged.length).toBeGreaterThan(7);
          }
        }
      }
    });

    it("pages the caller's own not-closed items by due date", async () => {
      const want = expected('reads.east', {
        owner: 'me',
        status: 'open,in_progress,blocked',
      });
      expect(want.length).toBeGreaterThan(10);
      const got: Item[] = [];
      let cursor: string | null = null;
      do {
        const res = await app
          .as('reads.east', 'get', `/me/action-items?limit=4${cursor ? `&cursor=${cursor}` : ''}`)
          .expect(200);
        got.push(...(res.body.data as Item[]));
        cursor = res.body.nextCursor as string | null;
      } while (cursor);
      expect(idsOf(got)).toEqual(idsOf(want));
    });

    it('answers 400 to a cursor that is not one of ours', async () => {
      const forged = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
      for (const cursor of ['not-a-cursor', forged([1, 2]), forged([null, 'x']), forged(['x'])]) {
        const res = await app.as('sec.in', 'get', `/action-items?cursor=${cursor}`);
        expect({ cursor, status: res.status }).toEqual({ cursor, status: 400 });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        const mine = await app.as('sec.in', 'get', `/me/action-items?cursor=${cursor}`);
        expect({ cursor, status: mine.status }).toEqual({ cursor, status: 400 });
      }
    });
  });

  describe('overdue', () => {
    it("is decided in each owner's timezone, in lists, by id and in the filter", async () => {
      // Due the western owner's today: already past in the east, not yet in the west.
      const now = new Date();
      for (const [owner, zone, overdue] of [
        ['reads.east', EAST, true],
        ['reads.west', WEST, false],
      ] as const) {
        const due = (
          await listAll('sec.in', {
            owner: userIds[owner],
            dueBefore: addDays(westToday, 1),
            dueAfter: addDays(westToday, -1),
          })
        ).filter((item) => !isClosed(item.status));
        expect(due.length).toBeGreaterThan(0);
        for (const item of due) {
          expect({ owner, zone, id: item.id, overdue: item.overdue }).toEqual({
            owner,
            zone,
            id: item.id,
            overdue,
          });
        }
        const read = await app.as('sec.in', 'get', `/action-items/${due[0].id}`).expect(200);
        expect(read.body.overdue).toBe(overdue);
        for (const flag of ['true', 'false']) {
          const listed = await expectList('sec.in', { owner: userIds[owner], overdue: flag });
          expect(listed.every((item) => item.overdue === (flag === 'true'))).toBe(true);
          expect(
            listed.every((item) => overdueOf({ ...item, timezone: zone }, now) === item.overdue),
          ).toBe(true);
        }
      }
      // Closed items are never overdue, however old.
      const closed = await listAll('sec.in', { q: tag, status: 'done,cancelled', overdue: 'true' });
      expect(closed).toEqual([]);
      const both = await expectList('sec.us', { q: tag, overdue: 'true' });
      expect(new Set(both.map((item) => item.ownerId)).size).toBe(2);
    });
  });

  describe('delegation-only items', () => {
    it('stay invisible to the other side and to admin: lists, searches, by id, export, counts', async () => {
      for (const [owner, delegation] of [
        ['reads.east', 'IN'],
        ['reads.west', 'US'],
      ] as const) {
        const own = rows.filter((row) => row.ownerId === userIds[owner]);
        const hidden = own.filter((row) => row.visibility === delegation);
        const joint = own.filter((row) => row.visibility === 'joint');
        expect(hidden.length).toBeGreaterThan(0);
        const insider = delegation === 'IN' ? 'sec.in' : 'sec.us';
        const outsiders: Account[] =
          delegation === 'IN' ? ['sec.us', 'admin'] : ['sec.in', 'admin'];

        const seen = await listAll(insider, { owner: userIds[owner] });
        expect(idsOf(seen).sort()).toEqual(idsOf(own).sort());
        for (const row of hidden) {
          await app.as(insider, 'get', `/action-items/${row.id}`).expect(200);
        }
        const insiderCsv = await app
          .as(insider, 'get', `/action-items/export.csv?${queryString({ owner: userIds[owner] })}`)
          .expect(200);
        for (const row of hidden) {
          expect(insiderCsv.text).toContain(row.id);
        }

        for (const outsider of outsiders) {
          for (const filters of [
            { owner: userIds[owner] },
            { q: tag },
            { delegation },
            { status: 'open,in_progress,blocked,done,cancelled', sort: '-updatedAt' },
            { overdue: 'true' },
            { overdue: 'false' },
          ]) {
            const listed = idsOf(await listAll(outsider, filters));
            for (const row of hidden) {
              expect({ outsider, filters, leaked: listed.includes(row.id) }).toEqual({
                outsider,
                filters,
                leaked: false,
              });
            }
          }
          // The count of the owner's items is the joint ones only.
          const counted = await listAll(outsider, { owner: userIds[owner] });
          expect(counted).toHaveLength(joint.length);
          for (const row of hidden) {
            const res = await app.as(outsider, 'get', `/action-items/${row.id}`);
            expect({ outsider, status: res.status }).toEqual({ outsider, status: 404 });
            expect(res.text).not.toContain(tag);
          }
          const csv = await app
            .as(outsider, 'get', `/action-items/export.csv?${queryString({ q: tag })}`)
            .expect(200);
          for (const row of hidden) {
            expect(csv.text).not.toContain(row.id);
          }
          for (const row of joint) {
            expect(csv.text).toContain(row.id);
          }
        }
      }
    });
  });
});
