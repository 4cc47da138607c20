import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { createTestApp, type TestApp } from '../support/test-app.js';

type Status =
  'proposed' | 'under_discussion' | 'agreed_in_principle' | 'aligned' | 'implemented' | 'withdrawn';

interface Concurrence {
  userId: string;
  at: string;
}

interface PolicyItem {
  id: string;
  code: string;
  title: string;
  description: string;
  isaReference: string | null;
  status: Status;
  leads: { IN: string | null; US: string | null };
  targetDate: string | null;
  concurrence: { IN: Concurrence | null; US: Concurrence | null };
  visibility: 'joint' | 'IN' | 'US';
  version: number;
  createdAt: string;
  updatedAt: string;
}

const US_ACCOUNTS = ['dsa.us', 'sec.us', 'delegate.us', 'observer.us'] as const;

/**
 * Policy-alignment items over HTTP (SPEC 5): creation, the status machine, the two DSAs'
 * concurrence, delegation-only items, lists, If-Match and Idempotency-Key.
 */
describe('policy-alignment items', () => {
  let app: TestApp;
  let titles = 0;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  async function create(as: string, fields: Record<string, unknown> = {}): Promise<PolicyItem> {
    titles += 1;
    const res = await app
      .as(as, 'post', '/policy-items')
      .send({ title: `Policy item ${titles}`, ...fields })
      .expect(201);
    return res.body as PolicyItem;
  }

  function patch(as: string, id: string, body: Record<string, unknown>) {
    return app.as(as, 'patch', `/policy-items/${id}`).send(body);
  }

  function concur(as: string, id: string, body: Record<string, unknown> = {}) {
    return app.as(as, 'post', `/policy-items/${id}/concur`).send(body);
  }

  async function get(id: string, as = 'dsa.in'): Promise<PolicyItem> {
    return (await app.as(as, 'get', `/policy-items/${id}`).expect(200)).body as PolicyItem;
  }

  /** A new item (created by sec.in) brought to `status` along the legal path. */
  async function itemIn(status: Status, fields: Record<string, unknown> = {}): Promise<PolicyItem> {
    const item = await create('sec.in', fields);
    const steps: Record<Status, Status[]> = {
      proposed: [],
      under_discussion: ['under_discussion'],
      agreed_in_principle: ['under_discussion', 'agreed_in_principle'],
      aligned: ['under_discussion', 'agreed_in_principle'],
      implemented: ['under_discussion', 'agreed_in_principle'],
      withdrawn: ['withdrawn'],
    };
    for (const step of steps[status]) {
      await patch('sec.in', item.id, { status: step }).expect(200);
    }
    if (status === 'aligned' || status === 'implemented') {
      await concur('dsa.in', item.id).expect(200);
      await concur('dsa.us', item.id).expect(200);
    }
    if (status === 'implemented') {
      await patch('sec.us', item.id, { status: 'implemented' }).expect(200);
    }
    const current = await get(item.id);
    expect(current.status).toBe(status);
    return current;
  }

  function expectProblem(res: Response, status: number): void {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, title: expect.any(String) });
  }

  function expectFieldError(res: Response, field: string): void {
    expectProblem(res, 400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([{ field, message: expect.any(String) }]),
    );
  }

  async function countItems(): Promise<number> {
    const [row] = await app.uow.read((em) =>
      em.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM policy_items'),
    );
    return row.n;
  }

  function codeNumber(code: string): number {
    const match = /^PA-(\d{3,})$/.exec(code);
    expect(match).not.toBeNull();
    return Number(match![1]);
  }

  describe('creation', () => {
    it.each(['dsa.in', 'dsa.us', 'sec.in', 'sec.us'])(
      'creates an item as %s: 201, PA-nnn, proposed, leads and empty concurrence',
      async (account) => {
        const leadIn = await app.userId('delegate.in');
        const leadUs = await app.userId('sec.us');
        const res = await app
          .as(account, 'post', '/policy-items')
          .send({
            title: '  Harmonise facility clearance procedures  ',
            description: 'Mutual recognition of facility security clearances',
            isaReference: 'ISA Article 4',
            leads: { IN: leadIn, US: leadUs },
            targetDate: '2022-12-31',
          })
          .expect(201);
        expect(res.body).toEqual({
          id: expect.any(String),
          code: expect.stringMatching(/^PA-\d{3}$/),
          title: 'Harmonise facility clearance procedures',
          description: 'Mutual recognition of facility security clearances',
          isaReference: 'ISA Article 4',
          status: 'proposed',
          leads: { IN: leadIn, US: leadUs },
          targetDate: '2022-12-31',
          concurrence: { IN: null, US: null },
          visibility: 'joint',
          version: 1,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        });
        expect(await get(res.body.id, 'observer.us')).toEqual(res.body);
      },
    );

    it('fills defaults for an item given only a title', async () => {
      const item = await create('dsa.us');
      expect(item).toMatchObject({
        description: '',
        isaReference: null,
        leads: { IN: null, US: null },
        targetDate: null,
        concurrence: { IN: null, US: null },
        visibility: 'joint',
      });
    });

    it('numbers joint items one after another', async () => {
      const first = await create('sec.in');
      const second = await create('sec.us');
      expect(codeNumber(second.code)).toBe(codeNumber(first.code) + 1);
    });

    it.each(['delegate.in', 'delegate.us', 'observer.in', 'observer.us', 'admin'])(
      'refuses creation to %s (403) and creates nothing',
      async (account) => {
        const before = await countItems();
        const res = await app.as(account, 'post', '/policy-items').send({ title: 'Not allowed' });
        expectProblem(res, 403);
        expect(await countItems()).toBe(before);
      },
    );

    it('answers 400 when an IN lead is not an active IN user', async () => {
      const before = await countItems();
      const usUser = await app.userId('dsa.us');
      expectFieldError(
        await app.as('sec.in', 'post', '/policy-items').send({ title: 'x', leads: { IN: usUser } }),
        'leads.IN',
      );
      expectFieldError(
        await app
          .as('sec.in', 'post', '/policy-items')
          .send({ title: 'x', leads: { US: await app.userId('dsa.in') } }),
        'leads.US',
      );
      expectFieldError(
        await app
          .as('sec.in', 'post', '/policy-items')
          .send({ title: 'x', leads: { IN: '00000000-0000-4000-8000-000000000000' } }),
        'leads.IN',
      );
      const retired = await app.createUser({
        username: 'retired.in',
        role: 'delegate',
        delegation: 'IN',
      });
      await app.as('admin', 'patch', `/users/${retired}`).send({ active: false }).expect(200);
      expectFieldError(
        await app
          .as('sec.in', 'post', '/policy-items')
          .send({ title: 'x', leads: { IN: retired } }),
        'leads.IN',
      );
      expectFieldError(
        await app.as('sec.in', 'post', '/policy-items').send({ title: 'x', leads: { IN: 42 } }),
        'leads.IN',
      );
      expectFieldError(
        await app.as('sec.in', 'post', '/policy-items').send({ title: 'x', leads: { UK: usUser } }),
        'leads.UK',
      );
      expect(await countItems()).toBe(before);
    });

    it.each(['2021-02-30', '2021/12/31', '31-12-2021', '2021-12-31T00:00:00Z', 20211231, ''])(
      'answers 400 for the target date %p',
      async (targetDate) => {
        expectFieldError(
          await app.as('sec.in', 'post', '/policy-items').send({ title: 'x', targetDate }),
          'targetDate',
        );
      },
    );

    it.each([
      ['code', 'PA-999'],
      ['status', 'aligned'],
      ['concurrence', { IN: null, US: null }],
      ['id', '00000000-0000-4000-8000-000000000000'],
      ['version', 7],
      ['owner', 'x'],
    ])('answers 400 for the unknown or server-set field %s', async (field, value) => {
      const before = await countItems();
      expectFieldError(
        await app.as('sec.in', 'post', '/policy-items').send({ title: 'x', [field]: value }),
        field,
      );
      expect(await countItems()).toBe(before);
    });

    it.each([
      ['a null title', { title: null }, 'title'],
      ['no title', {}, 'title'],
      ['a blank title', { title: '   ' }, 'title'],
      ['a title over 200 characters', { title: 'x'.repeat(201) }, 'title'],
      ['a null description', { title: 'x', description: null }, 'description'],
      ['an unknown visibility', { title: 'x', visibility: 'UK' }, 'visibility'],
      ['leads that are not an object', { title: 'x', leads: 'dsa.in' }, 'leads'],
    ])('answers 400 for %s', async (_case, body, field) => {
      expectFieldError(await app.as('sec.in', 'post', '/policy-items').send(body), field);
    });
  });

  describe('editing', () => {
    it('keeps the lead of the side a PATCH leaves out, and clears a lead set to null', async () => {
      const leadIn = await app.userId('delegate.in');
      const leadUs = await app.userId('delegate.us');
      const item = await create('sec.in', { leads: { IN: leadIn } });
      const both = await patch('sec.us', item.id, { leads: { US: leadUs } }).expect(200);
      expect(both.body.leads).toEqual({ IN: leadIn, US: leadUs });
      const cleared = await patch('sec.in', item.id, { leads: { IN: null } }).expect(200);
      expect(cleared.body.leads).toEqual({ IN: null, US: leadUs });
      expect(await get(item.id)).toEqual(cleared.body);
    });

    it('still edits an item whose lead has since been deactivated', async () => {
      const lead = await app.createUser({
        username: 'leaving.us',
        role: 'delegate',
        delegation: 'US',
      });
      const item = await create('sec.us', { leads: { US: lead } });
      await app.as('admin', 'patch', `/users/${lead}`).send({ active: false }).expect(200);
      const res = await patch('sec.us', item.id, {
        status: 'under_discussion',
        targetDate: '2023-03-31',
      }).expect(200);
      expect(res.body).toMatchObject({
        status: 'under_discussion',
        targetDate: '2023-03-31',
        leads: { IN: null, US: lead },
      });
      // Sending the lead back unchanged is fine; naming an inactive user anew is refused.
      await patch('sec.us', item.id, { leads: { US: lead } }).expect(200);
      const other = await create('sec.us');
      expectFieldError(await patch('sec.us', other.id, { leads: { US: lead } }), 'leads.US');
      expect(await get(other.id)).toEqual(other);
    });

    it.each([
      ['a null title', { title: null }, 'title'],
      ['a blank title', { title: ' ' }, 'title'],
      ['a null description', { description: null }, 'description'],
      ['a bad target date', { targetDate: '2023-13-01' }, 'targetDate'],
      ['a server-set field', { code: 'PA-999' }, 'code'],
      ['a concurrence', { concurrence: { IN: null } }, 'concurrence'],
    ])('answers 400 to a PATCH with %s and changes nothing', async (_case, body, field) => {
      const item = await create('sec.in');
      expectFieldError(await patch('sec.in', item.id, body), field);
      expect(await get(item.id)).toEqual(item);
    });

    it('answers 404 for an unknown id', async () => {
      const id = '00000000-0000-4000-8000-000000000000';
      expectProblem(await app.as('observer.in', 'get', `/policy-items/${id}`), 404);
      expectProblem(await patch('sec.in', id, { title: 'x' }), 404);
      expectProblem(await concur('dsa.in', id), 404);
    });
  });

  describe('status machine', () => {
    it('moves proposed -> under_discussion -> agreed_in_principle one step at a time', async () => {
      const item = await create('sec.in');
      const discussed = await patch('sec.us', item.id, { status: 'under_discussion' }).expect(200);
      expect(discussed.body).toMatchObject({ status: 'under_discussion', version: 2 });
      const agreed = await patch('dsa.in', item.id, { status: 'agreed_in_principle' }).expect(200);
      expect(agreed.body).toMatchObject({
        status: 'agreed_in_principle',
        version: 3,
        title: item.title,
        concurrence: { IN: null, US: null },
      });
      expect(await get(item.id)).toEqual(agreed.body);
    });

    it.each([
      ['proposed', 'agreed_in_principle'],
      ['proposed', 'implemented'],
      ['under_discussion', 'implemented'],
      ['agreed_in_principle', 'implemented'],
    ] as [Status, Status][])('refuses to skip from %s to %s (409)', async (from, to) => {
      const item = await itemIn(from);
      expectProblem(await patch('sec.in', item.id, { status: to }), 409);
      expect(await get(item.id)).toEqual(item);
    });

    it.each(['proposed', 'under_discussion', 'agreed_in_principle'] as const)(
      'never sets aligned by hand, even from %s (409)',
      async (from) => {
        const item = await itemIn(from);
        expectProblem(await patch('dsa.in', item.id, { status: 'aligned' }), 409);
        expect(await get(item.id)).toEqual(item);
      },
    );

    it('moves an aligned item to implemented', async () => {
      const item = await itemIn('aligned');
      const res = await patch('sec.in', item.id, { status: 'implemented' }).expect(200);
      expect(res.body).toMatchObject({
        status: 'implemented',
        version: item.version + 1,
        concurrence: item.concurrence,
      });
    });

    it.each(['proposed', 'under_discussion', 'agreed_in_principle', 'aligned'] as const)(
      'withdraws a %s item',
      async (from) => {
        const item = await itemIn(from);
        const res = await patch('sec.us', item.id, { status: 'withdrawn' }).expect(200);
        expect(res.body.status).toBe('withdrawn');
      },
    );

    it('refuses to withdraw an implemented item (409)', async () => {
      const item = await itemIn('implemented');
      expectProblem(await patch('sec.in', item.id, { status: 'withdrawn' }), 409);
      expect(await get(item.id)).toEqual(item);
    });

    it.each([
      ['under_discussion', 'proposed'],
      ['agreed_in_principle', 'under_discussion'],
      ['agreed_in_principle', 'proposed'],
      ['aligned', 'agreed_in_principle'],
      ['implemented', 'aligned'],
      ['implemented', 'agreed_in_principle'],
      ['withdrawn', 'proposed'],
      ['withdrawn', 'under_discussion'],
    ] as [Status, Status][])('refuses to move backwards from %s to %s (409)', async (from, to) => {
      const item = await itemIn(from);
      expectProblem(await patch('dsa.us', item.id, { status: to }), 409);
      expect(await get(item.id)).toEqual(item);
    });

    it('answers 400 for an unknown status and 403 to roles that do not edit items', async () => {
      const item = await create('sec.in');
      expectFieldError(await patch('sec.in', item.id, { status: 'done' }), 'status');
      for (const account of ['delegate.in', 'delegate.us', 'observer.in', 'observer.us', 'admin']) {
        expectProblem(await patch(account, item.id, { status: 'under_discussion' }), 403);
      }
      expect(await get(item.id)).toEqual(item);
    });
  });

  describe('dual concurrence', () => {
    it.each([
      'sec.in',
      'sec.us',
      'delegate.in',
      'delegate.us',
      'observer.in',
      'observer.us',
      'admin',
    ])('refuses concurrence to %s (403)', async (account) => {
      const item = await itemIn('agreed_in_principle');
      expectProblem(await concur(account, item.id), 403);
      expect(await get(item.id)).toEqual(item);
    });

    it.each(['proposed', 'under_discussion', 'withdrawn', 'implemented'] as const)(
      'takes concurrence only in agreed_in_principle, not in %s (409)',
      async (status) => {
        const item = await itemIn(status);
        expectProblem(await concur('dsa.in', item.id), 409);
        expect(await get(item.id)).toEqual(item);
      },
    );

    it('records each side and aligns the item once both DSAs have concurred', async () => {
      const dsaIn = await app.userId('dsa.in');
      const dsaUs = await app.userId('dsa.us');
      const item = await itemIn('agreed_in_principle');

      const half = await concur('dsa.in', item.id).expect(200);
      expect(half.body).toMatchObject({
        status: 'agreed_in_principle',
        version: item.version + 1,
        concurrence: { IN: { userId: dsaIn, at: expect.any(String) }, US: null },
      });
      expect(new Date(half.body.concurrence.IN.at).toISOString()).toBe(half.body.concurrence.IN.at);

      const both = await concur('dsa.us', item.id, { delegation: 'US' }).expect(200);
      expect(both.body).toMatchObject({
        status: 'aligned',
        version: item.version + 2,
        concurrence: {
          IN: half.body.concurrence.IN,
          US: { userId: dsaUs, at: expect.any(String) },
        },
      });
      expect(await get(item.id, 'observer.us')).toEqual(both.body);
    });

    it('takes a concurrence sent with no body at all', async () => {
      const item = await itemIn('agreed_in_principle');
      const res = await app.as('dsa.us', 'post', `/policy-items/${item.id}/concur`).expect(200);
      expect(res.body.concurrence.US).toEqual({
        userId: await app.userId('dsa.us'),
        at: expect.any(String),
      });
    });

    it('refuses a second concurrence for the same side (409)', async () => {
      const item = await itemIn('agreed_in_principle');
      const first = await concur('dsa.us', item.id).expect(200);
      expectProblem(await concur('dsa.us', item.id), 409);
      expect(await get(item.id)).toEqual(first.body);
      // Once aligned, neither side concurs again.
      await concur('dsa.in', item.id).expect(200);
      const aligned = await get(item.id);
      expectProblem(await concur('dsa.in', item.id), 409);
      expect(await get(item.id)).toEqual(aligned);
    });

    it('refuses a DSA concurring for the other delegation (403) and changes nothing', async () => {
      const item = await itemIn('agreed_in_principle');
      expectProblem(await concur('dsa.us', item.id, { delegation: 'IN' }), 403);
      expectProblem(await concur('dsa.in', item.id, { delegation: 'US' }), 403);
      expect(await get(item.id)).toEqual(item);
      expectFieldError(await concur('dsa.in', item.id, { delegation: 'UK' }), 'delegation');
      expectFieldError(await concur('dsa.in', item.id, { side: 'IN' }), 'side');
    });

    it.each([
      ['title', { title: 'A reworded title' }],
      ['description', { description: 'A reworded description' }],
    ])('clears both concurrences when the %s changes', async (_field, edit) => {
      const item = await itemIn('agreed_in_principle');
      await concur('dsa.in', item.id).expect(200);
      const res = await patch('sec.us', item.id, edit).expect(200);
      expect(res.body).toMatchObject({
        ...edit,
        status: 'agreed_in_principle',
        concurrence: { IN: null, US: null },
      });
      // Concurrence then starts over: one side alone does not align it.
      await concur('dsa.us', item.id).expect(200);
      expect((await get(item.id)).status).toBe('agreed_in_principle');
    });

    it('keeps concurrences through edits that leave the text as it is', async () => {
      const item = await itemIn('agreed_in_principle');
      const concurred = (await concur('dsa.in', item.id).expect(200)).body as PolicyItem;
      const res = await patch('sec.in', item.id, {
        title: item.title,
        description: item.description,
        isaReference: 'ISA Article 7',
        targetDate: '2023-06-30',
        leads: { IN: await app.userId('delegate.in') },
      }).expect(200);
      expect(res.body.concurrence).toEqual(concurred.concurrence);
      expect(res.body).toMatchObject({ isaReference: 'ISA Article 7', targetDate: '2023-06-30' });
    });

    it.each(['aligned', 'implemented'] as const)(
      'locks the text of an %s item (409) but lets its other fields change',
      async (status) => {
        const item = await itemIn(status);
        expectProblem(await patch('sec.in', item.id, { title: 'Rewritten' }), 409);
        expectProblem(await patch('sec.us', item.id, { description: 'Rewritten' }), 409);
        expect(await get(item.id)).toEqual(item);

        const usLead = await app.userId('delegate.us');
        const res = await patch('sec.in', item.id, {
          targetDate: '2024-01-31',
          isaReference: 'ISA Article 9',
          leads: { US: usLead },
        }).expect(200);
        expect(res.body).toMatchObject({
          title: item.title,
          description: item.description,
          status,
          targetDate: '2024-01-31',
          isaReference: 'ISA Article 9',
          leads: { IN: item.leads.IN, US: usLead },
          concurrence: item.concurrence,
        });
      },
    );
  });

  describe('delegation-only items', () => {
    it('codes an IN-only item PA-IN-nnn and leaves no gap in the joint codes', async () => {
      const before = await create('sec.us');
      const own = await create('sec.in', { visibility: 'IN' });
      expect(own).toMatchObject({ visibility: 'IN', status: 'proposed' });
      expect(own.code).toMatch(/^PA-IN-\d{3}$/);
      const after = await create('sec.us');
      expect(codeNumber(after.code)).toBe(codeNumber(before.code) + 1);
      const next = await create('dsa.in', { visibility: 'IN' });
      expect(Number(next.code.slice('PA-IN-'.length))).toBe(
        Number(own.code.slice('PA-IN-'.length)) + 1,
      );
    });

    it('hides an IN-only item from the US side and admin everywhere', async () => {
      const marker = `hidden-${Date.now()}`;
      const item = await create('sec.in', {
        visibility: 'IN',
        title: `Indian position ${marker}`,
        leads: { IN: await app.userId('delegate.in') },
      });
      await patch('sec.in', item.id, { status: 'under_discussion' }).expect(200);
      await patch('sec.in', item.id, { status: 'agreed_in_principle' }).expect(200);
      const current = await get(item.id);

      for (const account of [...US_ACCOUNTS, 'admin']) {
        const all = await app.as(account, 'get', '/policy-items?limit=200').expect(200);
        expect(all.body.data.map((p: PolicyItem) => p.id)).not.toContain(item.id);
        expect(all.text).not.toContain(marker);
        const search = await app
          .as(account, 'get', `/policy-items?q=${encodeURIComponent(marker)}`)
          .expect(200);
        expect(search.body).toEqual({ data: [], nextCursor: null });
        expectProblem(await app.as(account, 'get', `/policy-items/${item.id}`), 404);
      }
      for (const account of ['dsa.us', 'sec.us']) {
        expectProblem(await patch(account, item.id, { title: 'Taken over' }), 404);
        expectProblem(await patch(account, item.id, { visibility: 'joint' }), 404);
      }
      expectProblem(await concur('dsa.us', item.id), 404);
      expectProblem(await concur('dsa.us', item.id, { delegation: 'US' }), 404);
      expect(await get(item.id)).toEqual(current);

      for (const account of ['dsa.in', 'sec.in', 'delegate.in', 'observer.in']) {
        expect(await get(item.id, account)).toEqual(current);
        const search = await app
          .as(account, 'get', `/policy-items?q=${encodeURIComponent(marker)}`)
          .expect(200);
        expect(search.body.data.map((p: PolicyItem) => p.id)).toEqual([item.id]);
      }
    });

    it('refuses a US lead on an IN-only item (400)', async () => {
      const usLead = await app.userId('delegate.us');
      expectFieldError(
        await app
          .as('sec.in', 'post', '/policy-items')
          .send({ title: 'x', visibility: 'IN', leads: { US: usLead } }),
        'leads.US',
      );
      const item = await create('sec.in', { visibility: 'IN' });
      expectFieldError(await patch('sec.in', item.id, { leads: { US: usLead } }), 'leads.US');
      expect(await get(item.id)).toEqual(item);
    });

    it("refuses to create or move an item into the other delegation's view (403)", async () => {
      const before = await countItems();
      expectProblem(
        await app.as('sec.us', 'post', '/policy-items').send({ title: 'x', visibility: 'IN' }),
        403,
      );
      expectProblem(
        await app.as('dsa.in', 'post', '/policy-items').send({ title: 'x', visibility: 'US' }),
        403,
      );
      // Whoever the leads are: the move itself is what is refused.
      expectProblem(
        await app
          .as('sec.us', 'post', '/policy-items')
          .send({ title: 'x', visibility: 'IN', leads: { US: await app.userId('sec.us') } }),
        403,
      );
      expect(await countItems()).toBe(before);
      const item = await create('sec.in', { visibility: 'IN' });
      expectProblem(await patch('sec.in', item.id, { visibility: 'US' }), 403);
      expectProblem(
        await patch('sec.in', item.id, {
          visibility: 'US',
          leads: { US: await app.userId('sec.us') },
        }),
        403,
      );
      expect(await get(item.id)).toEqual(item);
    });

    it('never makes a joint item delegation-only again (409)', async () => {
      const item = await create('sec.in', { leads: { US: await app.userId('delegate.us') } });
      expectProblem(await patch('sec.in', item.id, { visibility: 'IN' }), 409);
      expectProblem(await patch('sec.us', item.id, { visibility: 'US' }), 409);
      expect(await get(item.id)).toEqual(item);
    });

    it('releases an IN-only item to joint with the next joint code; the US side then sees it', async () => {
      const item = await create('sec.in', { visibility: 'IN' });
      const lastJoint = await create('sec.us');
      const released = await patch('dsa.in', item.id, { visibility: 'joint' }).expect(200);
      expect(released.body).toMatchObject({ id: item.id, visibility: 'joint', title: item.title });
      expect(codeNumber(released.body.code)).toBe(codeNumber(lastJoint.code) + 1);
      expect(await get(item.id, 'observer.us')).toEqual(released.body);
      const list = await app.as('admin', 'get', '/policy-items?limit=200').expect(200);
      expect(list.body.data.map((p: PolicyItem) => p.id)).toContain(item.id);
      // The next joint item follows the released one.
      expect(codeNumber((await create('sec.us')).code)).toBe(codeNumber(released.body.code) + 1);
      // And it never goes back.
      expectProblem(await patch('sec.in', item.id, { visibility: 'IN' }), 409);
    });

    it('cannot align an IN-only item: the US DSA cannot see it to concur', async () => {
      const item = await create('sec.in', { visibility: 'IN' });
      await patch('sec.in', item.id, { status: 'under_discussion' }).expect(200);
      await patch('sec.in', item.id, { status: 'agreed_in_principle' }).expect(200);
      const half = await concur('dsa.in', item.id).expect(200);
      expect(half.body.status).toBe('agreed_in_principle');
      expectProblem(await concur('dsa.us', item.id), 404);
      expectProblem(await concur('dsa.in', item.id, { delegation: 'US' }), 403);
      expectProblem(await patch('sec.in', item.id, { status: 'aligned' }), 409);
      expect(await get(item.id)).toEqual(half.body);
    });
  });

  describe('lists', () => {
    it('lists the three seeded joint items to every account', async () => {
      for (const account of ['admin', 'observer.in', 'observer.us']) {
        const res = await app.as(account, 'get', '/policy-items?limit=3').expect(200);
        expect(res.body.data.map((p: PolicyItem) => p.code)).toEqual([
          'PA-001',
          'PA-002',
          'PA-003',
        ]);
        expect(res.body.data.every((p: PolicyItem) => p.status === 'under_discussion')).toBe(true);
      }
    });

    it('filters by a comma list of statuses', async () => {
      const withdrawn = await itemIn('withdrawn');
      const aligned = await itemIn('aligned');
      const proposed = await create('sec.in');
      const res = await app
        .as('observer.us', 'get', '/policy-items?status=withdrawn,aligned&limit=200')
        .expect(200);
      const ids = res.body.data.map((p: PolicyItem) => p.id);
      expect(ids).toEqual(expect.arrayContaining([withdrawn.id, aligned.id]));
      expect(ids).not.toContain(proposed.id);
      expect(
        res.body.data.every((p: PolicyItem) => ['withdrawn', 'aligned'].includes(p.status)),
      ).toBe(true);
    });

    it('searches title and description with ?q=, taking % and _ literally', async () => {
      const tag = `qz${Date.now()}`;
      const inTitle = await create('sec.in', { title: `Visit protocol ${tag}` });
      const inDescription = await create('sec.us', { description: `About ${tag.toUpperCase()}` });
      const literal = await create('sec.us', { title: `Rate 100%_${tag}` });
      const res = await app.as('observer.in', 'get', `/policy-items?q=${tag}`).expect(200);
      expect(res.body.data.map((p: PolicyItem) => p.id)).toEqual([
        inTitle.id,
        inDescription.id,
        literal.id,
      ]);
      const percent = await app
        .as('observer.in', 'get', `/policy-items?q=${encodeURIComponent(`%_${tag}`)}`)
        .expect(200);
      expect(percent.body.data.map((p: PolicyItem) => p.id)).toEqual([literal.id]);
    });

    it('pages with limit and cursor, neither skipping nor repeating', async () => {
      for (let i = 0; i < 3; i += 1) {
        await create('sec.in');
      }
      const all = await app.as('dsa.us', 'get', '/policy-items?limit=200').expect(200);
      expect(all.body.nextCursor).toBeNull();
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const page = await app.as('dsa.us', 'get', `/policy-items?limit=2${query}`).expect(200);
        expect(page.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.data.map((p: PolicyItem) => p.id));
        cursor = page.body.nextCursor as string | null;
      } while (cursor !== null);
      expect(seen).toEqual(all.body.data.map((p: PolicyItem) => p.id));
    });

    it.each([
      'sort=title',
      'owner=me',
      'status=done',
      'status=proposed,',
      'limit=0',
      'limit=201',
      'limit=two',
      'cursor=not-a-cursor',
      `q=${'x'.repeat(201)}`,
    ])('answers 400 for ?%s', async (query) => {
      expectProblem(await app.as('dsa.in', 'get', `/policy-items?${query}`), 400);
    });
  });

  describe('If-Match', () => {
    it('sends the version as a strong ETag and refuses a stale If-Match (412)', async () => {
      const item = await create('sec.in');
      const res = await app.as('sec.us', 'get', `/policy-items/${item.id}`).expect(200);
      expect(res.headers.etag).toBe(`"${item.version}"`);

      const edited = await patch('sec.in', item.id, { status: 'under_discussion' })
        .set('if-match', res.headers.etag)
        .expect(200);
      expect(edited.headers.etag).toBe(`"${item.version + 1}"`);

      expectProblem(
        await patch('sec.us', item.id, { title: 'Stale' }).set('if-match', res.headers.etag),
        412,
      );
      expectProblem(
        await patch('sec.us', item.id, { title: 'Weak' }).set(
          'if-match',
          `W/"${item.version + 1}"`,
        ),
        412,
      );
      expect(await get(item.id)).toEqual(edited.body);
    });

    it('checks If-Match on concur too', async () => {
      const item = await itemIn('agreed_in_principle');
      expectProblem(await concur('dsa.in', item.id).set('if-match', `"${item.version - 1}"`), 412);
      expect(await get(item.id)).toEqual(item);
      await concur('dsa.in', item.id).set('if-match', `"${item.version}"`).expect(200);
    });

    it('lets one of two racing PATCHes with the same If-Match win: one 200, one 412', async () => {
      const item = await create('sec.in');
      const etag = `"${item.version}"`;
      const [a, b] = await Promise.all([
        patch('sec.in', item.id, { title: 'Written by IN' }).set('if-match', etag),
        patch('sec.us', item.id, { title: 'Written by US' }).set('if-match', etag),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 412]);
      const winner = a.status === 200 ? a : b;
      expect(await get(item.id)).toEqual(winner.body);
      expect(winner.body.version).toBe(item.version + 1);
    });

    it('lets both DSAs concur at once without If-Match: the item ends aligned', async () => {
      const item = await itemIn('agreed_in_principle');
      const [a, b] = await Promise.all([concur('dsa.in', item.id), concur('dsa.us', item.id)]);
      expect([a.status, b.status]).toEqual([200, 200]);
      const final = await get(item.id);
      expect(final).toMatchObject({
        status: 'aligned',
        version: item.version + 2,
        concurrence: {
          IN: { userId: await app.userId('dsa.in'), at: expect.any(String) },
          US: { userId: await app.userId('dsa.us'), at: expect.any(String) },
        },
      });
    });
  });

  describe('Idempotency-Key', () => {
    it('answers a retried concur with the first response and changes nothing', async () => {
      const item = await itemIn('agreed_in_principle');
      const key = `concur-${item.id}`;
      const first = await concur('dsa.in', item.id).set('idempotency-key', key).expect(200);
      expect(first.body.concurrence.IN).not.toBeNull();
      const after = await get(item.id);

      const retry = await concur('dsa.in', item.id).set('idempotency-key', key).expect(200);
      expect(retry.body).toEqual(first.body);
      expect(await get(item.id)).toEqual(after);

      // Even after the other side aligned the item, the retry replays the first answer.
      await concur('dsa.us', item.id).expect(200);
      const aligned = await get(item.id);
      const late = await concur('dsa.in', item.id).set('idempotency-key', key).expect(200);
      expect(late.body).toEqual(first.body);
      expect(await get(item.id)).toEqual(aligned);

      // The same key with another body is a conflict.
      expectProblem(
        await concur('dsa.in', item.id, { delegation: 'IN' }).set('idempotency-key', key),
        409,
      );
      expect(await get(item.id)).toEqual(aligned);
    });
  });
});
