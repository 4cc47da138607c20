import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Meetings, their agenda, outcomes and minutes (SPEC 5, "Working group and meetings" and
 * "Agenda items"), proved through HTTP against the real app on a fresh database.
 */

const MEETING = {
  title: 'JWG meeting',
  kind: 'plenary',
  startsOn: '2022-03-28',
  endsOn: '2022-03-30',
  location: 'Washington, DC',
  hostDelegation: 'US',
};

const STANDING_ITEM = 'Review of open action items';

/** The fields the tests read from a meeting or an agenda item the API answered with. */
interface MeetingView {
  id: string;
  number: number;
  version: number;
  [field: string]: unknown;
}

interface AgendaView {
  id: string;
  title: string;
  position: number;
  meetingId: string;
  carriedFromId: string | null;
  policyItemId: string | null;
  [field: string]: unknown;
}

const DSA_AND_SECRETARIAT = ['dsa.in', 'dsa.us', 'sec.in', 'sec.us'] as const;
const NOT_MEETING_MANAGERS = [
  'delegate.in',
  'delegate.us',
  'observer.in',
  'observer.us',
  'admin',
] as const;

async function createMeeting(
  app: TestApp,
  fields: Record<string, unknown> = {},
  as = 'sec.in',
): Promise<MeetingView> {
  const res = await app
    .as(as, 'post', '/meetings')
    .send({ ...MEETING, ...fields })
    .expect(201);
  return res.body;
}

async function addAgendaItem(
  app: TestApp,
  meetingId: string,
  fields: Record<string, unknown> = {},
  as = 'sec.in',
): Promise<AgendaView> {
  const res = await app
    .as(as, 'post', `/meetings/${meetingId}/agenda-items`)
    .send({ title: 'An agenda item', ...fields })
    .expect(201);
  return res.body;
}

async function setMeetingStatus(app: TestApp, id: string, status: string): Promise<MeetingView> {
  const res = await app.as('sec.in', 'patch', `/meetings/${id}`).send({ status }).expect(200);
  return res.body;
}

async function agendaOf(app: TestApp, meetingId: string, as: string): Promise<AgendaView[]> {
  const res = await app.as(as, 'get', `/meetings/${meetingId}/agenda-items`).expect(200);
  return res.body.data;
}

/** The fields a problem+json validation answer names. */
function errorFields(res: Response): string[] {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(Array.isArray(res.body.errors)).toBe(true);
  return (res.body.errors as { field: string }[]).map((e) => e.field);
}

async function count(app: TestApp, table: string, where = '1 = 1', params: unknown[] = []) {
  const rows = await app.query<{ n: number }>(
    `SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`,
    params,
  );
  return Number(rows[0].n);
}

const TABLES = [
  'meetings',
  'meeting_decisions',
  'meeting_attendees',
  'minutes_approvals',
  'agenda_items',
  'action_items',
  'policy_items',
  'idempotency_records',
] as const;

/** Everything an outcome could write: row counts, code sequences, the meeting and its agenda. */
async function snapshot(app: TestApp, meetingId: string) {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    counts[table] = await count(app, table);
  }
  return {
    counts,
    sequences: await app.query('SELECT name, last FROM code_sequences ORDER BY name'),
    meeting: await app.query(
      `SELECT version, status, minutes_status, minutes_text, updated_at FROM meetings
       WHERE id = ?`,
      [meetingId],
    ),
    agenda: await app.query(
      'SELECT id, status, outcome, version FROM agenda_items WHERE meeting_id = ? ORDER BY id',
      [meetingId],
    ),
    attendees: await app.query(
      'SELECT user_id FROM meeting_attendees WHERE meeting_id = ? ORDER BY user_id',
      [meetingId],
    ),
  };
}

describe('POST /meetings', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('creates a planned meeting numbered highest + 1', async () => {
    const all = await app.as('observer.in', 'get', '/meetings?limit=200').expect(200);
    const highest = Math.max(...all.body.data.map((m: { number: number }) => m.number));
    expect(highest).toBe(1);

    const res = await app.as('sec.us', 'post', '/meetings').send(MEETING).expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      number: highest + 1,
      title: MEETING.title,
      kind: 'plenary',
      startsOn: '2022-03-28',
      endsOn: '2022-03-30',
      location: 'Washington, DC',
      hostDelegation: 'US',
      status: 'planned',
      decisions: [],
      attendees: [],
      minutes: { status: 'none', text: null, approvals: [] },
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    // Numbers follow the highest, not the dates: an earlier meeting still gets the next one.
    const earlier = await createMeeting(app, { startsOn: '2021-01-05', endsOn: '2021-01-05' });
    expect(earlier.number).toBe(highest + 2);
    const stored = await app.as('delegate.us', 'get', `/meetings/${res.body.id}`).expect(200);
    expect(stored.body).toEqual(res.body);
  });

  it('answers 400 with errors[] naming the field for an invalid body, and writes nothing', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: 'summit' }, 'kind'],
      [{ startsOn: '2022-02-30', endsOn: '2022-03-02' }, 'startsOn'],
      [{ endsOn: '2022-13-01' }, 'endsOn'],
      [{ startsOn: '2022-03-28', endsOn: '2022-03-27' }, 'endsOn'],
      [{ agenda: [] }, 'agenda'],
      [{ title: 'x'.repeat(201) }, 'title'],
      [{ title: '   ' }, 'title'],
      [{ title: null }, 'title'],
      [{ hostDelegation: 'UK' }, 'hostDelegation'],
      [{ hostDelegation: null }, 'hostDelegation'],
    ];
    const before = await count(app, 'meetings');
    for (const [fields, field] of cases) {
      const res = await app
        .as('sec.in', 'post', '/meetings')
        .send({ ...MEETING, ...fields })
        .expect(400);
      expect({ fields, errors: errorFields(res) }).toEqual({
        fields,
        errors: expect.arrayContaining([field]),
      });
      expect(res.body.status).toBe(400);
    }
    const { title: _title, ...untitled } = MEETING;
    const missing = await app.as('sec.in', 'post', '/meetings').send(untitled).expect(400);
    expect(errorFields(missing)).toContain('title');
    expect(await count(app, 'meetings')).toBe(before);
  });

  it('records past meetings: the JWG history is entered too', async () => {
    const past = await createMeeting(app, {
      title: 'Second 2+2 dialogue side meeting',
      kind: 'intersessional',
      startsOn: '2019-12-18',
      endsOn: '2019-12-18',
      location: null,
    });
    expect(past).toMatchObject({
      startsOn: '2019-12-18',
      endsOn: '2019-12-18',
      kind: 'intersessional',
      location: null,
      status: 'planned',
    });
  });

  it('lets only dsa and secretariat create meetings (403 for delegate, observer, admin)', async () => {
    const before = await count(app, 'meetings');
    for (const user of NOT_MEETING_MANAGERS) {
      const res = await app.as(user, 'post', '/meetings').send(MEETING);
      expect({ user, status: res.status }).toEqual({ user, status: 403 });
    }
    expect(await count(app, 'meetings')).toBe(before);
    for (const user of DSA_AND_SECRETARIAT) {
      const res = await app.as(user, 'post', '/meetings').send(MEETING);
      expect({ user, status: res.status }).toEqual({ user, status: 201 });
    }
    expect(await count(app, 'meetings')).toBe(before + DSA_AND_SECRETARIAT.length);
  });

  it('numbers concurrent creations without gaps or duplicates', async () => {
    const all = await app.as('observer.in', 'get', '/meetings?limit=200').expect(200);
    const highest = Math.max(...all.body.data.map((m: { number: number }) => m.number));
    const created = await Promise.all(
      DSA_AND_SECRETARIAT.map((user) => app.as(user, 'post', '/meetings').send(MEETING)),
    );
    expect(created.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(created.map((r) => r.body.number as number).sort((a, b) => a - b)).toEqual([
      highest + 1,
      highest + 2,
      highest + 3,
      highest + 4,
    ]);
  });
});

describe('GET /meetings', () => {
  let app: TestApp;
  let seeded: MeetingView;
  let january: MeetingView;
  let february: MeetingView;
  let march: MeetingView;
  let april: MeetingView;
  beforeAll(async () => {
    app = await createTestApp();
    [seeded] = (await app.as('observer.us', 'get', '/meetings').expect(200)).body.data;
    // Starts before the window and ends inside it: outside, since the bounds are on startsOn.
    january = await createMeeting(app, { startsOn: '2040-01-10', endsOn: '2040-02-05' });
    february = await createMeeting(app, { startsOn: '2040-02-01', endsOn: '2040-02-03' });
    march = await createMeeting(app, { startsOn: '2040-03-15', endsOn: '2040-03-16' });
    april = await createMeeting(app, { startsOn: '2040-04-20', endsOn: '2040-04-21' });
    february = await setMeetingStatus(app, february.id, 'cancelled');
    april = await setMeetingStatus(app, april.id, 'in_session');
  });
  afterAll(() => app.close());

  const ids = (res: Response) => res.body.data.map((m: { id: string }) => m.id);

  it('filters by status', async () => {
    const cancelled = await app.as('observer.in', 'get', '/meetings?status=cancelled').expect(200);
    expect(ids(cancelled)).toEqual([february.id]);
    const held = await app.as('observer.in', 'get', '/meetings?status=held').expect(200);
    expect(ids(held)).toEqual([seeded.id]);
    const planned = await app.as('observer.in', 'get', '/meetings?status=planned').expect(200);
    expect(ids(planned)).toEqual([january.id, march.id]);
    const inSession = await app.as('admin', 'get', '/meetings?status=in_session').expect(200);
    expect(ids(inSession)).toEqual([april.id]);
    expect(inSession.body.nextCursor).toBeNull();
    await app.as('observer.in', 'get', '/meetings?status=adjourned').expect(400);
  });

  it('filters by from and to, both inclusive, on startsOn', async () => {
    const window = await app
      .as('delegate.in', 'get', '/meetings?from=2040-02-01&to=2040-03-15')
      .expect(200);
    expect(ids(window)).toEqual([february.id, march.id]);
    const from = await app.as('delegate.in', 'get', '/meetings?from=2040-03-15').expect(200);
    expect(ids(from)).toEqual([march.id, april.id]);
    const to = await app.as('delegate.in', 'get', '/meetings?to=2040-01-10').expect(200);
    expect(ids(to)).toEqual([seeded.id, january.id]);
    const oneDay = await app
      .as('delegate.in', 'get', '/meetings?from=2021-09-27&to=2021-09-27')
      .expect(200);
    expect(ids(oneDay)).toEqual([seeded.id]);
    const both = await app
      .as('delegate.in', 'get', '/meetings?status=planned&from=2040-02-01')
      .expect(200);
    expect(ids(both)).toEqual([march.id]);
    const empty = await app
      .as('delegate.in', 'get', '/meetings?from=2040-03-16&to=2040-04-19')
      .expect(200);
    expect(empty.body).toEqual({ data: [], nextCursor: null });
  });

  it('pages with limit and cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page: Response = await app
        .as('observer.us', 'get', `/meetings?limit=2${query}`)
        .expect(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([seeded.id, january.id, february.id, march.id, april.id]);

    const filtered = await app.as('observer.us', 'get', '/meetings?from=2040-01-01&limit=3');
    expect(ids(filtered)).toEqual([january.id, february.id, march.id]);
    const rest = await app
      .as(
        'observer.us',
        'get',
        `/meetings?from=2040-01-01&limit=3&cursor=${filtered.body.nextCursor}`,
      )
      .expect(200);
    expect(rest.body).toMatchObject({ data: [{ id: april.id }], nextCursor: null });
    const max = await app.as('observer.us', 'get', '/meetings?limit=200').expect(200);
    expect(max.body.data).toHaveLength(5);
  });

  it('answers 400 for unknown parameters, out-of-range limits and bad dates', async () => {
    for (const query of [
      'sort=number',
      'host=IN',
      'limit=0',
      'limit=201',
      'limit=abc',
      'from=2040-02-30',
      'to=tomorrow',
      'cursor=not-a-cursor',
    ]) {
      const res = await app.as('observer.in', 'get', `/meetings?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('GET /meetings/:id sends a strong ETag of the version, and 404 for an unknown id', async () => {
    const res = await app.as('observer.us', 'get', `/meetings/${march.id}`).expect(200);
    expect(res.body.version).toBe(1);
    expect(res.headers.etag).toBe('"1"');
    await app
      .as('sec.us', 'patch', `/meetings/${march.id}`)
      .set('if-match', '"1"')
      .send({ location: 'Hyderabad' })
      .expect(200);
    const after = await app.as('observer.us', 'get', `/meetings/${march.id}`).expect(200);
    expect(after.body).toMatchObject({ version: 2, location: 'Hyderabad' });
    expect(after.headers.etag).toBe(`"${after.body.version}"`);

    const missing = await app.as('observer.us', 'get', `/meetings/${randomUUID()}`).expect(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.body.status).toBe(404);
  });
});

describe('PATCH /meetings/:id', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('follows planned -> in_session -> held', async () => {
    const meeting = await createMeeting(app);
    const inSession = await app
      .as('dsa.in', 'patch', `/meetings/${meeting.id}`)
      .send({ status: 'in_session' })
      .expect(200);
    expect(inSession.body).toMatchObject({ status: 'in_session', version: 2 });
    expect(inSession.headers.etag).toBe('"2"');
    const held = await app
      .as('sec.us', 'patch', `/meetings/${meeting.id}`)
      .set('if-match', '"2"')
      .send({ status: 'held' })
      .expect(200);
    expect(held.body).toMatchObject({ status: 'held', version: 3 });
    const stored = await app.as('observer.us', 'get', `/meetings/${meeting.id}`).expect(200);
    expect(stored.body.status).toBe('held');
  });

  it('refuses moves off the arrows with 409: planned -> held, held -> planned, out of cancelled', async () => {
    const planned = await createMeeting(app);
    await app.as('sec.in', 'patch', `/meetings/${planned.id}`).send({ status: 'held' }).expect(409);

    const held = await createMeeting(app);
    await setMeetingStatus(app, held.id, 'in_session');
    await setMeetingStatus(app, held.id, 'held');
    for (const status of ['planned', 'in_session', 'cancelled']) {
      const res = await app.as('sec.in', 'patch', `/meetings/${held.id}`).send({ status });
      expect({ status, code: res.status }).toEqual({ status, code: 409 });
    }

    const cancelled = await createMeeting(app);
    await setMeetingStatus(app, cancelled.id, 'cancelled');
    for (const status of ['planned', 'in_session', 'held']) {
      const res = await app.as('dsa.us', 'patch', `/meetings/${cancelled.id}`).send({ status });
      expect({ status, code: res.status }).toEqual({ status, code: 409 });
    }
    const inSession = await createMeeting(app);
    await setMeetingStatus(app, inSession.id, 'in_session');
    await setMeetingStatus(app, inSession.id, 'cancelled');

    const rows = await app.query<{ id: string; status: string; version: number }>(
      'SELECT id, status, version FROM meetings WHERE id IN (?, ?, ?)',
      [planned.id, held.id, cancelled.id],
    );
    expect(Object.fromEntries(rows.map((r) => [r.id, [r.status, r.version]]))).toEqual({
      [planned.id]: ['planned', 1],
      [held.id]: ['held', 3],
      [cancelled.id]: ['cancelled', 2],
    });
  });

  it('validates the body and 404s an unknown meeting', async () => {
    const meeting = await createMeeting(app);
    const early = await app
      .as('sec.in', 'patch', `/meetings/${meeting.id}`)
      .send({ endsOn: '2022-03-01' })
      .expect(400);
    expect(errorFields(early)).toContain('endsOn');
    const late = await app
      .as('sec.in', 'patch', `/meetings/${meeting.id}`)
      .send({ startsOn: '2022-03-31' })
      .expect(400);
    expect(errorFields(late)).toEqual(['startsOn']);
    for (const body of [{ status: 'adjourned' }, { title: null }, { number: 7 }, { kind: null }]) {
      const res = await app.as('sec.in', 'patch', `/meetings/${meeting.id}`).send(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    await app
      .as('sec.in', 'patch', `/meetings/${randomUUID()}`)
      .send({ title: 'Renamed' })
      .expect(404);
    await app
      .as('delegate.in', 'patch', `/meetings/${meeting.id}`)
      .send({ title: 'Renamed' })
      .expect(403);
    const stored = await app.as('sec.in', 'get', `/meetings/${meeting.id}`).expect(200);
    expect(stored.body).toMatchObject({ title: MEETING.title, endsOn: MEETING.endsOn, version: 1 });
  });

  it('answers 412 when If-Match does not match; of two racing writers one wins', async () => {
    const meeting = await createMeeting(app);
    const stale = await app
      .as('sec.in', 'patch', `/meetings/${meeting.id}`)
      .set('if-match', '"7"')
      .send({ title: 'Stale' })
      .expect(412);
    expect(stale.headers['content-type']).toMatch(/^application\/problem\+json/);
    await app
      .as('sec.in', 'patch', `/meetings/${meeting.id}`)
      .set('if-match', 'W/"1"')
      .send({ title: 'Weak' })
      .expect(412);

    const race = await Promise.all(
      ['sec.in', 'sec.us'].map((user) =>
        app
          .as(user, 'patch', `/meetings/${meeting.id}`)
          .set('if-match', '"1"')
          .send({ title: `Renamed by ${user}` }),
      ),
    );
    expect(race.map((r) => r.status).sort()).toEqual([200, 412]);
    const winner = race.find((r) => r.status === 200)!;
    const stored = await app.as('observer.in', 'get', `/meetings/${meeting.id}`).expect(200);
    expect(stored.body).toMatchObject({ version: 2, title: winner.body.title });
  });
});

describe('POST /meetings/next', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('starts cadenceMonths after the highest-numbered meeting, clamped, as long, other host', async () => {
    const group = await app.as('observer.in', 'get', '/working-group').expect(200);
    expect(group.body.cadenceMonths).toBe(6);
    const last = await createMeeting(app, {
      startsOn: '2023-08-31',
      endsOn: '2023-09-02',
      hostDelegation: 'IN',
    });
    const next = await app.as('sec.us', 'post', '/meetings/next').expect(201);
    expect(next.body).toMatchObject({
      number: last.number + 1,
      startsOn: '2024-02-29',
      endsOn: '2024-03-02',
      hostDelegation: 'US',
      status: 'planned',
      minutes: { status: 'none', text: null, approvals: [] },
      version: 1,
    });
    const after = await app.as('dsa.in', 'post', '/meetings/next').expect(201);
    expect(after.body).toMatchObject({
      number: last.number + 2,
      startsOn: '2024-08-29',
      endsOn: '2024-08-31',
      hostDelegation: 'IN',
    });
  });

  it('follows the working group cadence setting', async () => {
    const patched = await app
      .as('dsa.us', 'patch', '/working-group')
      .send({ cadenceMonths: 1 })
      .expect(200);
    expect(patched.body.cadenceMonths).toBe(1);
    try {
      const last = await createMeeting(app, {
        startsOn: '2025-01-31',
        endsOn: '2025-01-31',
        hostDelegation: 'US',
      });
      const next = await app.as('sec.in', 'post', '/meetings/next').expect(201);
      expect(next.body).toMatchObject({
        number: last.number + 1,
        startsOn: '2025-02-28',
        endsOn: '2025-02-28',
        hostDelegation: 'IN',
      });
    } finally {
      await app.as('dsa.in', 'patch', '/working-group').send({ cadenceMonths: 6 }).expect(200);
    }
  });

  it('carries the pending and deferred items after the standing item, visibility kept', async () => {
    const last = await createMeeting(app, { startsOn: '2026-03-02', endsOn: '2026-03-04' });
    const titles = ['Pending', 'Discussed', 'Deferred', 'Withdrawn'];
    const items: AgendaView[] = [];
    for (const title of titles) {
      items.push(await addAgendaItem(app, last.id, { title, description: `${title} notes` }));
    }
    const inOnly = await addAgendaItem(app, last.id, { title: 'IN only', visibility: 'IN' });
    const outcomes: [AgendaView, string][] = [
      [items[1], 'discussed'],
      [items[2], 'deferred'],
      [items[3], 'withdrawn'],
      [inOnly, 'deferred'],
    ];
    for (const [item, status] of outcomes) {
      await app
        .as('sec.in', 'patch', `/agenda-items/${item.id}`)
        .send({ status, outcome: `${status} at the meeting` })
        .expect(200);
    }

    const next = await app.as('sec.us', 'post', '/meetings/next').expect(201);
    expect(next.body).toMatchObject({ number: last.number + 1, startsOn: '2026-09-02' });

    const forIndia = await agendaOf(app, next.body.id, 'dsa.in');
    expect(forIndia).toEqual([
      expect.objectContaining({
        title: STANDING_ITEM,
        position: 1,
        carriedFromId: null,
        status: 'pending',
        visibility: 'joint',
      }),
      expect.objectContaining({
        title: 'Pending',
        description: 'Pending notes',
        carriedFromId: items[0].id,
        visibility: 'joint',
      }),
      expect.objectContaining({
        title: 'Deferred',
        carriedFromId: items[2].id,
        status: 'pending',
        outcome: null,
        visibility: 'joint',
      }),
      expect.objectContaining({
        title: 'IN only',
        carriedFromId: inOnly.id,
        status: 'pending',
        visibility: 'IN',
      }),
    ]);
    for (const item of forIndia) {
      expect(item.meetingId).toBe(next.body.id);
    }
    expect(forIndia.map((a) => a.position)).toEqual([1, 2, 3, 4]);
    const carriedInOnly = forIndia[3];
    expect(await agendaOf(app, next.body.id, 'observer.in')).toEqual(forIndia);

    for (const user of ['dsa.us', 'sec.us', 'observer.us', 'admin']) {
      const agenda = await agendaOf(app, next.body.id, user);
      expect({ user, titles: agenda.map((a) => a.title) }).toEqual({
        user,
        titles: [STANDING_ITEM, 'Pending', 'Deferred'],
      });
      const res = await app.as(user, 'get', `/agenda-items/${carriedInOnly.id}`);
      expect({ user, status: res.status }).toEqual({ user, status: 404 });
    }

    // The standing item is not carried twice when the next meeting follows this one.
    const then = await app.as('sec.in', 'post', '/meetings/next').expect(201);
    const thenAgenda = await agendaOf(app, then.body.id, 'sec.in');
    expect(thenAgenda.map((a) => [a.title, a.carriedFromId])).toEqual([
      [STANDING_ITEM, null],
      ['Pending', forIndia[1].id],
      ['Deferred', forIndia[2].id],
      ['IN only', carriedInOnly.id],
    ]);
  });

  it('is for dsa and secretariat only', async () => {
    const before = await count(app, 'meetings');
    for (const user of NOT_MEETING_MANAGERS) {
      const res = await app.as(user, 'post', '/meetings/next');
      expect({ user, status: res.status }).toEqual({ user, status: 403 });
    }
    expect(await count(app, 'meetings')).toBe(before);
  });
});

describe('POST /meetings/:id/outcomes', () => {
  let app: TestApp;
  let dsaIn: string;
  let dsaUs: string;
  let secIn: string;
  let delegateIn: string;
  let delegateUs: string;
  beforeAll(async () => {
    app = await createTestApp();
    [dsaIn, dsaUs, secIn, delegateIn, delegateUs] = await Promise.all(
      ['dsa.in', 'dsa.us', 'sec.in', 'delegate.in', 'delegate.us'].map((u) => app.userId(u)),
    );
  });
  afterAll(() => app.close());

  const actionItem = (fields: Record<string, unknown> = {}) => ({
    title: 'Exchange comments on the draft protocol',
    ownerId: delegateIn,
    dueDate: '2022-05-27',
    ...fields,
  });

  it('logs attendance, agenda outcomes, decisions, action items and minutes; planned -> held', async () => {
    const meeting = await createMeeting(app);
    const first = await addAgendaItem(app, meeting.id, { title: 'Protocol progress' });
    const second = await addAgendaItem(app, meeting.id, { title: 'Visit programme' });
    const res = await app
      .as('sec.us', 'post', `/meetings/${meeting.id}/outcomes`)
      .send({
        attendees: [dsaIn, dsaUs, dsaIn],
        agendaOutcomes: [
          { agendaItemId: first.id, status: 'discussed', outcome: 'Draft reviewed' },
          { agendaItemId: second.id, status: 'deferred', outcome: 'To the next meeting' },
        ],
        decisions: ['Adopt the draft protocol', 'Exchange comments within 60 days'],
        actionItems: [actionItem({ agendaItemId: first.id })],
        minutes: 'Minutes of the meeting.',
      })
      .expect(201);
    expect(Object.keys(res.body).sort()).toEqual(['actionItems', 'meeting']);
    expect(res.body.meeting).toMatchObject({
      id: meeting.id,
      status: 'held',
      decisions: [
        { code: 'D-1', text: 'Adopt the draft protocol' },
        { code: 'D-2', text: 'Exchange comments within 60 days' },
      ],
      minutes: { status: 'draft', text: 'Minutes of the meeting.', approvals: [] },
      version: 2,
    });
    expect([...res.body.meeting.attendees].sort()).toEqual([dsaIn, dsaUs].sort());
    expect(res.body.actionItems).toEqual([
      expect.objectContaining({
        title: 'Exchange comments on the draft protocol',
        ownerId: delegateIn,
        ownerDelegation: 'IN',
        meetingId: meeting.id,
        agendaItemId: first.id,
        status: 'open',
        visibility: 'joint',
      }),
    ]);

    const stored = await app.as('observer.us', 'get', `/meetings/${meeting.id}`).expect(200);
    expect(stored.body).toEqual(res.body.meeting);
    const agenda = await agendaOf(app, meeting.id, 'observer.us');
    expect(agenda.map((a) => [a.status, a.outcome])).toEqual([
      ['discussed', 'Draft reviewed'],
      ['deferred', 'To the next meeting'],
    ]);
    const item = await app
      .as('delegate.in', 'get', `/action-items/${res.body.actionItems[0].id}`)
      .expect(200);
    expect(item.body.meetingId).toBe(meeting.id);
  });

  it('takes an in-session meeting to held', async () => {
    const meeting = await createMeeting(app);
    await setMeetingStatus(app, meeting.id, 'in_session');
    const res = await app
      .as('dsa.in', 'post', `/meetings/${meeting.id}/outcomes`)
      .send({ decisions: ['Meet again in six months'] })
      .expect(201);
    expect(res.body.meeting).toMatchObject({ status: 'held', minutes: { status: 'none' } });
    expect(res.body.actionItems).toEqual([]);
  });

  it('numbers decisions D-n across calls and replaces the attendees', async () => {
    const meeting = await createMeeting(app);
    await app
      .as('sec.in', 'post', `/meetings/${meeting.id}/outcomes`)
      .send({ attendees: [dsaIn, dsaUs], decisions: ['First', 'Second'] })
      .expect(201);
    const again = await app
      .as('sec.us', 'post', `/meetings/${meeting.id}/outcomes`)
      .send({ attendees: [secIn], decisions: ['Third'] })
      .expect(201);
    expect(again.body.meeting.decisions).toEqual([
      { code: 'D-1', text: 'First' },
      { code: 'D-2', text: 'Second' },
      { code: 'D-3', text: 'Third' },
    ]);
    expect(again.body.meeting.attendees).toEqual([secIn]);
    expect(await count(app, 'meeting_attendees', 'meeting_id = ?', [meeting.id])).toBe(1);

    // The seeded meeting 1 already holds D-1 and D-2.
    const [seeded] = (await app.as('sec.in', 'get', '/meetings?status=held&to=2021-12-31')).body
      .data;
    const seededRes = await app
      .as('dsa.in', 'post', `/meetings/${seeded.id}/outcomes`)
      .send({ decisions: ['Recorded later'] })
      .expect(201);
    expect(seededRes.body.meeting.decisions.map((d: { code: string }) => d.code)).toEqual([
      'D-1',
      'D-2',
      'D-3',
    ]);
    expect([...seededRes.body.meeting.attendees].sort()).toEqual([dsaIn, dsaUs].sort());
  });

  it('is for dsa and secretariat only', async () => {
    const meeting = await createMeeting(app);
    for (const user of NOT_MEETING_MANAGERS) {
      const res = await app
        .as(user, 'post', `/meetings/${meeting.id}/outcomes`)
        .send({ decisions: ['x'] });
      expect({ user, status: res.status }).toEqual({ user, status: 403 });
    }
    await app
      .as('sec.in', 'post', `/meetings/${randomUUID()}/outcomes`)
      .send({ decisions: ['x'] })
      .expect(404);
    const stored = await app.as('sec.in', 'get', `/meetings/${meeting.id}`).expect(200);
    expect(stored.body).toMatchObject({ status: 'planned', decisions: [], version: 1 });
  });

  describe('writes nothing when any part is invalid', () => {
    let meeting: MeetingView;
    let ownItem: AgendaView;
    let otherItem: AgendaView;
    let usOnlyItem: AgendaView;
    beforeAll(async () => {
      meeting = await createMeeting(app);
      ownItem = await addAgendaItem(app, meeting.id, { title: 'Own item' });
      usOnlyItem = await addAgendaItem(
        app,
        meeting.id,
        { title: 'US only', visibility: 'US' },
        'sec.us',
      );
      const other = await createMeeting(app);
      otherItem = await addAgendaItem(app, other.id, { title: 'Item of another meeting' });
    });

    /** A full, valid outcome; each case spoils one part of it. */
    const valid = () => ({
      attendees: [dsaIn, dsaUs],
      agendaOutcomes: [{ agendaItemId: ownItem.id, status: 'discussed', outcome: 'Done' }],
      decisions: ['A decision that must not be kept'],
      actionItems: [actionItem(), actionItem({ title: 'Second', ownerId: delegateUs })],
      minutes: 'Minutes that must not be kept.',
    });

    async function expectNothingWritten(
      as: string,
      body: Record<string, unknown>,
      status: number,
      headers: Record<string, string> = {},
    ): Promise<Response> {
      const before = await snapshot(app, meeting.id);
      const res = await app
        .as(as, 'post', `/meetings/${meeting.id}/outcomes`)
        .set(headers)
        .send(body);
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(await snapshot(app, meeting.id)).toEqual(before);
      return res;
    }

    it('the valid outcome itself is accepted (control)', async () => {
      const control = await createMeeting(app);
      const item = await addAgendaItem(app, control.id);
      const body = valid();
      body.agendaOutcomes[0].agendaItemId = item.id;
      const res = await app
        .as('sec.in', 'post', `/meetings/${control.id}/outcomes`)
        .send(body)
        .expect(201);
      expect(res.body.actionItems).toHaveLength(2);
      expect(res.body.meeting.decisions).toHaveLength(1);
    });

    it('an unknown attendee id -> 400 attendees[1]', async () => {
      const res = await expectNothingWritten(
        'sec.in',
        { ...valid(), attendees: [dsaIn, randomUUID()] },
        400,
      );
      expect(errorFields(res)).toEqual(['attendees[1]']);
    });

    it('an agenda item of another meeting -> 400 agendaOutcomes[0].agendaItemId', async () => {
      const res = await expectNothingWritten(
        'sec.in',
        {
          ...valid(),
          agendaOutcomes: [{ agendaItemId: otherItem.id, status: 'discussed', outcome: 'x' }],
        },
        400,
      );
      expect(errorFields(res)).toEqual(['agendaOutcomes[0].agendaItemId']);
    });

    it('an agenda item the caller cannot see -> 400, as if it did not exist', async () => {
      const res = await expectNothingWritten(
        'sec.in',
        {
          ...valid(),
          agendaOutcomes: [
            { agendaItemId: ownItem.id, status: 'discussed' },
            { agendaItemId: usOnlyItem.id, status: 'discussed' },
          ],
        },
        400,
      );
      expect(errorFields(res)).toEqual(['agendaOutcomes[1].agendaItemId']);
    });

    it('an action item with an unknown owner -> 400 actionItems[1].ownerId', async () => {
      const res = await expectNothingWritten(
        'sec.in',
        { ...valid(), actionItems: [actionItem(), actionItem({ ownerId: randomUUID() })] },
        400,
      );
      expect(errorFields(res)).toEqual(['actionItems[1].ownerId']);
    });

    it("an action item in the other delegation's visibility -> 403 naming it", async () => {
      const res = await expectNothingWritten(
        'sec.in',
        {
          ...valid(),
          actionItems: [actionItem(), actionItem({ ownerId: delegateUs, visibility: 'US' })],
        },
        403,
      );
      expect(res.body.detail).toContain('actionItems[1]');
    });

    it('an invalid due date -> 400 actionItems[1].dueDate', async () => {
      const res = await expectNothingWritten(
        'sec.in',
        { ...valid(), actionItems: [actionItem(), actionItem({ dueDate: '2022-02-30' })] },
        400,
      );
      expect(errorFields(res)).toEqual(['actionItems[1].dueDate']);
    });

    it('every bad part is named at once, 400 before 403', async () => {
      const res = await expectNothingWritten(
        'sec.in',
        {
          ...valid(),
          attendees: [randomUUID()],
          actionItems: [
            actionItem({ ownerId: delegateUs, visibility: 'US' }),
            actionItem({ ownerId: randomUUID() }),
          ],
        },
        400,
      );
      expect(errorFields(res).sort()).toEqual(['actionItems[1].ownerId', 'attendees[0]']);
    });

    it('a cancelled meeting -> 409', async () => {
      const cancelled = await createMeeting(app);
      await setMeetingStatus(app, cancelled.id, 'cancelled');
      const before = await snapshot(app, cancelled.id);
      const res = await app
        .as('sec.in', 'post', `/meetings/${cancelled.id}/outcomes`)
        .send({ ...valid(), agendaOutcomes: [] })
        .expect(409);
      expect(res.body.status).toBe(409);
      expect(await snapshot(app, cancelled.id)).toEqual(before);
    });

    it('agreed minutes -> 409', async () => {
      const agreed = await createMeeting(app);
      await app
        .as('sec.in', 'put', `/meetings/${agreed.id}/minutes`)
        .send({ text: 'Agreed text' })
        .expect(200);
      await app.as('sec.in', 'post', `/meetings/${agreed.id}/minutes/circulate`).expect(200);
      await app.as('dsa.in', 'post', `/meetings/${agreed.id}/minutes/approve`).expect(200);
      await app.as('dsa.us', 'post', `/meetings/${agreed.id}/minutes/approve`).expect(200);
      const before = await snapshot(app, agreed.id);
      for (const body of [{ ...valid(), agendaOutcomes: [] }, { decisions: ['Late'] }]) {
        await app.as('sec.in', 'post', `/meetings/${agreed.id}/outcomes`).send(body).expect(409);
      }
      expect(await snapshot(app, agreed.id)).toEqual(before);
    });

    it('If-Match that does not match -> 412', async () => {
      await expectNothingWritten('sec.in', valid(), 412, { 'if-match': '"9"' });
      const ok = await app
        .as('sec.in', 'post', `/meetings/${meeting.id}/outcomes`)
        .set('if-match', `"${meeting.version}"`)
        .send(valid())
        .expect(201);
      expect(ok.body.meeting.status).toBe('held');
    });
  });

  it('of two racing outcomes with the same If-Match, one is logged and the other is 412', async () => {
    const meeting = await createMeeting(app);
    const race = await Promise.all(
      ['sec.in', 'sec.us'].map((user) =>
        app
          .as(user, 'post', `/meetings/${meeting.id}/outcomes`)
          .set('if-match', '"1"')
          .send({ decisions: [`Decided by ${user}`], actionItems: [actionItem()] }),
      ),
    );
    expect(race.map((r) => r.status).sort()).toEqual([201, 412]);
    const stored = await app.as('observer.in', 'get', `/meetings/${meeting.id}`).expect(200);
    expect(stored.body.decisions).toHaveLength(1);
    expect(await count(app, 'action_items', 'meeting_id = ?', [meeting.id])).toBe(1);
  });

  it('a retry with the same Idempotency-Key logs the outcome once', async () => {
    const meeting = await createMeeting(app);
    const body = {
      attendees: [dsaIn],
      decisions: ['Logged once'],
      actionItems: [actionItem()],
      minutes: 'Once.',
    };
    const first = await app
      .as('sec.us', 'post', `/meetings/${meeting.id}/outcomes`)
      .set('idempotency-key', `outcome-${meeting.id}`)
      .send(body)
      .expect(201);
    const before = await snapshot(app, meeting.id);
    const retry = await app
      .as('sec.us', 'post', `/meetings/${meeting.id}/outcomes`)
      .set('idempotency-key', `outcome-${meeting.id}`)
      .send(body)
      .expect(201);
    expect(retry.body).toEqual(first.body);
    expect(await snapshot(app, meeting.id)).toEqual(before);
    expect(retry.body.meeting.decisions).toEqual([{ code: 'D-1', text: 'Logged once' }]);
  });
});

describe('minutes', () => {
  let app: TestApp;
  let dsaIn: string;
  let dsaUs: string;
  beforeAll(async () => {
    app = await createTestApp();
    dsaIn = await app.userId('dsa.in');
    dsaUs = await app.userId('dsa.us');
  });
  afterAll(() => app.close());

  const put = (id: string, text: string, as = 'sec.in') =>
    app.as(as, 'put', `/meetings/${id}/minutes`).send({ text });
  const circulate = (id: string, as = 'sec.in') =>
    app.as(as, 'post', `/meetings/${id}/minutes/circulate`);
  const approve = (id: string, as: string, body: Record<string, unknown> = {}) =>
    app.as(as, 'post', `/meetings/${id}/minutes/approve`).send(body);

  it('PUT writes the draft: none -> draft, 200 with the meeting', async () => {
    const meeting = await createMeeting(app);
    const res = await put(meeting.id, 'Draft minutes.').expect(200);
    expect(res.body).toMatchObject({
      id: meeting.id,
      number: meeting.number,
      status: 'planned',
      minutes: { status: 'draft', text: 'Draft minutes.', approvals: [] },
      version: 2,
    });
    expect(res.headers.etag).toBe('"2"');
    const again = await put(meeting.id, 'Second draft.', 'dsa.us').expect(200);
    expect(again.body.minutes).toEqual({ status: 'draft', text: 'Second draft.', approvals: [] });
    await put(meeting.id, 'Stale').set('if-match', '"2"').expect(412);
    for (const user of NOT_MEETING_MANAGERS) {
      const denied = await put(meeting.id, 'Not mine', user);
      expect({ user, status: denied.status }).toEqual({ user, status: 403 });
    }
    await app
      .as('sec.in', 'put', `/meetings/${meeting.id}/minutes`)
      .send({ text: 'x', status: 'agreed' })
      .expect(400);
    await put(randomUUID(), 'Nowhere').expect(404);
    const stored = await app.as('observer.in', 'get', `/meetings/${meeting.id}`).expect(200);
    expect(stored.body.minutes.text).toBe('Second draft.');
  });

  it('circulates a draft only: none -> 409, draft -> circulated', async () => {
    const meeting = await createMeeting(app);
    await circulate(meeting.id).expect(409);
    await put(meeting.id, 'Draft').expect(200);
    for (const user of NOT_MEETING_MANAGERS) {
      const denied = await circulate(meeting.id, user);
      expect({ user, status: denied.status }).toEqual({ user, status: 403 });
    }
    const res = await circulate(meeting.id, 'dsa.us').expect(200);
    expect(res.body.minutes).toEqual({ status: 'circulated', text: 'Draft', approvals: [] });
    await circulate(meeting.id).expect(409);
  });

  it('is agreed once each DSA has approved for their own side', async () => {
    const meeting = await createMeeting(app);
    await put(meeting.id, 'Minutes').expect(200);
    await approve(meeting.id, 'dsa.in').expect(409); // a draft is not yet circulated
    await circulate(meeting.id).expect(200);

    await approve(meeting.id, 'sec.in').expect(403);
    await approve(meeting.id, 'sec.us').expect(403);
    await approve(meeting.id, 'admin').expect(403);
    await approve(meeting.id, 'dsa.us', { delegation: 'IN' }).expect(403);
    await approve(meeting.id, 'dsa.in', { delegation: 'US' }).expect(403);
    await approve(meeting.id, 'dsa.in', { delegation: 'UK' }).expect(400);

    const half = await approve(meeting.id, 'dsa.in').expect(200);
    expect(half.body.minutes).toEqual({
      status: 'circulated',
      text: 'Minutes',
      approvals: [{ delegation: 'IN', userId: dsaIn, at: expect.any(String) }],
    });
    await approve(meeting.id, 'dsa.in').expect(409);
    await approve(meeting.id, 'dsa.in', { delegation: 'IN' }).expect(409);

    const agreed = await approve(meeting.id, 'dsa.us', { delegation: 'US' }).expect(200);
    expect(agreed.body.minutes).toEqual({
      status: 'agreed',
      text: 'Minutes',
      approvals: [
        { delegation: 'IN', userId: dsaIn, at: expect.any(String) },
        { delegation: 'US', userId: dsaUs, at: expect.any(String) },
      ],
    });
    expect(await count(app, 'minutes_approvals', 'meeting_id = ?', [meeting.id])).toBe(2);
  });

  it('editing circulated minutes clears the approvals and returns them to draft', async () => {
    const meeting = await createMeeting(app);
    await put(meeting.id, 'First').expect(200);
    await circulate(meeting.id).expect(200);
    await approve(meeting.id, 'dsa.us').expect(200);
    expect(await count(app, 'minutes_approvals', 'meeting_id = ?', [meeting.id])).toBe(1);

    const edited = await put(meeting.id, 'Corrected').expect(200);
    expect(edited.body.minutes).toEqual({ status: 'draft', text: 'Corrected', approvals: [] });
    expect(await count(app, 'minutes_approvals', 'meeting_id = ?', [meeting.id])).toBe(0);

    // The cycle starts again: both sides have to approve the corrected text.
    await circulate(meeting.id).expect(200);
    const us = await approve(meeting.id, 'dsa.us').expect(200);
    expect(us.body.minutes.status).toBe('circulated');
    const both = await approve(meeting.id, 'dsa.in').expect(200);
    expect(both.body.minutes.status).toBe('agreed');
  });

  it('locks agreed minutes: PUT, circulate and approve are 409', async () => {
    const meeting = await createMeeting(app);
    await put(meeting.id, 'Final').expect(200);
    await circulate(meeting.id).expect(200);
    await approve(meeting.id, 'dsa.in').expect(200);
    const agreed = await approve(meeting.id, 'dsa.us').expect(200);
    expect(agreed.body.minutes.status).toBe('agreed');

    await put(meeting.id, 'Rewritten').expect(409);
    await circulate(meeting.id).expect(409);
    await approve(meeting.id, 'dsa.in').expect(409);
    await approve(meeting.id, 'dsa.us').expect(409);
    const stored = await app.as('observer.us', 'get', `/meetings/${meeting.id}`).expect(200);
    expect(stored.body).toMatchObject({
      version: agreed.body.version,
      minutes: { status: 'agreed', text: 'Final' },
    });
  });

  it('refuses minutes on a cancelled meeting with 409', async () => {
    const meeting = await createMeeting(app);
    await put(meeting.id, 'Draft').expect(200);
    await setMeetingStatus(app, meeting.id, 'cancelled');
    await put(meeting.id, 'Edited').expect(409);
    await circulate(meeting.id).expect(409);
    const stored = await app.as('observer.us', 'get', `/meetings/${meeting.id}`).expect(200);
    expect(stored.body.minutes).toEqual({ status: 'draft', text: 'Draft', approvals: [] });
  });
});

describe('agenda items', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('appends positions and lists the agenda in position order', async () => {
    const meeting = await createMeeting(app);
    const first = await addAgendaItem(app, meeting.id, { title: 'First' });
    const second = await addAgendaItem(app, meeting.id, { title: 'Second' }, 'dsa.us');
    const third = await addAgendaItem(app, meeting.id, { title: 'Third', leadDelegation: 'US' });
    expect([first.position, second.position, third.position]).toEqual([1, 2, 3]);
    expect(first).toEqual({
      id: expect.any(String),
      meetingId: meeting.id,
      position: 1,
      title: 'First',
      description: '',
      leadDelegation: null,
      policyItemId: null,
      status: 'pending',
      outcome: null,
      carriedFromId: null,
      visibility: 'joint',
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });

    await app.as('sec.us', 'patch', `/agenda-items/${first.id}`).send({ position: 4 }).expect(200);
    const agenda = await agendaOf(app, meeting.id, 'observer.in');
    expect(agenda.map((a) => [a.title, a.position])).toEqual([
      ['Second', 2],
      ['Third', 3],
      ['First', 4],
    ]);
    const fourth = await addAgendaItem(app, meeting.id, { title: 'Fourth' });
    expect(fourth.position).toBe(5);

    const page = await app
      .as('observer.us', 'get', `/meetings/${meeting.id}/agenda-items?limit=3`)
      .expect(200);
    expect(page.body.data.map((a: { title: string }) => a.title)).toEqual([
      'Second',
      'Third',
      'First',
    ]);
    const rest = await app
      .as(
        'observer.us',
        'get',
        `/meetings/${meeting.id}/agenda-items?limit=3&cursor=${page.body.nextCursor}`,
      )
      .expect(200);
    expect(rest.body).toMatchObject({ data: [{ title: 'Fourth' }], nextCursor: null });
    await app.as('observer.us', 'get', `/meetings/${meeting.id}/agenda-items?limit=0`).expect(400);
    await app.as('observer.us', 'get', `/meetings/${meeting.id}/agenda-items?q=x`).expect(400);
  });

  it('PATCH changes status, outcome and position under If-Match', async () => {
    const meeting = await createMeeting(app);
    const item = await addAgendaItem(app, meeting.id);
    const got = await app.as('delegate.us', 'get', `/agenda-items/${item.id}`).expect(200);
    expect(got.headers.etag).toBe('"1"');
    const res = await app
      .as('dsa.in', 'patch', `/agenda-items/${item.id}`)
      .set('if-match', got.headers.etag)
      .send({ status: 'discussed', outcome: 'Agreed to proceed', position: 7 })
      .expect(200);
    expect(res.body).toMatchObject({
      status: 'discussed',
      outcome: 'Agreed to proceed',
      position: 7,
      version: 2,
    });
    expect(res.headers.etag).toBe('"2"');
    await app
      .as('sec.us', 'patch', `/agenda-items/${item.id}`)
      .set('if-match', '"1"')
      .send({ status: 'deferred' })
      .expect(412);
    for (const body of [{ status: 'closed' }, { position: 0 }, { meetingId: meeting.id }]) {
      const bad = await app.as('sec.us', 'patch', `/agenda-items/${item.id}`).send(body);
      expect({ body, status: bad.status }).toEqual({ body, status: 400 });
    }
    for (const user of NOT_MEETING_MANAGERS) {
      const denied = await app
        .as(user, 'patch', `/agenda-items/${item.id}`)
        .send({ status: 'withdrawn' });
      expect({ user, status: denied.status }).toEqual({ user, status: 403 });
    }
    const stored = await app.as('observer.us', 'get', `/agenda-items/${item.id}`).expect(200);
    expect(stored.body).toMatchObject({ status: 'discussed', version: 2 });
  });

  it('404 for an unknown meeting or agenda item; 403 for roles that cannot plan', async () => {
    const unknown = randomUUID();
    await app.as('sec.in', 'get', `/meetings/${unknown}/agenda-items`).expect(404);
    await app
      .as('sec.in', 'post', `/meetings/${unknown}/agenda-items`)
      .send({ title: 'Lost' })
      .expect(404);
    await app.as('sec.in', 'get', `/agenda-items/${unknown}`).expect(404);
    await app
      .as('sec.in', 'patch', `/agenda-items/${unknown}`)
      .send({ status: 'discussed' })
      .expect(404);
    const meeting = await createMeeting(app);
    for (const user of NOT_MEETING_MANAGERS) {
      const res = await app
        .as(user, 'post', `/meetings/${meeting.id}/agenda-items`)
        .send({ title: 'Not mine' });
      expect({ user, status: res.status }).toEqual({ user, status: 403 });
    }
    expect(await count(app, 'agenda_items', 'meeting_id = ?', [meeting.id])).toBe(0);
  });

  it('hides an IN-only item from the US side and admin: absent from the list, 404 by id', async () => {
    const meeting = await createMeeting(app);
    const joint = await addAgendaItem(app, meeting.id, { title: 'Joint' });
    const secret = await addAgendaItem(app, meeting.id, {
      title: 'India only',
      visibility: 'IN',
      leadDelegation: 'IN',
    });
    expect(secret).toMatchObject({ visibility: 'IN', position: 2 });

    for (const user of ['dsa.in', 'sec.in', 'delegate.in', 'observer.in']) {
      const agenda = await agendaOf(app, meeting.id, user);
      expect({ user, ids: agenda.map((a) => a.id) }).toEqual({ user, ids: [joint.id, secret.id] });
      await app.as(user, 'get', `/agenda-items/${secret.id}`).expect(200);
    }
    for (const user of ['dsa.us', 'sec.us', 'delegate.us', 'observer.us', 'admin']) {
      const agenda = await agendaOf(app, meeting.id, user);
      expect({ user, ids: agenda.map((a) => a.id) }).toEqual({ user, ids: [joint.id] });
      const res = await app.as(user, 'get', `/agenda-items/${secret.id}`);
      expect({ user, status: res.status }).toEqual({ user, status: 404 });
    }
    for (const user of ['dsa.us', 'sec.us']) {
      const res = await app
        .as(user, 'patch', `/agenda-items/${secret.id}`)
        .send({ status: 'withdrawn' });
      expect({ user, status: res.status }).toEqual({ user, status: 404 });
    }
    const stored = await app.as('sec.in', 'get', `/agenda-items/${secret.id}`).expect(200);
    expect(stored.body).toMatchObject({ status: 'pending', version: 1 });
  });

  it("refuses placing an item in the other delegation's view with 403", async () => {
    const meeting = await createMeeting(app);
    const joint = await addAgendaItem(app, meeting.id);
    await app
      .as('sec.us', 'post', `/meetings/${meeting.id}/agenda-items`)
      .send({ title: 'For India', visibility: 'IN' })
      .expect(403);
    await app
      .as('dsa.in', 'post', `/meetings/${meeting.id}/agenda-items`)
      .send({ title: 'For the US', visibility: 'US' })
      .expect(403);
    await app
      .as('sec.us', 'patch', `/agenda-items/${joint.id}`)
      .send({ visibility: 'IN' })
      .expect(403);
    expect(await count(app, 'agenda_items', 'meeting_id = ?', [meeting.id])).toBe(1);
  });

  it('never makes a joint item delegation-only again (409) but releases one to joint', async () => {
    const meeting = await createMeeting(app);
    const joint = await addAgendaItem(app, meeting.id);
    await app
      .as('sec.in', 'patch', `/agenda-items/${joint.id}`)
      .send({ visibility: 'IN' })
      .expect(409);
    const stillJoint = await app.as('sec.us', 'get', `/agenda-items/${joint.id}`).expect(200);
    expect(stillJoint.body).toMatchObject({ visibility: 'joint', version: 1 });

    const secret = await addAgendaItem(app, meeting.id, { title: 'Released', visibility: 'IN' });
    await app.as('dsa.us', 'get', `/agenda-items/${secret.id}`).expect(404);
    const released = await app
      .as('dsa.in', 'patch', `/agenda-items/${secret.id}`)
      .send({ visibility: 'joint' })
      .expect(200);
    expect(released.body).toMatchObject({ visibility: 'joint', version: 2 });
    const seen = await app.as('dsa.us', 'get', `/agenda-items/${secret.id}`).expect(200);
    expect(seen.body.title).toBe('Released');
    const agenda = await agendaOf(app, meeting.id, 'observer.us');
    expect(agenda.map((a) => a.id)).toEqual([joint.id, secret.id]);
    await app
      .as('sec.in', 'patch', `/agenda-items/${secret.id}`)
      .send({ visibility: 'IN' })
      .expect(409);
  });

  it('refuses a joint agenda item that refers to an IN-only policy item (400)', async () => {
    const meeting = await createMeeting(app);
    const policy = await app
      .as('sec.in', 'post', '/policy-items')
      .send({ title: 'India-only policy question', visibility: 'IN' })
      .expect(201);
    expect(policy.body.visibility).toBe('IN');

    const joint = await app
      .as('sec.in', 'post', `/meetings/${meeting.id}/agenda-items`)
      .send({ title: 'Refers to it', policyItemId: policy.body.id })
      .expect(400);
    expect(errorFields(joint)).toEqual(['policyItemId']);
    const unseen = await app
      .as('sec.us', 'post', `/meetings/${meeting.id}/agenda-items`)
      .send({ title: 'Refers to it', policyItemId: policy.body.id })
      .expect(400);
    expect(errorFields(unseen)).toEqual(['policyItemId']);
    const unknown = await app
      .as('sec.in', 'post', `/meetings/${meeting.id}/agenda-items`)
      .send({ title: 'Refers to nothing', policyItemId: randomUUID() })
      .expect(400);
    expect(errorFields(unknown)).toEqual(['policyItemId']);

    const inOnly = await addAgendaItem(app, meeting.id, {
      title: 'Refers to it, India only',
      visibility: 'IN',
      policyItemId: policy.body.id,
    });
    expect(inOnly.policyItemId).toBe(policy.body.id);
    const release = await app
      .as('sec.in', 'patch', `/agenda-items/${inOnly.id}`)
      .send({ visibility: 'joint' })
      .expect(400);
    expect(errorFields(release)).toEqual(['policyItemId']);

    const plain = await addAgendaItem(app, meeting.id, { title: 'Joint' });
    const point = await app
      .as('sec.in', 'patch', `/agenda-items/${plain.id}`)
      .send({ policyItemId: policy.body.id })
      .expect(400);
    expect(errorFields(point)).toEqual(['policyItemId']);
    expect(await count(app, 'agenda_items', 'policy_item_id = ?', [policy.body.id])).toBe(1);
  });

  it('requires the lead of a delegation-only item to be that delegation (400)', async () => {
    const meeting = await createMeeting(app);
    const res = await app
      .as('sec.in', 'post', `/meetings/${meeting.id}/agenda-items`)
      .send({ title: 'India only, US lead', visibility: 'IN', leadDelegation: 'US' })
      .expect(400);
    expect(errorFields(res)).toEqual(['leadDelegation']);
    const item = await addAgendaItem(app, meeting.id, { visibility: 'IN', leadDelegation: 'IN' });
    const moved = await app
      .as('sec.in', 'patch', `/agenda-items/${item.id}`)
      .send({ leadDelegation: 'US' })
      .expect(400);
    expect(errorFields(moved)).toEqual(['leadDelegation']);
    // Released to joint, either side may lead it.
    const released = await app
      .as('sec.in', 'patch', `/agenda-items/${item.id}`)
      .send({ visibility: 'joint', leadDelegation: 'US' })
      .expect(200);
    expect(released.body).toMatchObject({ visibility: 'joint', leadDelegation: 'US' });
  });
});

describe('Idempotency-Key on POST /meetings', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('replays the first response for a retry with the same key and body, creating nothing', async () => {
    const body = { ...MEETING, title: 'Idempotent meeting' };
    const first = await app
      .as('sec.in', 'post', '/meetings')
      .set('idempotency-key', 'create-meeting-1')
      .send(body)
      .expect(201);
    const before = await count(app, 'meetings');
    // Key order does not make another body.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const retry = await app
      .as('sec.in', 'post', '/meetings')
      .set('idempotency-key', 'create-meeting-1')
      .send(reordered)
      .expect(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers['idempotency-replayed']).toBe('true');
    expect(await count(app, 'meetings')).toBe(before);
    expect(await count(app, 'meetings', 'title = ?', ['Idempotent meeting'])).toBe(1);
  });

  it('answers 409 for the same key with another body', async () => {
    await app
      .as('sec.us', 'post', '/meetings')
      .set('idempotency-key', 'create-meeting-2')
      .send({ ...MEETING, title: 'Original' })
      .expect(201);
    const before = await count(app, 'meetings');
    const res = await app
      .as('sec.us', 'post', '/meetings')
      .set('idempotency-key', 'create-meeting-2')
      .send({ ...MEETING, title: 'Changed' })
      .expect(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await count(app, 'meetings')).toBe(before);
    expect(await count(app, 'meetings', 'title = ?', ['Changed'])).toBe(0);
  });

  it('keeps keys per user: the same key from two users makes two meetings', async () => {
    const body = { ...MEETING, title: 'Shared key' };
    const before = await count(app, 'meetings');
    const india = await app
      .as('sec.in', 'post', '/meetings')
      .set('idempotency-key', 'shared-key')
      .send(body)
      .expect(201);
    const us = await app
      .as('dsa.us', 'post', '/meetings')
      .set('idempotency-key', 'shared-key')
      .send(body)
      .expect(201);
    expect(us.body.id).not.toBe(india.body.id);
    expect(us.body.number).toBe(india.body.number + 1);
    expect(us.headers['idempotency-replayed']).toBeUndefined();
    expect(await count(app, 'meetings')).toBe(before + 2);
  });

  it('a failed request stores nothing: the key can be used again', async () => {
    await app
      .as('sec.in', 'post', '/meetings')
      .set('idempotency-key', 'after-failure')
      .send({ ...MEETING, kind: 'summit' })
      .expect(400);
    const res = await app
      .as('sec.in', 'post', '/meetings')
      .set('idempotency-key', 'after-failure')
      .send({ ...MEETING, title: 'After a failure' })
      .expect(201);
    expect(res.body.title).toBe('After a failure');
  });

  it('a retried POST /meetings/next schedules one meeting', async () => {
    const first = await app
      .as('dsa.in', 'post', '/meetings/next')
      .set('idempotency-key', 'next-once')
      .expect(201);
    const before = await count(app, 'meetings');
    const retry = await app
      .as('dsa.in', 'post', '/meetings/next')
      .set('idempotency-key', 'next-once')
      .expect(201);
    expect(retry.body).toEqual(first.body);
    expect(await count(app, 'meetings')).toBe(before);
  });
});
