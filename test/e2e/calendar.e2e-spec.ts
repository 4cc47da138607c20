import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import ICAL from 'ical.js';
import { ACCOUNTS, API, createTestApp, type TestApp } from '../support/test-app.js';

/** What a calendar client sees of one VEVENT. */
interface FeedEvent {
  uid: string;
  sequence: number;
  summary: string;
  location: string | null;
  start: string;
  end: string;
  allDay: boolean;
  /** Each VALARM's trigger, in seconds relative to the start (negative: before). */
  alarmTriggers: number[];
}

const FEED_PATH = new RegExp(`^${API}/calendar/([A-Za-z0-9_-]{43})\\.ics$`);
const MEETING_1_TITLE = 'Industrial Security Agreement (ISA) Summit';

/** Parses an RFC 5545 text with ical.js, as a calendar client would. */
function parseFeed(text: string): FeedEvent[] {
  const calendar = new ICAL.Component(ICAL.parse(text));
  expect(calendar.name).toBe('vcalendar');
  return calendar.getAllSubcomponents('vevent').map((component) => {
    const event = new ICAL.Event(component);
    return {
      uid: event.uid,
      sequence: event.sequence,
      summary: event.summary,
      location: event.location ?? null,
      start: event.startDate.toString(),
      end: event.endDate.toString(),
      allDay: event.startDate.isDate && event.endDate.isDate,
      alarmTriggers: component.getAllSubcomponents('valarm').map((alarm) => {
        const trigger = alarm.getFirstPropertyValue('trigger');
        if (!(trigger instanceof ICAL.Duration)) {
          throw new Error(`VALARM trigger is not a duration: ${String(trigger)}`);
        }
        return trigger.toSeconds();
      }),
    };
  });
}

describe('calendar feeds', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  /** Issues a feed for the user; returns the path of its URL. */
  async function issueFeed(username: string): Promise<string> {
    const res = await app.as(username, 'post', '/me/calendar-feed').expect(201);
    const path = new URL(res.body.url as string).pathname;
    expect(path).toMatch(FEED_PATH);
    return path;
  }

  /** Fetches a feed as a calendar client does: no Authorization header. */
  async function fetchFeed(path: string): Promise<FeedEvent[]> {
    const res = await app.http.get(path).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/calendar\b/);
    return parseFeed(res.text);
  }

  async function feedOf(username: string): Promise<FeedEvent[]> {
    return fetchFeed(await issueFeed(username));
  }

  async function expectNoFeed(path: string): Promise<void> {
    const res = await app.http.get(path).expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 404, title: 'Not Found' });
    expect(res.text).not.toContain('BEGIN:VCALENDAR');
  }

  const withSummary = (events: FeedEvent[], text: string) =>
    events.filter((e) => e.summary.includes(text));

  async function createItem(
    creator: string,
    owner: string,
    title: string,
    dueDate: string,
    visibility: 'joint' | 'IN' | 'US' = 'joint',
  ): Promise<string> {
    const res = await app
      .as(creator, 'post', '/action-items')
      .send({ title, ownerId: await app.userId(owner), dueDate, visibility })
      .expect(201);
    return res.body.id as string;
  }

  it('issues every role a feed URL that opens without a bearer token', async () => {
    for (const account of ACCOUNTS) {
      const res = await app.as(account, 'post', '/me/calendar-feed').expect(201);
      expect(Object.keys(res.body)).toEqual(['url']);
      expect(res.headers['cache-control']).toBe('no-store');
      const url = new URL(res.body.url as string);
      expect(url.protocol).toMatch(/^https?:$/);
      expect(url.search).toBe('');
      expect(url.pathname).toMatch(FEED_PATH);

      const feed = await app.http.get(url.pathname).expect(200);
      expect(feed.headers['content-type']).toMatch(/^text\/calendar\b/);
      expect(feed.text).toMatch(/^BEGIN:VCALENDAR\r\n/);
      const events = parseFeed(feed.text);
      expect(events.length).toBeGreaterThan(0);
      expect(withSummary(events, MEETING_1_TITLE)).toHaveLength(1);
    }
  });

  it('rejects an anonymous request for a new feed', async () => {
    await app.http.post(`${API}/me/calendar-feed`).expect(401);
  });

  it('shows meeting 1 as an all-day event with an alarm a day before', async () => {
    const [meeting] = withSummary(await feedOf('observer.in'), MEETING_1_TITLE);
    expect(meeting).toMatchObject({
      allDay: true,
      start: '2021-09-27',
      // DTEND of an all-day event is exclusive: the day after endsOn 2021-10-01.
      end: '2021-10-02',
      location: 'New Delhi',
    });
    expect(meeting.alarmTriggers).toEqual([-86400]);
  });

  it('leaves out cancelled meetings and shows planned ones', async () => {
    const meeting = async (title: string, startsOn: string, endsOn: string) =>
      (
        await app
          .as('sec.in', 'post', '/meetings')
          .send({
            title,
            kind: 'intersessional',
            startsOn,
            endsOn,
            location: 'Washington, DC',
            hostDelegation: 'US',
          })
          .expect(201)
      ).body as { id: string };
    await meeting('Calendar planned session', '2031-03-10', '2031-03-11');
    const cancelled = await meeting('Calendar cancelled session', '2031-04-14', '2031-04-15');
    await app
      .as('sec.us', 'patch', `/meetings/${cancelled.id}`)
      .send({ status: 'cancelled' })
      .expect(200);

    for (const account of ['delegate.us', 'observer.in', 'admin']) {
      const events = await feedOf(account);
      expect(withSummary(events, 'Calendar planned session')).toEqual([
        expect.objectContaining({
          allDay: true,
          start: '2031-03-10',
          end: '2031-03-12',
          location: 'Washington, DC',
          alarmTriggers: [-86400],
        }),
      ]);
      expect(withSummary(events, 'Calendar cancelled session')).toEqual([]);
    }
  });

  it("shows the caller's open action items on their due dates, and no one else's", async () => {
    await createItem('sec.us', 'delegate.us', 'Cal open item of delegate.us', '2031-05-02');
    const progressing = await createItem(
      'sec.us',
      'delegate.us',
      'Cal progressing item of delegate.us',
      '2031-05-09',
    );
    await app
      .as('delegate.us', 'patch', `/action-items/${progressing}`)
      .send({ status: 'in_progress' })
      .expect(200);
    const done = await createItem(
      'sec.us',
      'delegate.us',
      'Cal done item of delegate.us',
      '2031-05-03',
    );
    await app
      .as('delegate.us', 'patch', `/action-items/${done}`)
      .send({ status: 'done' })
      .expect(200);
    const cancelled = await createItem(
      'sec.us',
      'delegate.us',
      'Cal cancelled item of delegate.us',
      '2031-05-04',
    );
    await app
      .as('sec.us', 'patch', `/action-items/${cancelled}`)
      .send({ status: 'cancelled' })
      .expect(200);
    await createItem('sec.in', 'delegate.in', 'Cal joint item of delegate.in', '2031-05-05');

    const mine = await feedOf('delegate.us');
    expect(withSummary(mine, 'Cal open item of delegate.us')).toEqual([
      expect.objectContaining({ allDay: true, start: '2031-05-02', end: '2031-05-03' }),
    ]);
    expect(withSummary(mine, 'Cal progressing item of delegate.us')).toEqual([
      expect.objectContaining({ allDay: true, start: '2031-05-09', end: '2031-05-10' }),
    ]);
    expect(withSummary(mine, 'Cal done item')).toEqual([]);
    expect(withSummary(mine, 'Cal cancelled item')).toEqual([]);
    expect(withSummary(mine, 'Cal joint item of delegate.in')).toEqual([]);

    // Someone else's items are not in a feed, not even for the secretariat that assigned them.
    for (const account of ['delegate.in', 'sec.us', 'dsa.us', 'admin']) {
      expect(withSummary(await feedOf(account), 'of delegate.us')).toEqual([]);
    }
    expect(withSummary(await feedOf('delegate.in'), 'Cal joint item of delegate.in')).toHaveLength(
      1,
    );
  });

  it("shows an IN-only item to its IN owner, never in a US user's or admin's feed", async () => {
    await createItem('sec.in', 'delegate.in', 'Cal IN-only item', '2031-06-20', 'IN');
    expect(withSummary(await feedOf('delegate.in'), 'Cal IN-only item')).toEqual([
      expect.objectContaining({ allDay: true, start: '2031-06-20', end: '2031-06-21' }),
    ]);
    for (const account of ACCOUNTS.filter((a) => a === 'admin' || a.endsWith('.us'))) {
      const res = await app.http.get(await issueFeed(account)).expect(200);
      expect(res.text).not.toContain('IN-only');
    }
  });

  it('keeps event UIDs stable across fetches and rotations', async () => {
    await createItem('sec.us', 'observer.us', 'Cal stable item', '2031-07-01');
    const path = await issueFeed('observer.us');
    const first = await fetchFeed(path);
    const second = await fetchFeed(path);
    const rotated = await feedOf('observer.us');
    const uids = (events: FeedEvent[]) => events.map((e) => e.uid).sort();
    expect(new Set(uids(first)).size).toBe(first.length);
    expect(first.every((e) => e.uid.length > 0)).toBe(true);
    expect(uids(second)).toEqual(uids(first));
    expect(uids(rotated)).toEqual(uids(first));
    expect(withSummary(first, 'Cal stable item')).toHaveLength(1);
  });

  it('keeps the UID of a changed item and raises its SEQUENCE', async () => {
    const id = await createItem('sec.us', 'observer.us', 'Cal moved item', '2031-07-02');
    const path = await issueFeed('observer.us');
    const [before] = withSummary(await fetchFeed(path), 'Cal moved item');
    await app
      .as('sec.us', 'patch', `/action-items/${id}`)
      .send({ dueDate: '2031-07-09' })
      .expect(200);
    const [after] = withSummary(await fetchFeed(path), 'Cal moved item');
    expect(after).toMatchObject({ uid: before.uid, start: '2031-07-09', end: '2031-07-10' });
    expect(after.sequence).toBeGreaterThan(before.sequence);
  });

  it('ends the old URL when a new one is issued', async () => {
    const old = await issueFeed('sec.in');
    await fetchFeed(old);
    const current = await issueFeed('sec.in');
    expect(current).not.toBe(old);
    await expectNoFeed(old);
    expect(withSummary(await fetchFeed(current), MEETING_1_TITLE)).toHaveLength(1);
    // The other users' feeds are untouched by sec.in's rotation.
    const others = await issueFeed('sec.us');
    await issueFeed('sec.in');
    await fetchFeed(others);
  });

  it('answers 404 for unknown, malformed and suffix-less tokens', async () => {
    const valid = FEED_PATH.exec(await issueFeed('dsa.in'))![1];
    const unknown = valid.startsWith('A') ? `B${valid.slice(1)}` : `A${valid.slice(1)}`;
    for (const path of [
      `${API}/calendar/${unknown}.ics`,
      `${API}/calendar/${'x'.repeat(43)}.ics`,
      `${API}/calendar/${valid.slice(1)}.ics`,
      `${API}/calendar/${valid}x.ics`,
      `${API}/calendar/${valid.slice(0, 42)}*.ics`,
      `${API}/calendar/${valid}`,
      `${API}/calendar/${valid}.ical`,
      `${API}/calendar/${valid}.ics.ics`,
      `${API}/calendar/.ics`,
    ]) {
      await expectNoFeed(path);
    }
    // The valid one still works, and a bearer token does not open anyone's feed.
    await fetchFeed(`${API}/calendar/${valid}.ics`);
    await app.as('dsa.in', 'get', `/calendar/${unknown}.ics`).expect(404);
  });

  it("closes a deactivated user's feed", async () => {
    const id = await app.createUser({
      username: 'cal.deactivated',
      role: 'delegate',
      delegation: 'US',
    });
    const path = await issueFeed('cal.deactivated');
    await fetchFeed(path);
    await app.as('admin', 'patch', `/users/${id}`).send({ active: false }).expect(200);
    await expectNoFeed(path);
  });

  it('never replays a feed URL for a repeated Idempotency-Key', async () => {
    const post = () =>
      app
        .as('delegate.in', 'post', '/me/calendar-feed')
        .set('idempotency-key', 'calendar-feed-retry')
        .expect(201);
    const first = await post();
    const second = await post();
    expect(second.headers['idempotency-replayed']).toBeUndefined();
    expect(second.body.url).not.toBe(first.body.url);
    await expectNoFeed(new URL(first.body.url as string).pathname);
    await fetchFeed(new URL(second.body.url as string).pathname);
  });
});

describe('calendar feed logging', () => {
  it('never writes the feed token to the logs', async () => {
    const written: string[] = [];
    const spy = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
        written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        // A writer that waits for its callback must not wait forever on the swallowed write.
        const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
        if (done) {
          process.nextTick(done);
        }
        return true;
      });
    let token: string;
    try {
      const app = await createTestApp({ LOG_LEVEL: 'info' });
      try {
        const res = await app.as('observer.us', 'post', '/me/calendar-feed').expect(201);
        const path = new URL(res.body.url as string).pathname;
        token = FEED_PATH.exec(path)![1];
        await app.http.get(path).expect(200);
        await app.http.get(`${path}?refresh=1`).expect(200);
        await app.http.head(path).expect(200);
        await app.http.get(path.replace('.ics', '')).expect(404);
        await app.http.get(`${path}/`).expect(404);
        await app.http.post(path).expect(404);
      } finally {
        await app.close();
      }
    } finally {
      spy.mockRestore();
    }
    const log = written.join('');
    // The feed requests were logged (by route), so the absence below means something.
    expect(log).toContain('"route":"/api/v1/calendar/:feed"');
    expect(log).toContain('"statusCode":404');
    expect(log).not.toContain(token);
    expect(log).not.toContain(token.slice(0, 16));
  });
});
