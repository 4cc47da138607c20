import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { Seeder } from '../../src/seeding/seeder.js';
import { ACCOUNTS, createTestApp, type TestApp } from '../support/test-app.js';

const count = async (app: TestApp, table: string) =>
  Number(
    (await app.uow.read((em) => em.query(`SELECT count(*) AS n FROM ${table}`)))[0].n as number,
  );

describe('seeds', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('loads the founding record: delegations, DSAs, role accounts and the working group', async () => {
    const users = await app.as('admin', 'get', '/users?limit=200').expect(200);
    const byName = Object.fromEntries(
      users.body.data.map((u: { username: string }) => [u.username, u]),
    );
    expect(Object.keys(byName).sort()).toEqual([...ACCOUNTS].sort());
    expect(byName['dsa.in']).toMatchObject({
      displayName: 'Anurag Bajpai',
      role: 'dsa',
      delegation: 'IN',
    });
    expect(byName['dsa.us']).toMatchObject({
      displayName: 'David Paul Bagnati',
      role: 'dsa',
      delegation: 'US',
    });
    expect(byName.admin).toMatchObject({ role: 'admin', delegation: null });
    const group = await app.as('observer.in', 'get', '/working-group').expect(200);
    expect(group.body.name).toBe('Indo-US Industrial Security Joint Working Group');
  });

  it('loads meeting 1 with its outcomes, and the items that follow from it', async () => {
    const meetings = await app.as('observer.us', 'get', '/meetings').expect(200);
    const [meeting] = meetings.body.data;
    expect(meeting).toMatchObject({
      number: 1,
      kind: 'plenary',
      startsOn: '2021-09-27',
      endsOn: '2021-10-01',
      location: 'New Delhi',
      hostDelegation: 'IN',
      status: 'held',
      minutes: { status: 'none', text: null, approvals: [] },
    });
    expect(meeting.decisions.map((d: { code: string }) => d.code)).toEqual(['D-1', 'D-2']);
    expect(meeting.decisions[0].text).toMatch(/agreed in principle to establish/);
    expect([...meeting.attendees].sort()).toEqual(
      [await app.userId('dsa.in'), await app.userId('dsa.us')].sort(),
    );
    const agenda = await app
      .as('observer.us', 'get', `/meetings/${meeting.id}/agenda-items`)
      .expect(200);
    expect(agenda.body.data).toHaveLength(3);
    expect(agenda.body.data.every((a: { status: string }) => a.status === 'discussed')).toBe(true);

    const policy = await app.as('observer.us', 'get', '/policy-items').expect(200);
    expect(policy.body.data.map((p: { code: string }) => p.code)).toEqual([
      'PA-001',
      'PA-002',
      'PA-003',
    ]);
    const actions = await app.as('observer.us', 'get', '/action-items').expect(200);
    expect(actions.body.data.map((a: { code: string }) => a.code).sort()).toEqual([
      'AI-001',
      'AI-002',
      'AI-003',
      'AI-004',
    ]);
    for (const item of actions.body.data) {
      expect(item).toMatchObject({ meetingId: meeting.id, visibility: 'joint', status: 'open' });
      expect(['IN', 'US']).toContain(item.ownerDelegation);
    }
  });

  it('changes nothing when loaded again', async () => {
    const tables = [
      'users',
      'delegations',
      'working_group',
      'meetings',
      'meeting_decisions',
      'meeting_attendees',
      'agenda_items',
      'policy_items',
      'action_items',
    ];
    const before = await Promise.all(tables.map((t) => count(app, t)));
    const group = (await app.as('observer.in', 'get', '/working-group').expect(200)).body;
    expect(await app.app.get(Seeder).seed()).toEqual({ created: [] });
    const after = await Promise.all(tables.map((t) => count(app, t)));
    expect(after).toEqual(before);
    expect((await app.as('observer.in', 'get', '/working-group').expect(200)).body).toEqual(group);
    await app.login('sec.us');
  });

  it('keeps every seeded fact traceable to the sources', () => {
    const sources = ['000_e68dc818fc36fad5.txt', '001_f78456f5a09491e4.txt']
      .map((file) => {
        try {
          return readFileSync(new URL(`../../../shared/sources/${file}`, import.meta.url), 'utf8');
        } catch {
          return '';
        }
      })
      .filter((text) => text !== '')
      .join('\n');
    const users = JSON.parse(
      readFileSync(new URL('../../seeds/users.json', import.meta.url), 'utf8'),
    );
    const dsas = users.filter((u: { role: string }) => u.role === 'dsa');
    expect(dsas.map((u: { displayName: string }) => u.displayName).sort()).toEqual([
      'Anurag Bajpai',
      'David Paul Bagnati',
    ]);
    if (sources) {
      for (const dsa of dsas) {
        expect(sources).toContain(dsa.displayName);
      }
      expect(sources).toContain('Indo-US Industrial Security Joint Working Group');
    }
  });
});

describe('seeds without JWG_SEED_PASSWORD', () => {
  it('prints a random password per account once and stores only hashes', async () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      writes.push(String(chunk));
      return true;
    });
    let app: TestApp;
    try {
      app = await createTestApp({ JWG_SEED_PASSWORD: '' }, { signIn: false });
    } finally {
      spy.mockRestore();
    }
    try {
      const printed = writes.join('');
      expect(printed).toMatch(/Generated passwords/);
      const passwords = new Map(
        [...printed.matchAll(/^ {2}(\S+)\s+(\S+)$/gm)].map((m) => [m[1], m[2]] as const),
      );
      expect([...passwords.keys()].sort()).toEqual([...ACCOUNTS].sort());
      expect(new Set(passwords.values()).size).toBe(ACCOUNTS.length);
      await app.login('dsa.us', passwords.get('dsa.us'));
      await app.http
        .post('/api/v1/auth/login')
        .send({ username: 'dsa.us', password: 'seed-password-for-tests' })
        .expect(401);
      const hashes: { password_hash: string }[] = await app.uow.read((em) =>
        em.query('SELECT password_hash FROM users'),
      );
      for (const { password_hash } of hashes) {
        expect(password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
        for (const password of passwords.values()) {
          expect(password_hash).not.toContain(password);
        }
      }
      writes.length = 0;
      const again = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
        writes.push(String(chunk));
        return true;
      });
      try {
        await app.app.get(Seeder).seed();
      } finally {
        again.mockRestore();
      }
      expect(writes.join('')).not.toMatch(/Generated passwords/);
    } finally {
      await app.close();
    }
  });
});
