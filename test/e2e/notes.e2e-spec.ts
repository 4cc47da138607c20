import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { createTestApp, type TestApp } from '../support/test-app.js';

type ParentKind = 'meetings' | 'policy-items' | 'action-items';

interface Note {
  id: string;
  body: string;
  authorId: string;
  delegation: 'IN' | 'US';
  createdAt: string;
}

const PARENTS: ParentKind[] = ['meetings', 'policy-items', 'action-items'];
const WRITERS = ['dsa.in', 'sec.in', 'delegate.in', 'dsa.us', 'sec.us', 'delegate.us'] as const;
const IN_READERS = ['dsa.in', 'sec.in', 'delegate.in', 'observer.in'] as const;
const US_READERS = ['dsa.us', 'sec.us', 'delegate.us', 'observer.us'] as const;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/**
 * Delegation-internal notes (SPEC 5) on meetings, policy items and action items: only the
 * author's delegation ever reads them, and a parent the caller cannot see is 404.
 */
describe('delegation-internal notes', () => {
  let app: TestApp;
  /** A joint parent of each kind (the seeded meeting 1, PA-001, a seeded action item). */
  const joint = {} as Record<ParentKind, string>;
  /** A parent of each kind that India alone sees (meetings are always joint). */
  const indiaOnly = {} as Record<Exclude<ParentKind, 'meetings'>, string>;
  let marks = 0;

  beforeAll(async () => {
    app = await createTestApp();
    const meetings = await app.as('dsa.in', 'get', '/meetings').expect(200);
    joint.meetings = meetings.body.data.find((m: { number: number }) => m.number === 1).id;
    const policyItems = await app.as('dsa.in', 'get', '/policy-items').expect(200);
    joint['policy-items'] = policyItems.body.data.find(
      (p: { code: string }) => p.code === 'PA-001',
    ).id;
    const actionItems = await app.as('dsa.in', 'get', '/action-items').expect(200);
    joint['action-items'] = actionItems.body.data[0].id;

    const policyItem = await app
      .as('sec.in', 'post', '/policy-items')
      .send({ title: 'Indian position on visit requests', visibility: 'IN' })
      .expect(201);
    indiaOnly['policy-items'] = policyItem.body.id;
    const actionItem = await app
      .as('sec.in', 'post', '/action-items')
      .send({
        title: 'Prepare the Indian position on visit requests',
        ownerId: await app.userId('delegate.in'),
        dueDate: '2030-01-31',
        visibility: 'IN',
      })
      .expect(201);
    indiaOnly['action-items'] = actionItem.body.id;
  });
  afterAll(() => app.close());

  /** A string no seed or earlier test contains. */
  function marker(): string {
    marks += 1;
    return `zq-note-marker-${marks}-${Date.now()}`;
  }

  function notesOf(kind: ParentKind, id: string): string {
    return `/${kind}/${id}/notes`;
  }

  async function write(as: string, kind: ParentKind, id: string, body: string): Promise<Note> {
    const res = await app.as(as, 'post', notesOf(kind, id)).send({ body }).expect(201);
    return res.body as Note;
  }

  async function read(as: string, kind: ParentKind, id: string): Promise<Note[]> {
    const res = await app.as(as, 'get', `${notesOf(kind, id)}?limit=200`).expect(200);
    expect(res.body.nextCursor).toBeNull();
    return res.body.data as Note[];
  }

  function expectProblem(res: Response, status: number): void {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, title: expect.any(String) });
  }

  async function countNotes(): Promise<number> {
    const [row] = await app.uow.read((em) =>
      em.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM notes'),
    );
    return row.n;
  }

  it.each(PARENTS)(
    'lets dsa, secretariat and delegates of either side write notes on %s',
    async (kind) => {
      for (const writer of WRITERS) {
        const body = `Note by ${writer} ${marker()}`;
        const res = await app
          .as(writer, 'post', notesOf(kind, joint[kind]))
          .send({ body })
          .expect(201);
        expect(res.body).toEqual({
          id: expect.any(String),
          body,
          authorId: await app.userId(writer),
          delegation: writer.endsWith('.in') ? 'IN' : 'US',
          createdAt: expect.any(String),
        });
        expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
      }
    },
  );

  it.each(PARENTS)('refuses notes on %s to observers and admin (403)', async (kind) => {
    const before = await countNotes();
    for (const account of ['observer.in', 'observer.us', 'admin']) {
      expectProblem(
        await app.as(account, 'post', notesOf(kind, joint[kind])).send({ body: 'Not mine' }),
        403,
      );
    }
    expect(await countNotes()).toBe(before);
  });

  it.each(PARENTS)("lists on %s only the caller's own delegation's notes", async (kind) => {
    const id = joint[kind];
    const inNote = await write('delegate.in', kind, id, `IN view ${marker()}`);
    const usNote = await write('sec.us', kind, id, `US view ${marker()}`);

    for (const reader of IN_READERS) {
      const notes = await read(reader, kind, id);
      expect(notes.map((n) => n.id)).toContain(inNote.id);
      expect(notes.every((n) => n.delegation === 'IN')).toBe(true);
      expect(notes.find((n) => n.id === inNote.id)).toEqual(inNote);
    }
    for (const reader of US_READERS) {
      const notes = await read(reader, kind, id);
      expect(notes.map((n) => n.id)).toContain(usNote.id);
      expect(notes.every((n) => n.delegation === 'US')).toBe(true);
    }
    const admin = await app.as('admin', 'get', notesOf(kind, id)).expect(200);
    expect(admin.body).toEqual({ data: [], nextCursor: null });
  });

  it.each(PARENTS)('pages the notes on %s in the order written', async (kind) => {
    const id = joint[kind];
    for (let i = 0; i < 3; i += 1) {
      await write('dsa.us', kind, id, `Page note ${i} ${marker()}`);
    }
    const all = await read('dsa.us', kind, id);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await app
        .as('dsa.us', 'get', `${notesOf(kind, id)}?limit=2${query}`)
        .expect(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((n: Note) => n.id));
      cursor = page.body.nextCursor as string | null;
    } while (cursor !== null);
    expect(seen).toEqual(all.map((n) => n.id));
    for (const query of ['limit=0', 'limit=201', 'cursor=nope', 'delegation=IN', 'q=x']) {
      expectProblem(await app.as('dsa.us', 'get', `${notesOf(kind, id)}?${query}`), 400);
    }
  });

  it.each(['policy-items', 'action-items'] as const)(
    'answers 404 on an IN-only parent among %s to the US side and admin',
    async (kind) => {
      const id = indiaOnly[kind];
      const own = await write('delegate.in', kind, id, `Inside ${marker()}`);
      expect((await read('observer.in', kind, id)).map((n) => n.id)).toEqual([own.id]);

      const before = await countNotes();
      for (const account of [...US_READERS, 'admin']) {
        expectProblem(await app.as(account, 'get', notesOf(kind, id)), 404);
      }
      for (const account of ['dsa.us', 'sec.us', 'delegate.us']) {
        expectProblem(
          await app.as(account, 'post', notesOf(kind, id)).send({ body: 'Let me in' }),
          404,
        );
      }
      // Admin's role never writes notes: the route refuses before the parent is looked up.
      expectProblem(await app.as('admin', 'post', notesOf(kind, id)).send({ body: 'x' }), 403);
      expect(await countNotes()).toBe(before);
    },
  );

  it.each(['policy-items', 'action-items'] as const)(
    'keeps the IN notes of an IN-only parent among %s from the US side once it is released',
    async (kind) => {
      const created =
        kind === 'policy-items'
          ? await app
              .as('sec.in', 'post', '/policy-items')
              .send({ title: 'To be released', visibility: 'IN' })
              .expect(201)
          : await app
              .as('sec.in', 'post', '/action-items')
              .send({
                title: 'To be released',
                ownerId: await app.userId('delegate.in'),
                dueDate: '2030-06-30',
                visibility: 'IN',
              })
              .expect(201);
      const id = created.body.id as string;
      const secret = marker();
      const note = await write('sec.in', kind, id, `Before release: ${secret}`);
      await app.as('sec.in', 'patch', `/${kind}/${id}`).send({ visibility: 'joint' }).expect(200);

      for (const account of US_READERS) {
        const res = await app.as(account, 'get', notesOf(kind, id)).expect(200);
        expect(res.body.data).toEqual([]);
        expect(res.text).not.toContain(secret);
      }
      const usNote = await write('dsa.us', kind, id, 'After release');
      expect((await read('observer.us', kind, id)).map((n) => n.id)).toEqual([usNote.id]);
      expect((await read('observer.in', kind, id)).map((n) => n.id)).toEqual([note.id]);
    },
  );

  it.each(PARENTS)('answers 404 for an unknown parent among %s', async (kind) => {
    const before = await countNotes();
    expectProblem(await app.as('dsa.in', 'get', notesOf(kind, UNKNOWN_ID)), 404);
    expectProblem(await app.as('admin', 'get', notesOf(kind, UNKNOWN_ID)), 404);
    expectProblem(
      await app.as('dsa.in', 'post', notesOf(kind, UNKNOWN_ID)).send({ body: 'Orphan' }),
      404,
    );
    expectProblem(
      await app.as('sec.us', 'post', notesOf(kind, 'not-an-id')).send({ body: 'Orphan' }),
      404,
    );
    expect(await countNotes()).toBe(before);
  });

  it.each(PARENTS)('answers 400 for a bad note body on %s and writes nothing', async (kind) => {
    const before = await countNotes();
    const cases: [unknown, string][] = [
      [{ body: '' }, 'body'],
      [{ body: ' \n\t ' }, 'body'],
      [{ body: 'x'.repeat(10001) }, 'body'],
      [{ body: null }, 'body'],
      [{ body: 42 }, 'body'],
      [{}, 'body'],
      [{ body: 'fine', delegation: 'US' }, 'delegation'],
      [{ body: 'fine', authorId: UNKNOWN_ID }, 'authorId'],
      [{ body: 'fine', id: UNKNOWN_ID }, 'id'],
    ];
    for (const [payload, field] of cases) {
      const res = await app
        .as('sec.in', 'post', notesOf(kind, joint[kind]))
        .send(payload as object);
      expectProblem(res, 400);
      expect(res.body.errors).toEqual(
        expect.arrayContaining([{ field, message: expect.any(String) }]),
      );
    }
    expect(await countNotes()).toBe(before);
    const longest = await write('sec.in', kind, joint[kind], 'y'.repeat(10000));
    expect(longest.body).toHaveLength(10000);
  });

  it.each(PARENTS)('never lets the text of an IN note on %s reach a US user', async (kind) => {
    const id = joint[kind];
    const secret = marker();
    const note = await write('dsa.in', kind, id, `Our fallback position: ${secret}`);
    expect((await read('dsa.in', kind, id)).map((n) => n.body)).toContain(note.body);
    const q = encodeURIComponent(secret);
    const paths = [
      `/${kind}/${id}`,
      notesOf(kind, id),
      `/${kind}?limit=200`,
      `/action-items?q=${q}`,
      `/policy-items?q=${q}`,
      '/action-items?limit=200',
      '/policy-items?limit=200',
      '/meetings',
      '/action-items/export.csv',
      `/action-items/export.csv?q=${q}`,
      '/me/action-items',
    ];
    for (const account of [...US_READERS, 'admin']) {
      for (const path of paths) {
        const res = await app.as(account, 'get', path);
        expect(res.status).toBe(200);
        expect(res.text).not.toContain(secret);
      }
      const searched = await app.as(account, 'get', `/action-items?q=${q}`).expect(200);
      expect(searched.body.data).toEqual([]);
    }
  });
});
