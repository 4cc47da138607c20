import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { insertRows } from '../../src/database/bulk-insert.js';
import type { ActionItemJson } from '../support/action-item-json.js';
import { addDays, todayIn } from '../support/dates.js';
import { type Account, createTestApp, type TestApp } from '../support/test-app.js';

/**
 * The action-item rules of SPEC sections 3 to 5, proved through HTTP against the real app:
 * creation and its validation, delegation-only visibility, the status machine and who may
 * move it, overdue in the owner's timezone, list filters and keyset pages, the caller's own
 * items, progress updates, the CSV export, If-Match and Idempotency-Key.
 */

type Item = ActionItemJson;

const FUTURE = '2099-06-30';
const OUTSIDERS_OF_IN: Account[] = ['dsa.us', 'sec.us', 'delegate.us', 'observer.us', 'admin'];
const INSIDERS_OF_IN: Account[] = ['dsa.in', 'sec.in', 'delegate.in', 'observer.in'];

/** A small RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF record ends. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (fieldStarted) {
        throw new Error(`stray quote at ${i}`);
      }
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') {
        i++;
      }
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      fieldStarted = false;
    } else if (c === '\r') {
      throw new Error(`bare CR outside quotes at ${i}`);
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) {
    throw new Error('unterminated quoted field');
  }
  if (fieldStarted || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** The CSV as objects keyed by its header row. */
function csvRecords(text: string): { header: string[]; records: Record<string, string>[] } {
  const [header, ...rows] = parseCsv(text);
  for (const row of rows) {
    expect(row).toHaveLength(header.length);
  }
  return {
    header,
    records: rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i]]))),
  };
}

describe('action items', () => {
  let app: TestApp;
  let ids: Record<string, string>;
  let meetingId: string;
  let serial = 0;

  /** A unique word for this run's titles, so that `q` finds exactly a test's own items. */
  const tag = (name: string) => `${name}${++serial}x${Date.now().toString(36)}`;

  async function create(as: string, body: Record<string, unknown>): Promise<Item> {
    const res = await app
      .as(as, 'post', '/action-items')
      .send({ dueDate: FUTURE, ownerId: ids['delegate.in'], ...body });
    expect(res.status).toBe(201);
    return res.body as Item;
  }

  async function patch(
    as: string,
    id: string,
    body: Record<string, unknown>,
    status: number,
  ): Promise<Item> {
    const res = await app.as(as, 'patch', `/action-items/${id}`).send(body);
    expect({ as, body, status: res.status }).toEqual({ as, body, status });
    return res.body as Item;
  }

  /** Every row of a list, following nextCursor. */
  async function listAll(as: string, query: string, limit = 200): Promise<Item[]> {
    const rows: Item[] = [];
    let cursor: string | null = null;
    do {
      const res = await app
        .as(
          as,
          'get',
          `/action-items?limit=${limit}${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`,
        )
        .expect(200);
      rows.push(...(res.body.data as Item[]));
      cursor = res.body.nextCursor as string | null;
    } while (cursor);
    return rows;
  }

  const codes = (items: Item[]) => items.map((item) => item.code);
  const idsOf = (items: { id: string }[]) => items.map((item) => item.id);

  beforeAll(async () => {
    app = await createTestApp();
    ids = {};
    for (const account of [
      'admin',
      'dsa.in',
      'dsa.us',
      'sec.in',
      'sec.us',
      'delegate.in',
      'delegate.us',
      'observer.in',
      'observer.us',
    ]) {
      ids[account] = await app.userId(account);
    }
    const meetings = await app.as('observer.in', 'get', '/meetings').expect(200);
    meetingId = (meetings.body.data as { id: string; number: number }[]).find(
      (m) => m.number === 1,
    )!.id;
  });
  afterAll(() => app.close());

  describe('POST /action-items', () => {
    it('creates an open joint item for dsa and secretariat, with the derived fields', async () => {
      const before = await app.uow.read((em) =>
        em.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM action_items'),
      );
      for (const [as, owner] of [
        ['dsa.in', 'delegate.us'],
        ['sec.us', 'delegate.in'],
        ['dsa.us', 'dsa.us'],
        ['sec.in', 'observer.us'],
      ] as const) {
        const res = await app
          .as(as, 'post', '/action-items')
          .send({ title: `  Draft the ${as} text  `, ownerId: ids[owner], dueDate: FUTURE })
          .expect(201);
        expect(res.body).toEqual({
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          code: expect.stringMatching(/^AI-\d{3,}$/),
          title: `Draft the ${as} text`,
          description: '',
          status: 'open',
          ownerId: ids[owner],
          ownerDelegation: owner.endsWith('.in') ? 'IN' : 'US',
          dueDate: FUTURE,
          meetingId: null,
          agendaItemId: null,
          policyItemId: null,
          visibility: 'joint',
          completedAt: null,
          overdue: false,
          version: 1,
          createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          updatedAt: res.body.createdAt,
        });
        const read = await app.as('observer.us', 'get', `/action-items/${res.body.id}`).expect(200);
        expect(read.body).toEqual(res.body);
      }
      const after = await app.uow.read((em) =>
        em.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM action_items'),
      );
      expect(Number(after[0].n)).toBe(Number(before[0].n) + 4);
    });

    it('links a meeting, agenda item and policy item, and numbers joint codes in sequence', async () => {
      const agenda = await app
        .as('observer.in', 'get', `/meetings/${meetingId}/agenda-items`)
        .expect(200);
      const agendaItem = (agenda.body.data as { id: string; policyItemId: string | null }[]).find(
        (a) => a.policyItemId !== null,
      )!;
      const first = await create('sec.in', {
        title: 'Linked through the agenda item',
        agendaItemId: agendaItem.id,
        policyItemId: agendaItem.policyItemId,
      });
      expect(first).toMatchObject({
        meetingId,
        agendaItemId: agendaItem.id,
        policyItemId: agendaItem.policyItemId,
      });
      const second = await create('sec.in', { title: 'Linked to meeting 1', meetingId });
      expect(second.meetingId).toBe(meetingId);
      const number = (code: string) => Number(code.slice('AI-'.length));
      expect(number(second.code)).toBe(number(first.code) + 1);
    });

    it('is 403 for delegate, observer and admin, even with a valid body', async () => {
      for (const as of [
        'delegate.in',
        'delegate.us',
        'observer.in',
        'observer.us',
        'admin',
      ] as const) {
        const res = await app
          .as(as, 'post', '/action-items')
          .send({ title: 'Not mine to create', ownerId: ids['delegate.in'], dueDate: FUTURE });
        expect({ as, status: res.status }).toEqual({ as, status: 403 });
        expect(res.headers['content-type']).toContain('application/problem+json');
      }
      const rows = await app.uow.read((em) =>
        em.query(`SELECT id FROM action_items WHERE title = 'Not mine to create'`),
      );
      expect(rows).toEqual([]);
    });

    it('answers 400 with errors[] for owners that cannot own an item', async () => {
      const retired = await app.createUser({
        username: 'retired.in',
        role: 'delegate',
        delegation: 'IN',
      });
      await app.as('admin', 'patch', `/users/${retired}`).send({ active: false }).expect(200);
      for (const ownerId of [
        '00000000-0000-4000-8000-000000000000',
        'not-a-user',
        ids.admin,
        retired,
      ]) {
        const res = await app
          .as('sec.in', 'post', '/action-items')
          .send({ title: 'Badly owned', ownerId, dueDate: FUTURE })
          .expect(400);
        expect(res.body).toMatchObject({ status: 400, type: expect.any(String) });
        expect(res.body.errors).toEqual([{ field: 'ownerId', message: expect.any(String) }]);
      }
      const rows = await app.uow.read((em) =>
        em.query(`SELECT id FROM action_items WHERE title = 'Badly owned'`),
      );
      expect(rows).toEqual([]);
    });

    it('answers 400 with errors[] for bad dates, unknown references, unknown fields and null title', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';
      const cases: [Record<string, unknown>, string][] = [
        [{ dueDate: '2026-02-30' }, 'dueDate'],
        [{ dueDate: '31/12/2026' }, 'dueDate'],
        [{ dueDate: null }, 'dueDate'],
        [{ dueDate: undefined }, 'dueDate'],
        [{ meetingId: unknown }, 'meetingId'],
        [{ policyItemId: unknown }, 'policyItemId'],
        [{ agendaItemId: unknown }, 'agendaItemId'],
        [{ id: unknown }, 'id'],
        [{ code: 'AI-999' }, 'code'],
        [{ status: 'done' }, 'status'],
        [{ version: 7 }, 'version'],
        [{ ownerDelegation: 'US' }, 'ownerDelegation'],
        [{ completedAt: '2022-01-01T00:00:00.000Z' }, 'completedAt'],
        [{ title: null }, 'title'],
        [{ title: '   ' }, 'title'],
        [{ title: undefined }, 'title'],
        [{ visibility: 'everyone' }, 'visibility'],
      ];
      for (const [fields, field] of cases) {
        const body = { title: 'Invalid on purpose', ownerId: ids['delegate.in'], dueDate: FUTURE };
        const res = await app.as('sec.us', 'post', '/action-items').send({ ...body, ...fields });
        expect({ fields, status: res.status }).toEqual({ fields, status: 400 });
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.body.errors).toEqual(
          expect.arrayContaining([{ field, message: expect.any(String) }]),
        );
      }
      const rows = await app.uow.read((em) =>
        em.query(`SELECT id FROM action_items WHERE title = 'Invalid on purpose'`),
      );
      expect(rows).toEqual([]);
    });
  });

  describe('visibility', () => {
    it('keeps an IN-only item out of every view of the US side and admin', async () => {
      const word = tag('secretive');
      const jointBefore = await create('sec.in', { title: `${word} joint before` });
      const hidden = await create('sec.in', {
        title: `${word} hidden`,
        description: 'India only',
        visibility: 'IN',
      });
      const jointAfter = await create('sec.us', { title: `${word} joint after` });
      expect(hidden.code).toMatch(/^AI-IN-\d{3,}$/);
      expect(hidden).toMatchObject({ visibility: 'IN', ownerDelegation: 'IN' });
      // The joint sequence shows no gap where the IN item was created.
      const jointNumber = (code: string) => Number(/^AI-(\d+)$/.exec(code)![1]);
      expect(jointNumber(jointAfter.code)).toBe(jointNumber(jointBefore.code) + 1);

      for (const as of INSIDERS_OF_IN) {
        await app.as(as, 'get', `/action-items/${hidden.id}`).expect(200);
        expect(idsOf(await listAll(as, ''))).toContain(hidden.id);
        const search = await app.as(as, 'get', `/action-items?q=${word}`).expect(200);
        expect(idsOf(search.body.data)).toContain(hidden.id);
        const csv = await app.as(as, 'get', `/action-items/export.csv?q=${word}`).expect(200);
        expect(csv.text).toContain(hidden.id);
      }
      const mine = await app.as('delegate.in', 'get', '/me/action-items?limit=200').expect(200);
      expect(idsOf(mine.body.data)).toContain(hidden.id);

      for (const as of OUTSIDERS_OF_IN) {
        const all = await listAll(as, '');
        expect(idsOf(all)).not.toContain(hidden.id);
        expect(all.every((item) => item.visibility === 'joint')).toBe(true);
        const search = await app.as(as, 'get', `/action-items?q=${word}`).expect(200);
        expect(idsOf(search.body.data).sort()).toEqual([jointBefore.id, jointAfter.id].sort());
        const filtered = await app
          .as(as, 'get', `/action-items?owner=${ids['delegate.in']}&delegation=IN&limit=200`)
          .expect(200);
        expect(idsOf(filtered.body.data)).not.toContain(hidden.id);
        const me = await app.as(as, 'get', '/me/action-items?limit=200').expect(200);
        expect(idsOf(me.body.data)).not.toContain(hidden.id);
        const csv = await app.as(as, 'get', `/action-items/export.csv?q=${word}`).expect(200);
        expect(csv.text).not.toContain(hidden.id);
        expect(csv.text).not.toContain('hidden');
        expect(csvRecords(csv.text).records).toHaveLength(2);
        const full = await app.as(as, 'get', '/action-items/export.csv').expect(200);
        expect(full.text).not.toContain(hidden.id);

        const byId = await app.as(as, 'get', `/action-items/${hidden.id}`);
        expect({ as, status: byId.status }).toEqual({ as, status: 404 });
        const updates = await app.as(as, 'get', `/action-items/${hidden.id}/updates`);
        expect({ as, status: updates.status }).toEqual({ as, status: 404 });
        const notes = await app.as(as, 'get', `/action-items/${hidden.id}/notes`);
        expect({ as, status: notes.status }).toEqual({ as, status: 404 });
      }
      // Roles that may write answer 404 (record not visible); the others 403 for the role.
      for (const as of ['dsa.us', 'sec.us', 'delegate.us'] as const) {
        await patch(as, hidden.id, { status: 'done' }, 404);
        await patch(as, hidden.id, { title: 'renamed' }, 404);
        await app
          .as(as, 'post', `/action-items/${hidden.id}/updates`)
          .send({ note: 'peeking' })
          .expect(404);
        await app
          .as(as, 'post', `/action-items/${hidden.id}/notes`)
          .send({ body: 'peeking' })
          .expect(404);
      }
      for (const as of ['observer.us', 'admin'] as const) {
        await patch(as, hidden.id, { status: 'done' }, 403);
        await app
          .as(as, 'post', `/action-items/${hidden.id}/updates`)
          .send({ note: 'peeking' })
          .expect(403);
      }
      const unchanged = await app.as('sec.in', 'get', `/action-items/${hidden.id}`).expect(200);
      expect(unchanged.body).toMatchObject({ status: 'open', version: 1, title: `${word} hidden` });
    });

    it('refuses to place an item in the other delegation view (403) or with a foreign owner (400)', async () => {
      for (const ownerId of [ids['delegate.in'], ids['delegate.us']]) {
        const res = await app
          .as('sec.us', 'post', '/action-items')
          .send({ title: 'US placing in IN', ownerId, dueDate: FUTURE, visibility: 'IN' });
        expect({ ownerId, status: res.status }).toEqual({ ownerId, status: 403 });
      }
      await app
        .as('dsa.in', 'post', '/action-items')
        .send({
          title: 'IN placing in US',
          ownerId: ids['dsa.us'],
          dueDate: FUTURE,
          visibility: 'US',
        })
        .expect(403);

      const foreignOwner = await app
        .as('sec.in', 'post', '/action-items')
        .send({
          title: 'IN item, US owner',
          ownerId: ids['delegate.us'],
          dueDate: FUTURE,
          visibility: 'IN',
        })
        .expect(400);
      expect(foreignOwner.body.errors).toEqual([{ field: 'ownerId', message: expect.any(String) }]);

      const usOnly = await create('sec.us', {
        title: 'US only',
        ownerId: ids['delegate.us'],
        visibility: 'US',
      });
      expect(usOnly.code).toMatch(/^AI-US-\d{3,}$/);
      // Reassigning a US-only item to an IN owner breaks the owner rule.
      const reassign = await app
        .as('sec.us', 'patch', `/action-items/${usOnly.id}`)
        .send({ ownerId: ids['delegate.in'] })
        .expect(400);
      expect(reassign.body.errors).toEqual([{ field: 'ownerId', message: expect.any(String) }]);

      const rows = await app.uow.read((em) =>
        em.query(
          `SELECT id FROM action_items WHERE title IN ('US placing in IN', 'IN placing in US', 'IN item, US owner')`,
        ),
      );
      expect(rows).toEqual([]);
    });

    it('never turns a joint item delegation-only (409), nor moves one into the other view (403)', async () => {
      const joint = await create('sec.in', { title: 'Joint for good' });
      await patch('sec.in', joint.id, { visibility: 'IN' }, 409);
      await patch('dsa.in', joint.id, { visibility: 'IN' }, 409);
      await patch('sec.in', joint.id, { visibility: 'US' }, 403);
      const hidden = await create('sec.in', { title: 'IN only, stays IN', visibility: 'IN' });
      await patch('sec.in', hidden.id, { visibility: 'US' }, 403);
      const read = await app.as('sec.in', 'get', `/action-items/${joint.id}`).expect(200);
      expect(read.body).toMatchObject({ visibility: 'joint', version: 1 });
    });

    it('releases an IN item to joint: the US side then sees it, under a joint code', async () => {
      const hidden = await create('sec.in', { title: 'To be released', visibility: 'IN' });
      const lastJoint = await create('sec.in', { title: 'Latest joint item' });
      await app.as('sec.us', 'get', `/action-items/${hidden.id}`).expect(404);

      const released = await patch('dsa.in', hidden.id, { visibility: 'joint' }, 200);
      expect(released).toMatchObject({ visibility: 'joint', version: 2 });
      expect(released.code).toMatch(/^AI-\d{3,}$/);
      const jointNumber = (code: string) => Number(/^AI-(\d+)$/.exec(code)![1]);
      expect(jointNumber(released.code)).toBe(jointNumber(lastJoint.code) + 1);

      for (const as of OUTSIDERS_OF_IN) {
        const read = await app.as(as, 'get', `/action-items/${hidden.id}`).expect(200);
        expect(read.body).toEqual(released);
        expect(idsOf(await listAll(as, 'q=To%20be%20released'))).toEqual([hidden.id]);
      }
      // Released for good.
      await patch('sec.in', hidden.id, { visibility: 'IN' }, 409);
      const next = await create('sec.us', { title: 'After the release' });
      expect(jointNumber(next.code)).toBe(jointNumber(released.code) + 1);
    });

    it('keeps a joint item from pointing at delegation-only records', async () => {
      const policy = await app
        .as('sec.in', 'post', '/policy-items')
        .send({ title: 'IN-only policy item', visibility: 'IN' })
        .expect(201);
      const joint = await app
        .as('sec.in', 'post', '/action-items')
        .send({
          title: 'Joint pointing inward',
          ownerId: ids['delegate.in'],
          dueDate: FUTURE,
          policyItemId: policy.body.id,
        })
        .expect(400);
      expect(joint.body.errors).toEqual([{ field: 'policyItemId', message: expect.any(String) }]);
      // The US side gets the same 400 as for an id that does not exist.
      const us = await app
        .as('sec.us', 'post', '/action-items')
        .send({
          title: 'US pointing inward',
          ownerId: ids['delegate.us'],
          dueDate: FUTURE,
          policyItemId: policy.body.id,
        })
        .expect(400);
      expect(us.body.errors).toEqual([{ field: 'policyItemId', message: expect.any(String) }]);
      const inward = await create('sec.in', {
        title: 'IN item on IN policy item',
        visibility: 'IN',
        policyItemId: policy.body.id,
      });
      expect(inward.policyItemId).toBe(policy.body.id);
      // Releasing it would reveal the IN-only policy item: refused.
      await patch('sec.in', inward.id, { visibility: 'joint' }, 400);
    });
  });

  describe('status machine (PATCH)', () => {
    it('lets the owner move their open item, and only dsa/secretariat cancel and reopen', async () => {
      const item = await create('sec.in', { title: 'Work the machine' });
      expect(item.status).toBe('open');

      const inProgress = await patch('delegate.in', item.id, { status: 'in_progress' }, 200);
      expect(inProgress).toMatchObject({ status: 'in_progress', completedAt: null, version: 2 });
      await patch('delegate.in', item.id, { status: 'blocked' }, 200);
      await patch('delegate.in', item.id, { status: 'open' }, 200);
      await patch('delegate.in', item.id, { status: 'blocked' }, 200);

      // What only dsa and secretariat do.
      await patch('delegate.in', item.id, { status: 'cancelled' }, 403);
      await patch('delegate.in', item.id, { dueDate: '2099-07-01' }, 403);
      await patch('delegate.in', item.id, { ownerId: ids['delegate.us'] }, 403);
      await patch('delegate.in', item.id, { ownerId: ids['delegate.in'] }, 403);
      await patch('delegate.in', item.id, { title: 'Renamed by the owner' }, 403);
      await patch('delegate.in', item.id, { status: 'done', title: 'Renamed by the owner' }, 403);
      // Not their item; not their role.
      await patch('delegate.us', item.id, { status: 'in_progress' }, 403);
      await patch('observer.in', item.id, { status: 'in_progress' }, 403);
      await patch('observer.us', item.id, { status: 'in_progress' }, 403);
      await patch('admin', item.id, { status: 'in_progress' }, 403);
      const unchanged = await app.as('sec.in', 'get', `/action-items/${item.id}`).expect(200);
      expect(unchanged.body).toMatchObject({
        status: 'blocked',
        title: 'Work the machine',
        dueDate: FUTURE,
        ownerId: ids['delegate.in'],
        version: 5,
      });

      const done = await patch('delegate.in', item.id, { status: 'done' }, 200);
      expect(done.status).toBe('done');
      expect(done.completedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.now() - Date.parse(done.completedAt!)).toBeLessThan(60_000);

      await patch('delegate.in', item.id, { status: 'open' }, 403);
      for (const as of ['delegate.in', 'sec.in', 'dsa.us', 'sec.us'] as const) {
        await patch(as, item.id, { status: 'in_progress' }, 409);
        await patch(as, item.id, { status: 'blocked' }, 409);
      }
      // A closed item is locked until reopened.
      await patch('sec.in', item.id, { dueDate: '2099-07-01' }, 409);

      const reopened = await patch('dsa.us', item.id, { status: 'open' }, 200);
      expect(reopened).toMatchObject({ status: 'open', completedAt: null });
      // A US secretariat moves any item it can see, the IN owner's too.
      await patch('sec.us', item.id, { status: 'in_progress' }, 200);
      const cancelled = await patch('sec.in', item.id, { status: 'cancelled' }, 200);
      expect(cancelled).toMatchObject({ status: 'cancelled', completedAt: null, overdue: false });
      for (const to of ['done', 'in_progress', 'blocked'] as const) {
        await patch('sec.in', item.id, { status: to }, 409);
      }
      await patch('delegate.in', item.id, { status: 'open' }, 403);
      await patch('delegate.in', item.id, { status: 'done' }, 409);
      const again = await patch('sec.us', item.id, { status: 'open' }, 200);
      expect(again).toMatchObject({ status: 'open', completedAt: null });

      // Done, then reopened by a secretariat: completedAt set, then cleared.
      const doneAgain = await patch('sec.in', item.id, { status: 'done' }, 200);
      expect(doneAgain.completedAt).not.toBeNull();
      const reopenedAgain = await patch('sec.in', item.id, { status: 'open' }, 200);
      expect(reopenedAgain.completedAt).toBeNull();
      const read = await app.as('observer.us', 'get', `/action-items/${item.id}`).expect(200);
      expect(read.body).toEqual(reopenedAgain);
    });

    it('lets dsa and secretariat reassign and reschedule; the owner changes with it', async () => {
      const item = await create('dsa.in', { title: 'Reassign me' });
      const moved = await patch(
        'dsa.us',
        item.id,
        { ownerId: ids['delegate.us'], dueDate: '2099-01-15', title: 'Reassigned' },
        200,
      );
      expect(moved).toMatchObject({
        ownerId: ids['delegate.us'],
        ownerDelegation: 'US',
        dueDate: '2099-01-15',
        title: 'Reassigned',
        version: 2,
      });
      await patch('delegate.in', item.id, { status: 'in_progress' }, 403);
      await patch('delegate.us', item.id, { status: 'in_progress' }, 200);
      for (const body of [
        { title: null },
        { ownerId: null },
        { dueDate: null },
        { dueDate: '2099-02-30' },
        { status: 'finished' },
        { ownerId: ids.admin },
        { version: 9 },
        { code: 'AI-999' },
      ]) {
        const res = await app.as('sec.in', 'patch', `/action-items/${item.id}`).send(body);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
        expect(res.body.errors).toEqual(expect.any(Array));
      }
    });

    it('still lets a secretariat move an item whose owner was deactivated', async () => {
      const leaver = await app.createUser({
        username: 'leaver.us',
        role: 'delegate',
        delegation: 'US',
      });
      const item = await create('sec.us', { title: 'Owned by a leaver', ownerId: leaver });
      await app.as('admin', 'patch', `/users/${leaver}`).send({ active: false }).expect(200);
      await patch('sec.us', item.id, { status: 'cancelled' }, 200);
      await patch('sec.us', item.id, { status: 'open' }, 200);
      const reassigned = await patch('sec.us', item.id, { ownerId: ids['delegate.us'] }, 200);
      expect(reassigned.ownerId).toBe(ids['delegate.us']);
      await patch('sec.us', item.id, { ownerId: leaver }, 400);
    });
  });

  describe('overdue', () => {
    it("is computed in the owner's timezone", async () => {
      const kiri = await app.createUser({
        username: 'kiri.us',
        role: 'delegate',
        delegation: 'US',
      });
      const pago = await app.createUser({
        username: 'pago.us',
        role: 'delegate',
        delegation: 'US',
      });
      for (const [id, timezone] of [
        [kiri, 'Pacific/Kiritimati'],
        [pago, 'Pacific/Pago_Pago'],
      ]) {
        const res = await app.as('admin', 'patch', `/users/${id}`).send({ timezone }).expect(200);
        expect(res.body.timezone).toBe(timezone);
      }
      const utcToday = todayIn('UTC');
      const dueDates = [addDays(utcToday, -1), utcToday, addDays(utcToday, 1)];
      const items: { item: Item; zone: string }[] = [];
      for (const [ownerId, zone] of [
        [kiri, 'Pacific/Kiritimati'],
        [pago, 'Pacific/Pago_Pago'],
      ]) {
        for (const dueDate of dueDates) {
          items.push({
            item: await create('sec.us', { title: `Due ${dueDate}`, ownerId, dueDate }),
            zone,
          });
        }
      }
      const expected = (dueDate: string, zone: string) => dueDate < todayIn(zone);

      for (const { item, zone } of items) {
        expect({ due: item.dueDate, zone, overdue: item.overdue }).toEqual({
          due: item.dueDate,
          zone,
          overdue: expected(item.dueDate, zone),
        });
        const read = await app.as('observer.in', 'get', `/action-items/${item.id}`).expect(200);
        expect(read.body.overdue).toBe(expected(item.dueDate, zone));
      }
      // Kiritimati is always a day or more ahead of Pago Pago: for at least one of the due
      // dates the two owners disagree, whatever the time of day.
      const disagreements = dueDates.filter(
        (due) => expected(due, 'Pacific/Kiritimati') !== expected(due, 'Pacific/Pago_Pago'),
      );
      expect(disagreements.length).toBeGreaterThan(0);
      for (const due of disagreements) {
        const [k, p] = [kiri, pago].map((ownerId) =>
          items.find((x) => x.item.ownerId === ownerId && x.item.dueDate === due)!,
        );
        expect(k.item.overdue).not.toBe(p.item.overdue);
      }

      // ?overdue=true returns exactly the overdue ones (and false the others).
      for (const ownerId of [kiri, pago]) {
        const mine = items.filter((x) => x.item.ownerId === ownerId);
        const overdue = await listAll('sec.in', `owner=${ownerId}&overdue=true`);
        expect(idsOf(overdue).sort()).toEqual(
          idsOf(mine.filter((x) => expected(x.item.dueDate, x.zone)).map((x) => x.item)).sort(),
        );
        expect(overdue.every((item) => item.overdue)).toBe(true);
        const notOverdue = await listAll('sec.in', `owner=${ownerId}&overdue=false`);
        expect(idsOf(notOverdue).sort()).toEqual(
          idsOf(mine.filter((x) => !expected(x.item.dueDate, x.zone)).map((x) => x.item)).sort(),
        );
        expect(notOverdue.every((item) => !item.overdue)).toBe(true);
      }
      // The list, the caller's own list and the export show the same flag.
      for (const ownerId of [kiri, pago]) {
        const listed = await listAll('sec.us', `owner=${ownerId}`);
        expect(listed).toHaveLength(3);
        for (const item of listed) {
          const zone = ownerId === kiri ? 'Pacific/Kiritimati' : 'Pacific/Pago_Pago';
          expect(item.overdue).toBe(expected(item.dueDate, zone));
        }
        const csv = await app
          .as('sec.us', 'get', `/action-items/export.csv?owner=${ownerId}`)
          .expect(200);
        expect(csvRecords(csv.text).records.map((r) => [r.id, r.overdue])).toEqual(
          listed.map((item) => [item.id, String(item.overdue)]),
        );
      }
      const own = await app.as('kiri.us', 'get', '/me/action-items').expect(200);
      expect((own.body.data as Item[]).map((item) => [item.dueDate, item.overdue])).toEqual(
        dueDates.map((due) => [due, expected(due, 'Pacific/Kiritimati')]),
      );
      // Every listed item agrees with its own overdue flag.
      const all = await listAll('sec.us', 'overdue=true');
      expect(all.length).toBeGreaterThan(0);
      expect(all.every((item) => item.overdue)).toBe(true);
      const seeded = all.filter((item) => item.dueDate === '2022-03-27');
      expect(seeded.length).toBeGreaterThanOrEqual(4);
    });

    it('is never true for a closed item', async () => {
      const late = await create('sec.in', { title: 'Long overdue', dueDate: '2020-01-01' });
      const later = await create('sec.in', { title: 'Long overdue too', dueDate: '2020-01-01' });
      expect(late.overdue).toBe(true);
      expect((await patch('delegate.in', late.id, { status: 'blocked' }, 200)).overdue).toBe(true);
      const done = await patch('delegate.in', late.id, { status: 'done' }, 200);
      expect(done.overdue).toBe(false);
      const cancelled = await patch('sec.in', later.id, { status: 'cancelled' }, 200);
      expect(cancelled.overdue).toBe(false);
      for (const id of [late.id, later.id]) {
        const read = await app.as('observer.us', 'get', `/action-items/${id}`).expect(200);
        expect(read.body.overdue).toBe(false);
      }
      const overdue = idsOf(await listAll('sec.in', 'overdue=true'));
      expect(overdue).not.toContain(late.id);
      expect(overdue).not.toContain(later.id);
      const notOverdue = idsOf(await listAll('sec.in', 'overdue=false&dueBefore=2020-01-02'));
      expect(notOverdue).toEqual(expect.arrayContaining([late.id, later.id]));
      const reopened = await patch('sec.in', late.id, { status: 'open' }, 200);
      expect(reopened.overdue).toBe(true);
    });
  });

  describe('GET /action-items', () => {
    it('filters by status, owner, delegation, meeting and policy item', async () => {
      const filterer = await app.createUser({
        username: 'filters.in',
        role: 'delegate',
        delegation: 'IN',
      });
      const word = tag('filters');
      const made: Item[] = [];
      for (const status of ['open', 'in_progress', 'blocked', 'done', 'cancelled']) {
        const item = await create('sec.in', { title: `${word} ${status}`, ownerId: filterer });
        if (status !== 'open') {
          await patch('sec.in', item.id, { status }, 200);
        }
        made.push({ ...item, status });
      }
      const statuses = async (query: string) =>
        (await listAll('sec.in', `owner=${filterer}&${query}`)).map((i) => i.status).sort();
      expect(await statuses('status=open')).toEqual(['open']);
      expect(await statuses('status=done,cancelled')).toEqual(['cancelled', 'done']);
      expect(await statuses('status=open,in_progress,blocked')).toEqual([
        'blocked',
        'in_progress',
        'open',
      ]);
      expect(await statuses('q=' + word)).toHaveLength(5);

      const asMe = await listAll('filters.in', 'owner=me');
      expect(idsOf(asMe).sort()).toEqual(idsOf(made).sort());
      const byId = await listAll('observer.us', `owner=${filterer}`);
      expect(idsOf(byId).sort()).toEqual(idsOf(made).sort());
      const meDelegate = await listAll('delegate.in', 'owner=me');
      expect(meDelegate.length).toBeGreaterThan(0);
      expect(meDelegate.every((i) => i.ownerId === ids['delegate.in'])).toBe(true);

      for (const delegation of ['IN', 'US']) {
        const rows = await listAll('dsa.in', `delegation=${delegation}`);
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((i) => i.ownerDelegation === delegation)).toBe(true);
      }
      const inRows = await listAll('dsa.in', 'delegation=IN');
      expect(idsOf(inRows)).toEqual(expect.arrayContaining(idsOf(made)));

      const seeded = await listAll('observer.us', `meetingId=${meetingId}`);
      expect(codes(seeded)).toEqual(
        expect.arrayContaining(['AI-001', 'AI-002', 'AI-003', 'AI-004']),
      );
      expect(seeded.every((i) => i.meetingId === meetingId)).toBe(true);
      const ai001 = seeded.find((i) => i.code === 'AI-001')!;
      expect(ai001.policyItemId).not.toBeNull();
      const byPolicy = await listAll('observer.us', `policyItemId=${ai001.policyItemId}`);
      expect(codes(byPolicy)).toContain('AI-001');
      expect(byPolicy.every((i) => i.policyItemId === ai001.policyItemId)).toBe(true);
      expect(
        await listAll('observer.us', 'meetingId=00000000-0000-4000-8000-000000000000'),
      ).toEqual([]);
    });

    it('treats dueBefore and dueAfter as exclusive bounds', async () => {
      const word = tag('bounds');
      const made: Item[] = [];
      for (const dueDate of ['2031-03-09', '2031-03-10', '2031-03-11', '2031-03-12']) {
        made.push(await create('sec.us', { title: `${word} ${dueDate}`, dueDate }));
      }
      const due = async (query: string) =>
        (await listAll('delegate.us', `q=${word}&${query}`)).map((i) => i.dueDate);
      expect(await due('dueAfter=2031-03-09&dueBefore=2031-03-12')).toEqual([
        '2031-03-10',
        '2031-03-11',
      ]);
      expect(await due('dueAfter=2031-03-10&dueBefore=2031-03-11')).toEqual([]);
      expect(await due('dueBefore=2031-03-10')).toEqual(['2031-03-09']);
      expect(await due('dueAfter=2031-03-11')).toEqual(['2031-03-12']);
      expect(await due('')).toEqual(made.map((i) => i.dueDate));
    });

    it('searches title and description, taking % and _ literally', async () => {
      const word = tag('search');
      const percent = await create('sec.in', { title: `${word} reach 100% coverage` });
      await create('sec.in', { title: `${word} reach 1000 coverage` });
      const underscore = await create('sec.in', { title: `${word} rename snake_case` });
      await create('sec.in', { title: `${word} rename snakeXcase` });
      const backslash = await create('sec.in', { title: `${word} path a\\b` });
      const described = await create('sec.in', {
        title: 'No keyword in the title',
        description: `The ${word} is in the description`,
      });
      const search = async (q: string) =>
        idsOf(await listAll('observer.in', `q=${encodeURIComponent(q)}`)).sort();
      expect(await search('100%')).toEqual([percent.id]);
      expect(await search('%')).toEqual([percent.id]);
      expect(await search('e_c')).toEqual([underscore.id]);
      expect(await search('a\\b')).toEqual([backslash.id]);
      expect(await search(`${word} is in`)).toEqual([described.id]);
      expect((await search(word)).length).toBe(6);
      expect(await search(`${word}-nothing-like-it`)).toEqual([]);
    });

    it('sorts by dueDate, -dueDate, updatedAt and -updatedAt', async () => {
      const word = tag('sorting');
      const made: Item[] = [];
      for (const dueDate of ['2040-05-02', '2040-05-01', '2040-05-03', '2040-05-01']) {
        made.push(await create('sec.in', { title: `${word} ${dueDate}`, dueDate }));
      }
      // Touch the first one last, so updatedAt order differs from creation order.
      await patch('sec.in', made[0].id, { status: 'in_progress' }, 200);
      const byKey = (key: 'dueDate' | 'updatedAt', desc: boolean) => (a: Item, b: Item) => {
        const cmp = a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : a.id < b.id ? -1 : 1;
        return desc ? -cmp : cmp;
      };
      for (const [sort, key, desc] of [
        ['dueDate', 'dueDate', false],
        ['-dueDate', 'dueDate', true],
        ['updatedAt', 'updatedAt', false],
        ['-updatedAt', 'updatedAt', true],
      ] as const) {
        for (const limit of [200, 2]) {
          const rows = await listAll('sec.in', `q=${word}&sort=${sort}`, limit);
          expect(rows).toHaveLength(4);
          expect(idsOf(rows)).toEqual(idsOf([...rows].sort(byKey(key, desc))));
        }
      }
      const defaults = await listAll('sec.in', `q=${word}`);
      expect(defaults.map((i) => i.dueDate)).toEqual([
        '2040-05-01',
        '2040-05-01',
        '2040-05-02',
        '2040-05-03',
      ]);
      const newest = await listAll('sec.in', `q=${word}&sort=-updatedAt`);
      expect(newest[0].id).toBe(made[0].id);

      // The whole list too, across pages.
      const all = await listAll('observer.in', 'sort=-dueDate', 50);
      expect(idsOf(all)).toEqual(idsOf([...all].sort(byKey('dueDate', true))));
    });

    it('answers 400 for an unknown sort, status or parameter and an out-of-range limit', async () => {
      for (const query of [
        'sort=title',
        'sort=duedate',
        'status=finished',
        'status=open,',
        'status=open,,done',
        'color=red',
        'limit=0',
        'limit=201',
        'limit=-1',
        'limit=ten',
        'dueBefore=2030-02-30',
        'dueAfter=tomorrow',
        'overdue=yes',
        'delegation=UK',
        'cursor=not-a-cursor',
      ]) {
        const res = await app.as('observer.in', 'get', `/action-items?${query}`);
        expect({ query, status: res.status }).toEqual({ query, status: 400 });
        expect(res.headers['content-type']).toContain('application/problem+json');
      }
      const max = await app.as('observer.in', 'get', '/action-items?limit=200').expect(200);
      expect(max.body.data.length).toBeLessThanOrEqual(200);
      const one = await app.as('observer.in', 'get', '/action-items?limit=1').expect(200);
      expect(one.body.data).toHaveLength(1);
      expect(one.body.nextCursor).toEqual(expect.any(String));
    });

    it('pages by keyset without skipping or repeating rows under concurrent inserts', async () => {
      const pager = await app.createUser({
        username: 'pager.in',
        role: 'delegate',
        delegation: 'IN',
      });
      const initial: Item[] = [];
      for (let i = 0; i < 30; i++) {
        // Several rows share a due date: the id breaks the tie.
        const dueDate = addDays('2050-01-01', Math.floor(i / 3) * 2);
        initial.push(await create('sec.in', { title: `Page row ${i}`, ownerId: pager, dueDate }));
      }
      const seen: Item[] = [];
      let cursor: string | null = null;
      let pages = 0;
      let inserted = 0;
      do {
        const last = seen.at(-1);
        const query = `/action-items?owner=${pager}&sort=dueDate&limit=7${cursor ? `&cursor=${cursor}` : ''}`;
        // Fetch the page while inserts land before and after the cursor.
        const inserts = last
          ? [
              addDays(last.dueDate, -1),
              last.dueDate,
              addDays(last.dueDate, 1),
              addDays(last.dueDate, 3),
            ].map((dueDate) =>
              app
                .as('sec.in', 'post', '/action-items')
                .send({ title: `Inserted ${++inserted}`, ownerId: pager, dueDate })
                .expect(201),
            )
          : [];
        const [page] = await Promise.all([
          app.as('pager.in', 'get', query).expect(200),
          ...inserts,
        ]);
        seen.push(...(page.body.data as Item[]));
        cursor = page.body.nextCursor as string | null;
        pages++;
        expect(pages).toBeLessThan(100);
      } while (cursor);

      const seenIds = idsOf(seen);
      expect(new Set(seenIds).size).toBe(seenIds.length);
      for (const item of initial) {
        expect(seenIds.filter((id) => id === item.id)).toHaveLength(1);
      }
      const key = (i: Item) => `${i.dueDate}|${i.id}`;
      for (let i = 1; i < seen.length; i++) {
        expect(key(seen[i - 1]) < key(seen[i])).toBe(true);
      }
      expect(inserted).toBeGreaterThan(0);
    });
  });

  describe('GET /me/action-items', () => {
    it("lists only the caller's not-closed items, by due date", async () => {
      const owner = await app.createUser({ username: 'me.us', role: 'delegate', delegation: 'US' });
      const made: Item[] = [];
      for (const [dueDate, status] of [
        ['2060-03-01', 'open'],
        ['2060-01-01', 'in_progress'],
        ['2060-02-01', 'blocked'],
        ['2059-12-01', 'done'],
        ['2059-11-01', 'cancelled'],
        ['2060-01-01', 'open'],
      ] as const) {
        const item = await create('sec.us', { title: `Mine ${dueDate}`, ownerId: owner, dueDate });
        if (status !== 'open') {
          await patch('sec.us', item.id, { status }, 200);
        }
        made.push({ ...item, status });
      }
      await create('sec.us', { title: 'Not mine', ownerId: ids['delegate.us'] });
      const res = await app.as('me.us', 'get', '/me/action-items').expect(200);
      const rows = res.body.data as Item[];
      expect(res.body.nextCursor).toBeNull();
      expect(rows.every((i) => i.ownerId === owner)).toBe(true);
      expect(rows.map((i) => i.status).sort()).toEqual(['blocked', 'in_progress', 'open', 'open']);
      expect(rows.map((i) => i.dueDate)).toEqual([
        '2060-01-01',
        '2060-01-01',
        '2060-02-01',
        '2060-03-01',
      ]);
      const open = made.filter((i) => ['open', 'in_progress', 'blocked'].includes(i.status));
      expect(idsOf(rows).sort()).toEqual(idsOf(open).sort());

      const first = await app.as('me.us', 'get', '/me/action-items?limit=3').expect(200);
      expect(first.body.data).toHaveLength(3);
      const second = await app
        .as('me.us', 'get', `/me/action-items?limit=3&cursor=${first.body.nextCursor}`)
        .expect(200);
      expect([...idsOf(first.body.data), ...idsOf(second.body.data)]).toEqual(idsOf(rows));
      await app.as('me.us', 'get', '/me/action-items?status=done').expect(400);

      const seededOwner = await app.as('dsa.in', 'get', '/me/action-items').expect(200);
      expect(codes(seededOwner.body.data)).toEqual(expect.arrayContaining(['AI-001', 'AI-003']));
      expect((seededOwner.body.data as Item[]).every((i) => i.ownerId === ids['dsa.in'])).toBe(
        true,
      );
    });
  });

  describe('progress updates', () => {
    it('takes notes from the owner and dsa/secretariat, moving the status by the same rules', async () => {
      const item = await create('sec.in', { title: 'Report progress' });
      const first = await app
        .as('delegate.in', 'post', `/action-items/${item.id}/updates`)
        .send({ note: 'Started drafting' })
        .expect(201);
      expect(first.body).toEqual({
        id: expect.any(String),
        actionItemId: item.id,
        authorId: ids['delegate.in'],
        note: 'Started drafting',
        status: null,
        createdAt: expect.any(String),
      });
      const moved = await app
        .as('delegate.in', 'post', `/action-items/${item.id}/updates`)
        .send({ note: 'Under way', status: 'in_progress' })
        .expect(201);
      expect(moved.body.status).toBe('in_progress');
      let read = await app.as('sec.in', 'get', `/action-items/${item.id}`).expect(200);
      expect(read.body).toMatchObject({ status: 'in_progress', version: 2 });

      await app
        .as('sec.us', 'post', `/action-items/${item.id}/updates`)
        .send({ note: 'US side checked in' })
        .expect(201);
      await app
        .as('dsa.us', 'post', `/action-items/${item.id}/updates`)
        .send({ note: 'Blocked on comments', status: 'blocked' })
        .expect(201);

      const forbidden: [Account, Record<string, unknown>, number][] = [
        ['delegate.us', { note: 'Not my item' }, 403],
        ['observer.in', { note: 'Watching' }, 403],
        ['observer.us', { note: 'Watching' }, 403],
        ['admin', { note: 'Running the system' }, 403],
        ['delegate.in', { note: 'Giving up', status: 'cancelled' }, 403],
        ['sec.in', { note: '' }, 400],
        ['sec.in', { note: 'x', status: 'finished' }, 400],
        ['sec.in', { status: 'open' }, 400],
        ['sec.in', { note: 'x', authorId: ids['dsa.in'] }, 400],
      ];
      for (const [as, body, status] of forbidden) {
        const res = await app.as(as, 'post', `/action-items/${item.id}/updates`).send(body);
        expect({ as, body, status: res.status }).toEqual({ as, body, status });
      }

      await app
        .as('delegate.in', 'post', `/action-items/${item.id}/updates`)
        .send({ note: 'Finished', status: 'done' })
        .expect(201);
      read = await app.as('sec.in', 'get', `/action-items/${item.id}`).expect(200);
      expect(read.body.status).toBe('done');
      expect(read.body.completedAt).toEqual(expect.any(String));
      await app
        .as('delegate.in', 'post', `/action-items/${item.id}/updates`)
        .send({ note: 'Reopening', status: 'open' })
        .expect(403);
      for (const as of ['delegate.in', 'sec.in'] as const) {
        await app
          .as(as, 'post', `/action-items/${item.id}/updates`)
          .send({ note: 'Back to work', status: 'in_progress' })
          .expect(409);
      }
      await app
        .as('sec.in', 'post', `/action-items/${item.id}/updates`)
        .send({ note: 'Reopened', status: 'open' })
        .expect(201);
      read = await app.as('sec.in', 'get', `/action-items/${item.id}`).expect(200);
      expect(read.body).toMatchObject({ status: 'open', completedAt: null });
      // A stale If-Match on a status change is 412.
      await app
        .as('sec.in', 'post', `/action-items/${item.id}/updates`)
        .set('if-match', '"1"')
        .send({ note: 'Stale', status: 'blocked' })
        .expect(412);

      const notes = [
        'Started drafting',
        'Under way',
        'US side checked in',
        'Blocked on comments',
        'Finished',
        'Reopened',
      ];
      const all = await app
        .as('observer.us', 'get', `/action-items/${item.id}/updates`)
        .expect(200);
      expect(all.body.nextCursor).toBeNull();
      expect(all.body.data.map((u: { note: string }) => u.note)).toEqual([...notes].reverse());

      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await app
          .as(
            'delegate.us',
            'get',
            `/action-items/${item.id}/updates?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
          )
          .expect(200);
        expect(res.body.data.length).toBeLessThanOrEqual(4);
        paged.push(...res.body.data.map((u: { note: string }) => u.note));
        cursor = res.body.nextCursor as string | null;
      } while (cursor);
      expect(paged).toEqual([...notes].reverse());
      await app.as('observer.us', 'get', `/action-items/${item.id}/updates?limit=0`).expect(400);
      await app.as('observer.us', 'get', `/action-items/${item.id}/updates?sort=x`).expect(400);
      await app
        .as('observer.us', 'get', '/action-items/00000000-0000-4000-8000-000000000000/updates')
        .expect(404);
    });
  });

  describe('GET /action-items/export.csv', () => {
    it('exports the filtered list as RFC 4180 CSV with formulas neutralised', async () => {
      const word = tag('export');
      const formula = await create('sec.in', {
        title: `=HYPERLINK("x") ${word}`,
        dueDate: '2070-01-01',
      });
      const tricky = await create('sec.in', {
        title: `${word} "quoted", with comma`,
        description: 'line one\nline two, with "quotes"\r\nline three',
        dueDate: '2070-01-02',
      });
      const plus = await create('sec.us', {
        title: `+1 ${word}`,
        description: '@SUM(A1:A2)',
        dueDate: '2070-01-03',
        ownerId: ids['delegate.us'],
      });
      const minus = await create('sec.us', { title: `-2 ${word}`, dueDate: '2070-01-04' });
      await patch('sec.us', minus.id, { status: 'done' }, 200);

      const res = await app
        .as('observer.in', 'get', `/action-items/export.csv?q=${word}`)
        .expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const { header, records } = csvRecords(res.text);
      expect(header).toEqual(
        expect.arrayContaining(['code', 'title', 'status', 'ownerId', 'dueDate', 'overdue', 'id']),
      );
      expect(records.map((r) => r.id)).toEqual([formula.id, tricky.id, plus.id, minus.id]);
      const byId = new Map(records.map((r) => [r.id, r]));
      expect(byId.get(formula.id)).toMatchObject({
        title: `'=HYPERLINK("x") ${word}`,
        code: formula.code,
        status: 'open',
        ownerId: ids['delegate.in'],
        ownerDelegation: 'IN',
        dueDate: '2070-01-01',
        overdue: 'false',
        visibility: 'joint',
      });
      expect(byId.get(tricky.id)).toMatchObject({
        title: `${word} "quoted", with comma`,
        description: 'line one\nline two, with "quotes"\r\nline three',
      });
      expect(byId.get(plus.id)).toMatchObject({
        title: `'+1 ${word}`,
        description: "'@SUM(A1:A2)",
        ownerDelegation: 'US',
      });
      expect(byId.get(minus.id)).toMatchObject({ title: `'-2 ${word}`, status: 'done' });
      expect(byId.get(minus.id)!.completedAt).toMatch(/^\d{4}-\d\d-\d\dT/);

      // The same filters as the list.
      const filtered = async (query: string) =>
        csvRecords(
          (
            await app
              .as('observer.in', 'get', `/action-items/export.csv?q=${word}&${query}`)
              .expect(200)
          ).text,
        ).records.map((r) => r.id);
      expect(await filtered('status=done')).toEqual([minus.id]);
      expect(await filtered('delegation=US')).toEqual([plus.id]);
      expect(await filtered(`owner=${ids['delegate.us']}`)).toEqual([plus.id]);
      expect(await filtered('dueAfter=2070-01-01&dueBefore=2070-01-04')).toEqual([
        tricky.id,
        plus.id,
      ]);
      expect(await filtered('sort=-dueDate')).toEqual([minus.id, plus.id, tricky.id, formula.id]);
      expect(await filtered('overdue=true')).toEqual([]);
      const list = await listAll('observer.in', `q=${word}&status=open,in_progress`);
      expect(await filtered('status=open,in_progress')).toEqual(idsOf(list));
      const empty = await app
        .as('observer.in', 'get', `/action-items/export.csv?q=${word}-none`)
        .expect(200);
      expect(parseCsv(empty.text)).toEqual([header]);

      for (const query of ['sort=title', 'status=finished', 'color=red', 'limit=5']) {
        const bad = await app.as('observer.in', 'get', `/action-items/export.csv?${query}`);
        expect({ query, status: bad.status }).toEqual({ query, status: 400 });
      }
      await app.http.get('/api/v1/action-items/export.csv').expect(401);
    });

    it('exports every visible row across its internal batches, and only those', async () => {
      // More rows than one export batch (1000), all due the same day: the batches meet
      // inside a run of equal due dates, where only the id orders rows.
      const owner = ids['delegate.in'];
      const now = new Date().toISOString();
      const columns = ['id', 'code', 'title', 'description', 'status', 'owner_id'];
      columns.push('owner_delegation', 'due_date', 'meeting_id', 'agenda_item_id');
      columns.push('policy_item_id', 'visibility', 'completed_at', 'version');
      columns.push('created_at', 'updated_at');
      const bulk = Array.from({ length: 1210 }, (_, n) => {
        const i = n + 1;
        const key = String(i).padStart(4, '0');
        const visibility = i % 10 === 0 ? 'IN' : 'joint';
        const row: (string | number | null)[] = [`bulk-${key}`, `BULK-${key}`, `Bulk ${i}`, ''];
        row.push('open', owner, 'IN', '2080-01-01', null, null, null, visibility, null);
        row.push(1, now, now);
        return row;
      });
      await app.uow.transaction((em) => insertRows(em, 'action_items', columns, bulk));
      const all = await listAll('sec.in', '');
      expect(all.length).toBeGreaterThan(1210);
      const csv = await app.as('sec.in', 'get', '/action-items/export.csv').expect(200);
      const records = csvRecords(csv.text).records;
      expect(records.map((r) => r.id)).toEqual(idsOf(all));
      expect(records.filter((r) => r.title.startsWith('Bulk '))).toHaveLength(1210);

      const usAll = await listAll('sec.us', '');
      const usCsv = await app.as('sec.us', 'get', '/action-items/export.csv').expect(200);
      const usRecords = csvRecords(usCsv.text).records;
      expect(usRecords.map((r) => r.id)).toEqual(idsOf(usAll));
      expect(usRecords.some((r) => r.visibility === 'IN')).toBe(false);
      expect(usRecords.filter((r) => r.title.startsWith('Bulk '))).toHaveLength(1089);
      const joint = (rows: Record<string, string>[]) =>
        rows.filter((r) => r.visibility === 'joint').map((r) => r.id);
      expect(joint(usRecords)).toEqual(joint(records));
      const adminCsv = await app.as('admin', 'get', '/action-items/export.csv').expect(200);
      const adminRecords = csvRecords(adminCsv.text).records;
      expect(adminRecords.map((r) => r.id)).toEqual(joint(records));
    });
  });

  describe('concurrency and retries', () => {
    it('sends an ETag and applies If-Match in the same conditional write', async () => {
      const item = await create('sec.in', { title: 'Contended' });
      const get = await app.as('delegate.in', 'get', `/action-items/${item.id}`).expect(200);
      expect(get.headers.etag).toBe('"1"');

      const racers = await Promise.all(
        (['sec.in', 'dsa.us'] as const).map((as, i) =>
          app
            .as(as, 'patch', `/action-items/${item.id}`)
            .set('if-match', '"1"')
            .send({ title: `Racer ${i}` }),
        ),
      );
      expect(racers.map((r) => r.status).sort()).toEqual([200, 412]);
      const winner = racers.find((r) => r.status === 200)!;
      expect(winner.headers.etag).toBe('"2"');
      const loser = racers.find((r) => r.status === 412)!;
      expect(loser.headers['content-type']).toContain('application/problem+json');
      const after = await app.as('sec.in', 'get', `/action-items/${item.id}`).expect(200);
      expect(after.body).toEqual(winner.body);
      expect(after.headers.etag).toBe('"2"');

      await app
        .as('sec.in', 'patch', `/action-items/${item.id}`)
        .set('if-match', '"7"')
        .send({ title: 'Mismatch' })
        .expect(412);
      await app
        .as('sec.in', 'patch', `/action-items/${item.id}`)
        .set('if-match', 'W/"2"')
        .send({ title: 'Weak tag' })
        .expect(412);
      const ok = await app
        .as('sec.in', 'patch', `/action-items/${item.id}`)
        .set('if-match', '"1", "2"')
        .send({ title: 'Matched' })
        .expect(200);
      expect(ok.body).toMatchObject({ title: 'Matched', version: 3 });
      expect(ok.headers.etag).toBe('"3"');
      // Checks run in order: 409 for the state before 412.
      await patch('sec.in', item.id, { status: 'done' }, 200);
      await app
        .as('sec.in', 'patch', `/action-items/${item.id}`)
        .set('if-match', '"1"')
        .send({ status: 'in_progress' })
        .expect(409);
    });

    it('replays a POST with the same Idempotency-Key and refuses the key for another body', async () => {
      const body = { title: 'Exactly once', ownerId: ids['delegate.us'], dueDate: FUTURE };
      const first = await app
        .as('sec.us', 'post', '/action-items')
        .set('idempotency-key', 'create-once-1')
        .send(body)
        .expect(201);
      const retry = await app
        .as('sec.us', 'post', '/action-items')
        .set('idempotency-key', 'create-once-1')
        .send({ dueDate: FUTURE, ownerId: ids['delegate.us'], title: 'Exactly once' })
        .expect(201);
      expect(retry.body).toEqual(first.body);
      const rows = await app.uow.read((em) =>
        em.query(`SELECT id FROM action_items WHERE title = 'Exactly once'`),
      );
      expect(rows).toEqual([{ id: first.body.id }]);

      await app
        .as('sec.us', 'post', '/action-items')
        .set('idempotency-key', 'create-once-1')
        .send({ ...body, title: 'Something else' })
        .expect(409);
      // The key is per user: another user's same key creates their own item.
      const other = await app
        .as('sec.in', 'post', '/action-items')
        .set('idempotency-key', 'create-once-1')
        .send(body)
        .expect(201);
      expect(other.body.id).not.toBe(first.body.id);
      const after = await app.uow.read((em) =>
        em.query(`SELECT id FROM action_items WHERE title IN ('Exactly once', 'Something else')`),
      );
      expect(after).toHaveLength(2);

      // Two concurrent sends with one key still create one item.
      const racing = await Promise.all(
        [0, 1].map(() =>
          app
            .as('dsa.us', 'post', '/action-items')
            .set('idempotency-key', 'create-once-2')
            .send({ ...body, title: 'Raced once' }),
        ),
      );
      expect(racing.map((r) => r.status)).toEqual([201, 201]);
      expect(racing[0].body.id).toBe(racing[1].body.id);
      const raced = await app.uow.read((em) =>
        em.query(`SELECT id FROM action_items WHERE title = 'Raced once'`),
      );
      expect(raced).toHaveLength(1);
    });
  });
});
