import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { Mailer } from '../../src/notifications/mailer.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/** One message as the SMTP server received it: the envelope and the headers and text. */
interface Received {
  mailFrom: string;
  rcptTo: string[];
  headers: Map<string, string>;
  text: string;
}

interface Item {
  id: string;
  code: string;
  title: string;
}

const FROM = 'JWG Reminders <reminders@jwg.example>';
const MESSAGE_ID =
  /^<reminder-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@jwg-tracker>$/;
const ADDRESSES = {
  'dsa.in': 'dsa@in.jwg.example',
  'delegate.in': 'delegate@in.jwg.example',
  'observer.in': 'observer@in.jwg.example',
  'dsa.us': 'dsa@us.jwg.example',
  'sec.us': 'secretariat@us.jwg.example',
  'delegate.us': 'delegate@us.jwg.example',
  'observer.us': 'observer@us.jwg.example',
} as const;
const US_ADDRESSES: string[] = [
  ADDRESSES['dsa.us'],
  ADDRESSES['sec.us'],
  ADDRESSES['delegate.us'],
  ADDRESSES['observer.us'],
];

/** Splits a raw RFC 5322 message into unfolded headers (lower-case names) and decoded text. */
function parseMessage(raw: string): { headers: Map<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  let text = raw.slice(split + 4);
  if (headers.get('content-transfer-encoding')?.toLowerCase() === 'quoted-printable') {
    text = text
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return { headers, text: text.replace(/\r\n/g, '\n') };
}

/**
 * A real SMTP server on loopback that keeps every accepted message, and refuses (451) the
 * first message a test marks for refusal, so that the sender has to retry.
 */
class Mailbox {
  readonly received: Received[] = [];
  readonly refused: Received[] = [];
  private refuseFirst: ((message: Received) => boolean) | null = null;
  readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, session, callback) => this.receive(stream, session, callback),
  });

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    return (this.server.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The next message that matches is answered with a temporary failure. */
  refuseOnce(match: (message: Received) => boolean): void {
    this.refuseFirst = match;
  }

  /** Accepted messages whose subject names the item. */
  about(item: Item): Received[] {
    return this.received.filter((m) => m.headers.get('subject')?.includes(item.code));
  }

  private receive(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (error?: Error | null) => void,
  ): void {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const message: Received = {
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        rcptTo: session.envelope.rcptTo.map((r) => r.address),
        ...parseMessage(Buffer.concat(chunks).toString('utf8')),
      };
      if (this.refuseFirst?.(message)) {
        this.refuseFirst = null;
        this.refused.push(message);
        callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 }));
        return;
      }
      this.received.push(message);
      callback();
    });
  }
}

describe('e-mail reminders over SMTP', () => {
  const mailbox = new Mailbox();
  let app: TestApp;

  beforeAll(async () => {
    const port = await mailbox.listen();
    app = await createTestApp({ SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_FROM: FROM });
    // The seeded record is years old: let a first pass deliver its reminders (escalations,
    // missing minutes) while nobody has an address, so each test sees only its own items.
    await run('2026-12-01T12:00:00Z');
    for (const [username, email] of Object.entries(ADDRESSES)) {
      await app
        .as('admin', 'patch', `/users/${await app.userId(username)}`)
        .send({ email })
        .expect(200);
    }
  });

  afterAll(async () => {
    await app?.close();
    await mailbox.close();
  });

  async function run(now: string): Promise<{ data: { subjectId: string }[]; hidden: number }> {
    const res = await app.as('admin', 'post', '/reminders/run').send({ now }).expect(200);
    return res.body;
  }

  async function createItem(
    as: string,
    owner: string,
    dueDate: string,
    extra: Record<string, unknown> = {},
  ): Promise<Item> {
    const res = await app
      .as(as, 'post', '/action-items')
      .send({ title: `Report on ${dueDate}`, ownerId: await app.userId(owner), dueDate, ...extra })
      .expect(201);
    return res.body as Item;
  }

  async function notificationsAbout(username: string, item: Item) {
    const res = await app.as(username, 'get', '/me/notifications?limit=100').expect(200);
    return (res.body.data as { subjectId: string; kind: string; title: string }[]).filter(
      (n) => n.subjectId === item.id,
    );
  }

  interface LedgerRow {
    id: string;
    recipientId: string;
    kind: string;
    emailState: string;
    emailAttempts: number;
  }

  function ledger(item: Item): Promise<LedgerRow[]> {
    return app.query<LedgerRow>(
      `SELECT id, recipient_id AS "recipientId", kind, email_state AS "emailState",
              email_attempts AS "emailAttempts"
       FROM reminders WHERE subject_id = ? ORDER BY created_at, id`,
      [item.id],
    );
  }

  it('mails the owner a due-soon reminder: envelope, From, Subject, text and Message-ID', async () => {
    const item = await createItem('sec.in', 'delegate.in', '2027-01-20');
    // 14:00 UTC is 19:30 in Kolkata, past 08:00 on the day seven days before the due date.
    const pass = await run('2027-01-13T14:00:00Z');
    expect(pass.data.filter((r) => r.subjectId === item.id)).toHaveLength(1);

    const mails = mailbox.about(item);
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail.rcptTo).toEqual([ADDRESSES['delegate.in']]);
    expect(mail.mailFrom).toBe('reminders@jwg.example');
    expect(mail.headers.get('from')).toBe(FROM);
    expect(mail.headers.get('to')).toBe(ADDRESSES['delegate.in']);
    expect(mail.headers.get('subject')).toBe(`[JWG] ${item.code} is due on 2027-01-20`);
    expect(mail.text).toContain(
      `Your action item ${item.code} "Report on 2027-01-20" is due on 2027-01-20.`,
    );
    expect(mail.text).toContain('-- JWG Tracker');
    const [reminder] = await ledger(item);
    expect(reminder).toMatchObject({ kind: 'action_due_soon', emailState: 'sent' });
    expect(mail.headers.get('message-id')).toMatch(MESSAGE_ID);
    expect(mail.headers.get('message-id')).toBe(`<reminder-${reminder.id}@jwg-tracker>`);

    const inApp = await notificationsAbout('delegate.in', item);
    expect(inApp).toEqual([
      expect.objectContaining({
        kind: 'action_due_soon',
        title: `${item.code} is due on 2027-01-20`,
      }),
    ]);
  });

  it('retries a refused message with the same Message-ID, notifying in-app once', async () => {
    const item = await createItem('sec.us', 'delegate.us', '2027-02-20');
    mailbox.refuseOnce((m) => m.headers.get('subject')?.includes(item.code) ?? false);
    // 15:00 UTC is 10:00 in New York.
    const first = await run('2027-02-13T15:00:00Z');
    expect(first.data.filter((r) => r.subjectId === item.id)).toHaveLength(1);
    expect(mailbox.refused).toHaveLength(1);
    const refused = mailbox.refused[0];
    expect(refused.rcptTo).toEqual([ADDRESSES['delegate.us']]);
    expect(refused.headers.get('message-id')).toMatch(MESSAGE_ID);
    expect(mailbox.about(item)).toHaveLength(0);
    expect(await ledger(item)).toEqual([
      expect.objectContaining({ emailState: 'pending', emailAttempts: 1 }),
    ]);

    const second = await run('2027-02-13T16:00:00Z');
    // The retry is e-mail only: the reminder itself was delivered by the first pass.
    expect(second.data.filter((r) => r.subjectId === item.id)).toHaveLength(0);
    const mails = mailbox.about(item);
    expect(mails).toHaveLength(1);
    expect(mails[0].rcptTo).toEqual([ADDRESSES['delegate.us']]);
    expect(mails[0].headers.get('message-id')).toBe(refused.headers.get('message-id'));
    expect(mails[0].headers.get('subject')).toBe(refused.headers.get('subject'));
    expect(await ledger(item)).toEqual([
      expect.objectContaining({ emailState: 'sent', emailAttempts: 2 }),
    ]);

    await run('2027-02-13T17:00:00Z');
    expect(mailbox.about(item)).toHaveLength(1);
    expect(await notificationsAbout('delegate.us', item)).toEqual([
      expect.objectContaining({ kind: 'action_due_soon' }),
    ]);
  });

  it('sends no mail to a user without an address, who still gets the in-app notification', async () => {
    const secIn = await app.userId('sec.in');
    const user = await app.as('admin', 'get', `/users/${secIn}`).expect(200);
    expect(user.body.email).toBeNull();
    const item = await createItem('dsa.in', 'sec.in', '2027-03-20');
    const received = mailbox.received.length;
    const refused = mailbox.refused.length;

    const pass = await run('2027-03-13T14:00:00Z');
    expect(pass.data.filter((r) => r.subjectId === item.id)).toHaveLength(1);
    expect(await notificationsAbout('sec.in', item)).toEqual([
      expect.objectContaining({ kind: 'action_due_soon' }),
    ]);
    expect(mailbox.about(item)).toHaveLength(0);
    expect(mailbox.refused).toHaveLength(refused);
    const later = mailbox.received.slice(received);
    expect(later.filter((m) => m.text.includes(item.code))).toEqual([]);
    // Nothing queued for a later pass either.
    expect(await ledger(item)).toEqual([
      expect.objectContaining({ recipientId: secIn, emailState: 'none', emailAttempts: 0 }),
    ]);
  });

  it('never mails a US address about an IN-only item, through due-soon, overdue and escalation', async () => {
    const item = await createItem('dsa.in', 'delegate.in', '2027-04-20', { visibility: 'IN' });
    expect(item.code).toMatch(/^AI-IN-/);
    const start = mailbox.received.length;
    let hidden = 0;
    for (const now of [
      '2027-04-13T14:00:00Z', // 7 days before
      '2027-04-19T14:00:00Z', // 1 day before
      '2027-04-21T14:00:00Z', // 1 day after
      '2027-05-04T14:00:00Z', // 14 days after: escalated to the IN DSA
    ]) {
      const pass = await run(now);
      // Admin does not see IN-only items: counted, never listed.
      expect(pass.data.filter((r) => r.subjectId === item.id)).toHaveLength(0);
      hidden += pass.hidden;
    }
    expect(hidden).toBe(5);

    const kinds = (await ledger(item)).map((r) => r.kind).sort();
    expect(kinds).toEqual([
      'action_due_soon',
      'action_due_soon',
      'action_escalated',
      'action_overdue',
      'action_overdue',
    ]);
    const mails = mailbox.about(item);
    expect(mails).toHaveLength(5);
    expect(mails.flatMap((m) => m.rcptTo).sort()).toEqual([
      ADDRESSES['delegate.in'],
      ADDRESSES['delegate.in'],
      ADDRESSES['delegate.in'],
      ADDRESSES['delegate.in'],
      ADDRESSES['dsa.in'],
    ]);
    expect(mails.map((m) => m.headers.get('to'))).not.toContain(ADDRESSES['dsa.us']);
    // Nothing that went to the US side in these passes names the item in any way.
    const toUs = mailbox.received
      .slice(start)
      .filter((m) => m.rcptTo.some((address) => US_ADDRESSES.includes(address)));
    for (const mail of toUs) {
      expect(mail.text).not.toContain(item.code);
      expect(mail.text).not.toContain(item.title);
      expect(mail.headers.get('subject')).not.toContain(item.code);
    }
    expect(await notificationsAbout('dsa.us', item)).toEqual([]);
    expect(await notificationsAbout('dsa.in', item)).toEqual([
      expect.objectContaining({ kind: 'action_escalated' }),
    ]);
  });
});

describe('reminders without SMTP_URL', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app?.close());

  it('delivers in-app only, queues no e-mail and keeps passing', async () => {
    expect(app.app.get(Mailer).enabled).toBe(false);
    const owner = await app.userId('delegate.in');
    await app
      .as('admin', 'patch', `/users/${owner}`)
      .send({ email: ADDRESSES['delegate.in'] })
      .expect(200);
    const created = await app
      .as('sec.in', 'post', '/action-items')
      .send({ title: 'Offline report', ownerId: owner, dueDate: '2027-01-20' })
      .expect(201);
    const item = created.body as Item;

    const first = await app
      .as('admin', 'post', '/reminders/run')
      .send({ now: '2027-01-13T14:00:00Z' })
      .expect(200);
    expect(first.body.data).toContainEqual(
      expect.objectContaining({ kind: 'action_due_soon', recipientId: owner, subjectId: item.id }),
    );
    const again = await app
      .as('admin', 'post', '/reminders/run')
      .send({ now: '2027-01-13T15:00:00Z' })
      .expect(200);
    expect(again.body).toEqual({ data: [], hidden: 0 });

    const inApp = await app.as('delegate.in', 'get', '/me/notifications?unread=true').expect(200);
    expect(inApp.body.data.filter((n: { subjectId: string }) => n.subjectId === item.id)).toEqual([
      expect.objectContaining({ kind: 'action_due_soon' }),
    ]);
    const queued = await app.query(
      `SELECT count(*) AS n FROM reminders WHERE email_state <> 'none'`,
    );
    expect(queued).toEqual([{ n: 0 }]);
  });
});
