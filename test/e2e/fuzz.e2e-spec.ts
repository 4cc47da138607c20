import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { API, createTestApp, SEED_PASSWORD, type TestApp } from '../support/test-app.js';

/**
 * Property-based fuzzing of every POST, PUT and PATCH route, as a role allowed to call it, on
 * real records of the right kind: arbitrary JSON bodies (wrong types, nulls, huge and odd
 * strings, prototype keys, deep nesting, raw malformed text) and valid bodies with one part
 * replaced, removed or added. Whatever the body, the answer is a 2xx or a documented 4xx as
 * problem+json, never a 5xx, and the service still answers afterwards.
 */

const SEED = 20260701;
const RUNS = 100;
/** Routes whose every case signs in (argon2) run fewer cases. */
const SLOW_RUNS = 30;

/** The answers SPEC section 3 documents for bad input, besides 2xx. */
const DOCUMENTED = [400, 403, 404, 409, 412, 413, 415];

// ---------------------------------------------------------------------------------------
// A JSON value as text, so that bodies can hold what JSON.stringify would never write:
// duplicate keys, "__proto__" as an own key, numbers out of double range, deep nesting.

type Json = null | boolean | number | string | Json[] | JsonObject | RawJson;
interface JsonObject {
  kind: 'object';
  pairs: [string, Json][];
}
interface RawJson {
  kind: 'raw';
  text: string;
  [fc.toStringMethod]?: () => string;
}

const obj = (pairs: [string, Json][]): JsonObject => ({ kind: 'object', pairs });
/** Raw text; printed short in counterexamples (some are 100 KiB of brackets). */
const raw = (text: string): RawJson => ({
  kind: 'raw',
  text,
  [fc.toStringMethod]: () =>
    text.length > 60 ? `raw(${text.slice(0, 30)}... ${text.length} chars)` : `raw(${text})`,
});

function isObject(value: Json): value is JsonObject {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'object'
  );
}

function isRaw(value: Json): value is RawJson {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'raw'
  );
}

function toText(value: Json): string {
  if (Array.isArray(value)) {
    return `[${value.map(toText).join(',')}]`;
  }
  if (isObject(value)) {
    return `{${value.pairs.map(([k, v]) => `${JSON.stringify(k)}:${toText(v)}`).join(',')}}`;
  }
  if (isRaw(value)) {
    return value.text;
  }
  return JSON.stringify(value);
}

function fromPlain(value: unknown): Json {
  if (Array.isArray(value)) {
    return value.map(fromPlain);
  }
  if (typeof value === 'object' && value !== null) {
    return obj(Object.entries(value).map(([k, v]) => [k, fromPlain(v)]));
  }
  return value as Json;
}

/** Every place in a value that a mutation can touch: object members and array elements. */
type Slot = { parent: JsonObject; index: number } | { parent: Json[]; index: number };

function slots(value: Json): Slot[] {
  if (Array.isArray(value)) {
    return value.flatMap((child, index) => [{ parent: value, index }, ...slots(child)]);
  }
  if (isObject(value)) {
    return value.pairs.flatMap(([, child], index) => [{ parent: value, index }, ...slots(child)]);
  }
  return [];
}

function objects(value: Json): JsonObject[] {
  if (Array.isArray(value)) {
    return value.flatMap(objects);
  }
  if (isObject(value)) {
    return [value, ...value.pairs.flatMap(([, child]) => objects(child))];
  }
  return [];
}

const clone = (value: Json): Json => structuredClone(value);

// ---------------------------------------------------------------------------------------
// Arbitraries

/** Every field name of every request body, so that generated objects often reach validation. */
const FIELD_NAMES = [
  'username',
  'password',
  'refreshToken',
  'displayName',
  'role',
  'delegation',
  'email',
  'timezone',
  'active',
  'currentPassword',
  'newPassword',
  'name',
  'mandate',
  'cadenceMonths',
  'title',
  'kind',
  'startsOn',
  'endsOn',
  'location',
  'hostDelegation',
  'status',
  'attendees',
  'agendaOutcomes',
  'agendaItemId',
  'outcome',
  'decisions',
  'actionItems',
  'minutes',
  'text',
  'description',
  'position',
  'leadDelegation',
  'policyItemId',
  'visibility',
  'isaReference',
  'leads',
  'IN',
  'US',
  'targetDate',
  'ownerId',
  'dueDate',
  'meetingId',
  'note',
  'body',
  'now',
  'id',
  'version',
  'createdAt',
  'updatedAt',
  'code',
  'ownerDelegation',
  'concurrence',
  'completedAt',
  'passwordHash',
  'tokenVersion',
];

const ODD_STRINGS = [
  '',
  ' ',
  '\t',
  '\uD800',
  '\uDFFF',
  'a\uD800b',
  '\u0000',
  'a\u0000b',
  '\uFEFF',
  '\u202E',
  '\r\nBcc: x@evil.example',
  '2021-02-30',
  '2021-13-01',
  '0000-00-00',
  '9999-12-31',
  '+275760-09-13',
  '275760-09-13T00:00:00.001Z',
  '-000001-01-01T00:00:00Z',
  '2021-10-01T25:00:00Z',
  '1e999',
  'NaN',
  'Infinity',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'prototype',
  'me',
  '*',
  "'; DROP TABLE users; --",
  '%00',
  '../../etc/passwd',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '=cmd|/c calc',
  '00000000-0000-0000-0000-000000000000',
  'joint',
  'IN',
  'US',
  'admin',
  'dsa',
  'open',
  'done',
  'cancelled',
  'aligned',
  'held',
  '😀'.repeat(60),
  'é'.repeat(201),
  'x'.repeat(37),
  'x'.repeat(201),
  'x'.repeat(10_001),
  'Asia/Kolkata',
  'Not/AZone',
  'a@b',
  'a@b.example',
];

const ODD_NUMBERS = [
  0,
  -0,
  -1,
  1,
  1.5,
  24,
  25,
  10_000,
  10_001,
  2 ** 31,
  -(2 ** 31),
  2 ** 53 + 2,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
];

const nastyLeaf: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(...ODD_STRINGS),
  fc.constantFrom(...ODD_NUMBERS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  // Text JSON.stringify cannot write: out-of-range numbers, odd escapes.
  fc
    .constantFrom('1e999', '-1e999', '1e-999', '123456789012345678901234567890', '"\\ud800"')
    .map(raw),
  // Deep nesting, within and beyond what a parser or a validator recurses through.
  fc.integer({ min: 20, max: 3000 }).map((depth) => raw('['.repeat(depth) + ']'.repeat(depth))),
  fc
    .integer({ min: 20, max: 3000 })
    .map((depth) => raw('{"a":'.repeat(depth) + '1' + '}'.repeat(depth))),
  // Large strings; past 100 KiB the body is 413.
  fc.integer({ min: 1000, max: 110_000 }).map((n) => raw(JSON.stringify('y'.repeat(n)))),
);

const key: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...FIELD_NAMES),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', ''),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

const { value: anyJson } = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyLeaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map(obj),
  ),
}));

/** An object of the route's own fields with arbitrary values: it gets past the whitelist. */
const fieldsObject = (names: string[]): fc.Arbitrary<Json> =>
  fc
    .subarray(names, { minLength: 1 })
    .chain((picked) =>
      fc.tuple(...picked.map((name) => anyJson.map((v): [string, Json] => [name, v]))),
    )
    .map(obj);

/** Whole bodies as raw text: malformed, empty, odd encodings, prototype poisoning. */
const RAW_BODIES = [
  '',
  ' ',
  '{',
  '}',
  '{"a":1,}',
  '{"a":1}}',
  "{'a':1}",
  '{"a":undefined}',
  'nul',
  'tru',
  '[1,2',
  '\uFEFF{}',
  '{"a":"\\x41"}',
  '{"a":"\\u12"}',
  '1e999',
  '-',
  '"',
  '"\\ud800"',
  '{"__proto__":{"role":"admin"}}',
  '{"constructor":{"prototype":{"role":"admin"}}}',
  '{"constructor":1}',
  '{"prototype":{}}',
  '{"a":1,"a":2}',
  'null',
  'true',
  '0',
  '[]',
  '"text"',
  '{"title":null}',
  '\u0000',
];

const body = (names: string[]): fc.Arbitrary<Json> =>
  fc.oneof(anyJson, fieldsObject(names), fc.constantFrom(...RAW_BODIES).map(raw));

/** One change to a valid body: a part replaced, removed, or a member added. */
interface Mutation {
  op: 'replace' | 'remove' | 'add';
  at: number;
  key: string;
  value: Json;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('replace', 'replace', 'remove', 'add'),
  at: fc.nat(),
  key,
  value: anyJson,
});

function mutate(valid: Json, m: Mutation): Json {
  const result = clone(valid);
  if (m.op === 'add') {
    const targets = objects(result);
    const target = targets[m.at % Math.max(targets.length, 1)];
    if (target) {
      target.pairs.push([m.key, m.value]);
      return result;
    }
    return m.value;
  }
  const all = slots(result);
  if (all.length === 0) {
    return m.value;
  }
  const slot = all[m.at % all.length];
  if (Array.isArray(slot.parent)) {
    if (m.op === 'remove') {
      slot.parent.splice(slot.index, 1);
    } else {
      slot.parent[slot.index] = m.value;
    }
  } else if (m.op === 'remove') {
    slot.parent.pairs.splice(slot.index, 1);
  } else {
    slot.parent.pairs[slot.index][1] = m.value;
  }
  return result;
}

/** Headers a client may add: content types, idempotency keys, preconditions. */
interface Extras {
  contentType: string;
  idempotencyKey: string | null;
  ifMatch: string | null;
}

const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 220 });
const extras: fc.Arbitrary<Extras> = fc.record({
  contentType: fc.oneof(
    { arbitrary: fc.constant('application/json'), weight: 20 },
    fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/vnd.api+json',
    ),
  ),
  idempotencyKey: fc.option(fc.oneof(printable, fc.constantFrom('fuzz-key-1', 'fuzz-key-2')), {
    freq: 3,
  }),
  ifMatch: fc.option(fc.oneof(printable, fc.constantFrom('"1"', '"2"', '*', 'W/"1"', '"01"')), {
    freq: 3,
  }),
});

// ---------------------------------------------------------------------------------------
// The routes, each with the role that may call it and a valid body on real records

interface Fixture {
  app: TestApp;
  ids: Record<string, string>;
  /** Tokens of the accounts this suite signs in itself (the fuzz users). */
  tokens: Record<string, string>;
  passwords: Record<string, string>;
  refreshToken: string;
  serial: number;
}

interface FuzzRoute {
  /** The actor: a seeded account, 'public' (no token), or a fuzz account of this suite. */
  actor: string;
  path: (fx: Fixture) => string;
  valid: (fx: Fixture) => unknown;
  /** Other documented answers of this route (SPEC 5: sign-in and tokens are 401 and 429). */
  alsoAllowed?: number[];
  runs?: number;
  /** Runs before every case, e.g. to open the session a case ends. */
  before?: (fx: Fixture) => Promise<void>;
  /** Runs after every 2xx answer, e.g. to keep a changed password. */
  after?: (fx: Fixture, status: number, responseBody: unknown, sent: string) => void;
}

const next = (fx: Fixture) => ++fx.serial;

const ROUTES: Record<string, FuzzRoute> = {
  'POST /api/v1/auth/login': {
    actor: 'public',
    path: () => '/auth/login',
    valid: () => ({ username: 'fuzz.login', password: SEED_PASSWORD }),
    alsoAllowed: [401, 429],
    runs: SLOW_RUNS,
  },
  'POST /api/v1/auth/refresh': {
    actor: 'public',
    path: () => '/auth/refresh',
    valid: (fx) => ({ refreshToken: fx.refreshToken }),
    alsoAllowed: [401, 429],
  },
  'POST /api/v1/auth/logout': {
    actor: 'fuzz.logout',
    path: () => '/auth/logout',
    valid: () => ({}),
    runs: SLOW_RUNS,
    before: async (fx) => {
      fx.tokens['fuzz.logout'] = (await fx.app.login('fuzz.logout')).accessToken;
    },
  },
  'POST /api/v1/users': {
    actor: 'admin',
    path: () => '/users',
    valid: (fx) => ({
      username: `fuzz.new${next(fx)}`,
      displayName: 'Fuzz',
      role: 'delegate',
      delegation: 'IN',
      email: 'fuzz@in.jwg.example',
      timezone: 'Asia/Kolkata',
      password: 'a-long-password',
    }),
  },
  'PATCH /api/v1/users/:id': {
    actor: 'admin',
    path: (fx) => `/users/${fx.ids.target}`,
    valid: () => ({
      displayName: 'Fuzz target',
      role: 'observer',
      email: 'target@in.jwg.example',
      timezone: 'Asia/Kolkata',
      active: true,
    }),
  },
  'POST /api/v1/me/password': {
    actor: 'fuzz.pw',
    path: () => '/me/password',
    valid: (fx) => ({
      currentPassword: fx.passwords['fuzz.pw'],
      newPassword: `fuzz-password-${next(fx)}`,
    }),
    alsoAllowed: [429],
    runs: SLOW_RUNS,
    after: (fx, _status, response, sent) => {
      // The change ended every session and opened this one.
      fx.tokens['fuzz.pw'] = (response as { accessToken: string }).accessToken;
      fx.passwords['fuzz.pw'] = (JSON.parse(sent) as { newPassword: string }).newPassword;
    },
  },
  'PATCH /api/v1/working-group': {
    actor: 'dsa.in',
    path: () => '/working-group',
    valid: () => ({ name: 'Indo-US Industrial Security JWG', mandate: 'Align', cadenceMonths: 6 }),
  },
  'POST /api/v1/meetings': {
    actor: 'sec.in',
    path: () => '/meetings',
    valid: () => ({
      title: 'Fuzz meeting',
      kind: 'virtual',
      startsOn: '2031-02-01',
      endsOn: '2031-02-02',
      location: 'Online',
      hostDelegation: 'US',
    }),
  },
  'POST /api/v1/meetings/next': {
    actor: 'sec.in',
    path: () => '/meetings/next',
    valid: () => ({}),
    runs: SLOW_RUNS,
  },
  'PATCH /api/v1/meetings/:id': {
    actor: 'sec.in',
    path: (fx) => `/meetings/${fx.ids.meetingPatch}`,
    valid: () => ({
      title: 'Fuzz meeting',
      kind: 'plenary',
      startsOn: '2031-03-01',
      endsOn: '2031-03-03',
      location: 'Washington',
      hostDelegation: 'US',
    }),
  },
  'POST /api/v1/meetings/:id/outcomes': {
    actor: 'sec.in',
    path: (fx) => `/meetings/${fx.ids.meetingOutcomes}/outcomes`,
    valid: (fx) => ({
      attendees: [fx.ids['dsa.in'], fx.ids['dsa.us']],
      agendaOutcomes: [
        { agendaItemId: fx.ids.outcomeAgendaItem, status: 'discussed', outcome: 'Done' },
      ],
      decisions: ['Agreed'],
      actionItems: [
        {
          title: 'Follow up',
          description: 'Details',
          ownerId: fx.ids['delegate.in'],
          dueDate: '2031-06-30',
          policyItemId: fx.ids.policyItem,
          agendaItemId: fx.ids.outcomeAgendaItem,
          visibility: 'joint',
        },
      ],
      minutes: 'Draft minutes',
    }),
  },
  'PUT /api/v1/meetings/:id/minutes': {
    actor: 'sec.in',
    path: (fx) => `/meetings/${fx.ids.meetingMinutes}/minutes`,
    valid: () => ({ text: 'Minutes' }),
  },
  'POST /api/v1/meetings/:id/minutes/circulate': {
    actor: 'sec.in',
    path: (fx) => `/meetings/${fx.ids.meetingCirculate}/minutes/circulate`,
    valid: () => ({}),
  },
  'POST /api/v1/meetings/:id/minutes/approve': {
    actor: 'dsa.in',
    path: (fx) => `/meetings/${fx.ids.meetingApprove}/minutes/approve`,
    valid: () => ({ delegation: 'IN' }),
  },
  'POST /api/v1/meetings/:id/agenda-items': {
    actor: 'sec.in',
    path: (fx) => `/meetings/${fx.ids.meetingAgenda}/agenda-items`,
    valid: (fx) => ({
      title: 'Fuzz item',
      description: 'Text',
      position: 1,
      leadDelegation: 'IN',
      policyItemId: fx.ids.policyItem,
      visibility: 'joint',
    }),
  },
  'PATCH /api/v1/agenda-items/:id': {
    actor: 'sec.in',
    path: (fx) => `/agenda-items/${fx.ids.agendaItem}`,
    valid: (fx) => ({
      title: 'Fuzz item',
      description: 'Text',
      position: 2,
      leadDelegation: 'US',
      policyItemId: fx.ids.policyItem,
      status: 'discussed',
      outcome: 'Outcome',
    }),
  },
  'POST /api/v1/policy-items': {
    actor: 'sec.in',
    path: () => '/policy-items',
    valid: (fx) => ({
      title: 'Fuzz policy item',
      description: 'Text',
      isaReference: 'ISA 1',
      leads: { IN: fx.ids['dsa.in'], US: null },
      targetDate: '2031-12-31',
      visibility: 'IN',
    }),
  },
  'PATCH /api/v1/policy-items/:id': {
    actor: 'sec.in',
    path: (fx) => `/policy-items/${fx.ids.policyPatch}`,
    valid: (fx) => ({
      title: 'Fuzz policy item',
      description: 'Text',
      isaReference: 'ISA 2',
      leads: { IN: fx.ids['dsa.in'], US: null },
      targetDate: '2032-01-31',
    }),
  },
  'POST /api/v1/policy-items/:id/concur': {
    actor: 'dsa.in',
    path: (fx) => `/policy-items/${fx.ids.policyConcur}/concur`,
    valid: () => ({ delegation: 'IN' }),
  },
  'POST /api/v1/action-items': {
    actor: 'sec.in',
    path: () => '/action-items',
    valid: (fx) => ({
      title: 'Fuzz action',
      description: 'Text',
      ownerId: fx.ids['delegate.in'],
      dueDate: '2031-05-31',
      meetingId: fx.ids.meetingAgenda,
      agendaItemId: fx.ids.agendaItemOfAgendaMeeting,
      policyItemId: fx.ids.policyItem,
      visibility: 'IN',
    }),
  },
  'PATCH /api/v1/action-items/:id': {
    actor: 'sec.in',
    path: (fx) => `/action-items/${fx.ids.actionItem}`,
    valid: (fx) => ({
      title: 'Fuzz action',
      description: 'Text',
      ownerId: fx.ids['delegate.in'],
      dueDate: '2031-05-30',
      policyItemId: fx.ids.policyItem,
      status: 'in_progress',
    }),
  },
  'POST /api/v1/action-items/:id/updates': {
    actor: 'delegate.in',
    path: (fx) => `/action-items/${fx.ids.actionItemUpdates}/updates`,
    valid: () => ({ note: 'Progress', status: 'blocked' }),
  },
  'POST /api/v1/meetings/:id/notes': {
    actor: 'delegate.in',
    path: (fx) => `/meetings/${fx.ids.meetingAgenda}/notes`,
    valid: () => ({ body: 'Internal' }),
  },
  'POST /api/v1/policy-items/:id/notes': {
    actor: 'delegate.in',
    path: (fx) => `/policy-items/${fx.ids.policyItem}/notes`,
    valid: () => ({ body: 'Internal' }),
  },
  'POST /api/v1/action-items/:id/notes': {
    actor: 'delegate.in',
    path: (fx) => `/action-items/${fx.ids.actionItem}/notes`,
    valid: () => ({ body: 'Internal' }),
  },
  'POST /api/v1/me/notifications/:id/read': {
    actor: 'delegate.in',
    path: (fx) => `/me/notifications/${fx.ids.notification}/read`,
    valid: () => ({}),
  },
  'POST /api/v1/reminders/run': {
    actor: 'admin',
    path: () => '/reminders/run',
    valid: () => ({ now: '2031-05-24T03:00:00.000Z' }),
    runs: SLOW_RUNS,
  },
  'POST /api/v1/me/calendar-feed': {
    actor: 'sec.us',
    path: () => '/me/calendar-feed',
    valid: () => ({}),
  },
};

/** The route's own field names, read from its valid body (nested ones included). */
function fieldNames(value: unknown): string[] {
  if (Array.isArray(value)) {
    return value.flatMap(fieldNames);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [k, ...fieldNames(v)]);
  }
  return [];
}

// ---------------------------------------------------------------------------------------

describe('fuzzing every POST, PUT and PATCH route', () => {
  let fx: Fixture;
  let cases = 0;
  const statuses = new Map<number, number>();

  async function createMeeting(minutes?: 'draft' | 'circulated'): Promise<string> {
    const { app } = fx;
    const id = (
      await app
        .as('sec.in', 'post', '/meetings')
        .send({
          title: 'Fuzz target',
          kind: 'virtual',
          startsOn: '2031-01-10',
          endsOn: '2031-01-10',
          hostDelegation: 'IN',
        })
        .expect(201)
    ).body.id as string;
    if (minutes) {
      await app.as('sec.in', 'put', `/meetings/${id}/minutes`).send({ text: 'Draft' }).expect(200);
    }
    if (minutes === 'circulated') {
      await app.as('sec.in', 'post', `/meetings/${id}/minutes/circulate`).expect(200);
    }
    return id;
  }

  async function createPolicyItem(status?: 'agreed_in_principle'): Promise<string> {
    const { app } = fx;
    const id = (await app.as('sec.in', 'post', '/policy-items').send({ title: 'Fuzz' }).expect(201))
      .body.id as string;
    if (status) {
      for (const step of ['under_discussion', 'agreed_in_principle']) {
        await app.as('sec.in', 'patch', `/policy-items/${id}`).send({ status: step }).expect(200);
      }
    }
    return id;
  }

  async function createAgendaItem(meetingId: string): Promise<string> {
    return (
      await fx.app
        .as('sec.in', 'post', `/meetings/${meetingId}/agenda-items`)
        .send({ title: 'Fuzz agenda item' })
        .expect(201)
    ).body.id as string;
  }

  async function createActionItem(): Promise<string> {
    return (
      await fx.app
        .as('sec.in', 'post', '/action-items')
        .send({ title: 'Fuzz', ownerId: fx.ids['delegate.in'], dueDate: '2031-05-31' })
        .expect(201)
    ).body.id as string;
  }

  beforeAll(async () => {
    const app = await createTestApp();
    fx = { app, ids: {}, tokens: {}, passwords: {}, refreshToken: '', serial: 0 };
    for (const name of ['admin', 'dsa.in', 'dsa.us', 'delegate.in']) {
      fx.ids[name] = await app.userId(name);
    }
    for (const username of ['fuzz.login', 'fuzz.logout', 'fuzz.pw']) {
      await app.createUser({ username, role: 'delegate', delegation: 'US' });
      fx.tokens[username] = app.token(username);
      fx.passwords[username] = SEED_PASSWORD;
    }
    fx.ids.target = (
      await app
        .as('admin', 'post', '/users')
        .send({
          username: 'fuzz.target',
          displayName: 'Target',
          role: 'delegate',
          delegation: 'IN',
          password: 'a-long-password',
        })
        .expect(201)
    ).body.id as string;
    fx.refreshToken = (await app.login('fuzz.login')).refreshToken;

    fx.ids.policyItem = await createPolicyItem();
    fx.ids.policyPatch = await createPolicyItem();
    fx.ids.policyConcur = await createPolicyItem('agreed_in_principle');
    fx.ids.meetingPatch = await createMeeting();
    fx.ids.meetingOutcomes = await createMeeting();
    fx.ids.outcomeAgendaItem = await createAgendaItem(fx.ids.meetingOutcomes);
    fx.ids.meetingMinutes = await createMeeting();
    fx.ids.meetingCirculate = await createMeeting('draft');
    fx.ids.meetingApprove = await createMeeting('circulated');
    fx.ids.meetingAgenda = await createMeeting();
    fx.ids.agendaItemOfAgendaMeeting = await createAgendaItem(fx.ids.meetingAgenda);
    fx.ids.agendaItem = await createAgendaItem(fx.ids.meetingAgenda);
    fx.ids.actionItem = await createActionItem();
    fx.ids.actionItemUpdates = await createActionItem();
    // A reminder pass a week before the items' due date gives delegate.in a notification.
    await app
      .as('admin', 'post', '/reminders/run')
      .send({ now: '2031-05-24T03:00:00.000Z' })
      .expect(200);
    const notifications = await app.as('delegate.in', 'get', '/me/notifications').expect(200);
    fx.ids.notification = (notifications.body.data as { id: string }[])[0].id;
  });

  afterAll(async () => {
    const histogram = [...statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
    console.log(`fuzz: ${cases} cases over ${Object.keys(ROUTES).length} routes (${histogram})`);
    await fx.app.close();
  });

  /** Sends one case and checks the property; returns the answer. */
  async function send(route: FuzzRoute, text: string, headers: Extras) {
    await route.before?.(fx);
    const url = `${API}${route.path(fx)}`;
    const method = routeMethod(route);
    let req = fx.app.http[method](url).set('content-type', headers.contentType);
    if (route.actor !== 'public') {
      const token = fx.tokens[route.actor] ?? fx.app.token(route.actor);
      req = req.set('authorization', `Bearer ${token}`);
    }
    if (headers.idempotencyKey !== null) {
      req = req.set('idempotency-key', headers.idempotencyKey);
    }
    if (headers.ifMatch !== null) {
      req = req.set('if-match', headers.ifMatch);
    }
    const res = await req.send(text);
    cases += 1;
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const allowed = [...DOCUMENTED, ...(route.alsoAllowed ?? [])];
    const ok = (res.status >= 200 && res.status < 300) || allowed.includes(res.status);
    if (!ok) {
      // Names the case in the failure, beyond fast-check's counterexample.
      throw new Error(
        `${method.toUpperCase()} ${url} answered ${res.status}: ${JSON.stringify(res.body)}\n` +
          `body: ${text.slice(0, 300)}\nheaders: ${JSON.stringify(headers)}`,
      );
    }
    if (res.status >= 400) {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.status).toBe(res.status);
    } else {
      route.after?.(fx, res.status, res.body, text);
    }
    return res;
  }

  const methodOf = new Map<FuzzRoute, 'post' | 'put' | 'patch'>(
    Object.entries(ROUTES).map(([name, route]) => [
      route,
      name.split(' ')[0].toLowerCase() as 'post' | 'put' | 'patch',
    ]),
  );
  const routeMethod = (route: FuzzRoute) => methodOf.get(route)!;

  const JSON_HEADERS: Extras = {
    contentType: 'application/json',
    idempotencyKey: null,
    ifMatch: null,
  };

  it('covers every POST, PUT and PATCH route the app serves', () => {
    const served = fx.app.routes
      .filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method) && r.url.startsWith(API))
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    expect(Object.keys(ROUTES).sort()).toEqual(served);
  });

  describe.each(Object.entries(ROUTES))('%s', (_name, route) => {
    it('takes its valid body', async () => {
      const res = await send(route, JSON.stringify(route.valid(fx)), JSON_HEADERS);
      expect(res.status).toBeLessThan(300);
    });

    it('answers arbitrary bodies with a 2xx or a documented 4xx, never a 5xx', async () => {
      const names = fieldNames(route.valid(fx));
      await fc.assert(
        fc.asyncProperty(
          body(names.length ? names : FIELD_NAMES),
          extras,
          async (value, headers) => {
            await send(route, toText(value), headers);
          },
        ),
        { seed: SEED, numRuns: route.runs ?? RUNS },
      );
      await fx.app.http.get('/health').expect(200);
    });

    it('answers its valid body with one part changed with a 2xx or a documented 4xx', async () => {
      await fc.assert(
        fc.asyncProperty(mutation, extras, async (m, headers) => {
          await send(route, toText(mutate(fromPlain(route.valid(fx)), m)), headers);
        }),
        { seed: SEED + 1, numRuns: route.runs ?? RUNS },
      );
      await fx.app.http.get('/health').expect(200);
    });
  });

  it('still answers afterwards', async () => {
    await fx.app.http.get('/health').expect(200, { status: 'ok' });
    await fx.app.as('observer.us', 'get', '/me').expect(200);
    await fx.app.as('observer.in', 'get', '/action-items?limit=200').expect(200);
    expect(cases).toBeGreaterThan(1000);
  });
});
