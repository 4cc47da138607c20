/**
 * What the benchmark sends. Each scenario builds autocannon requests for one target (the
 * service, or the baseline where it answers the same route); scenarios that write keep their
 * state (next id, tracked versions) across warm-ups and rounds.
 */
import type autocannon from 'autocannon';
import { addDays } from '../src/common/dates.js';
import {
  type Fixtures,
  itemText,
  LIST_QUERY_WORD,
  type Owner,
  pick,
  random,
} from './seed-database.js';

export type Target = 'service' | 'baseline';

/** Access tokens, from signing in to the service over HTTP. */
export interface Tokens {
  /** delegate.in: the hot read and single-item reads. */
  delegate: string;
  /** sec.in: creates, status changes, meeting outcomes. */
  secretariat: string;
  /** sec.us: the filtered list (a reader of the other delegation). */
  secretariatUs: string;
}

export interface Scenario {
  name: ScenarioName;
  description: string;
  /** A fixed number of connections instead of --connections. */
  connections?: number;
  requests(target: Target, tokens: Tokens): autocannon.Request[];
  /** After each run: put right what requests cut off by the end of the run left unknown. */
  settle?(url: string, tokens: Tokens): Promise<void>;
}

export const SCENARIO_NAMES = [
  'hot-read',
  'hot-read-c1',
  'list',
  'get',
  'create',
  'patch',
  'outcomes',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** The scenarios the baseline answers too. */
export const WITH_BASELINE: readonly ScenarioName[] = ['hot-read', 'hot-read-c1', 'create'];

/** PATCH cycles each pooled item open -> in_progress -> blocked -> open: always a change. */
const STATUS_AFTER_VERSION = ['open', 'in_progress', 'blocked'] as const;

const json = (token: string) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
});

export interface ScenarioSet {
  scenarios: Record<ScenarioName, Scenario>;
  /** Requests built so far, warm-ups included (outcomes beyond the pool reuse meetings). */
  built: () => { created: number; patched: number; outcomes: number };
}

export function createScenarios(fixtures: Fixtures, runId: string): ScenarioSet {
  const next = random(4242);
  const today = new Date().toISOString().slice(0, 10);
  const inOwners = fixtures.owners.filter((o) => o.delegation === 'IN');
  /** A new item as sec.in would post it: 15% visible to India only (with an Indian owner). */
  const newItem = (n: number) => {
    const indiaOnly = next() < 0.15;
    const owner: Owner = indiaOnly ? pick(next, inOwners) : pick(next, fixtures.owners);
    return {
      ...itemText(next, `bench ${n}`),
      ownerId: owner.id,
      dueDate: addDays(today, 1 + Math.floor(next() * 180)),
      ...(indiaOnly ? { visibility: 'IN' } : {}),
      ...(!indiaOnly && next() < 0.2 ? { policyItemId: pick(next, fixtures.jointPolicyIds) } : {}),
    };
  };
  let posted = 0;
  let read = 0;
  let patched = 0;
  let outcomes = 0;
  const versions = new Int32Array(fixtures.patchIds.length).fill(1);
  /** PATCHes sent and not answered: cut off when a run stops, they may have been applied. */
  const unanswered = new Set<number>();

  const scenarios: Record<ScenarioName, Scenario> = {
    'hot-read': {
      name: 'hot-read',
      description: "GET /me/action-items: a delegate's not-closed items by due date",
      requests: (_target, tokens) => [
        {
          method: 'GET',
          path: '/api/v1/me/action-items',
          headers: { authorization: `Bearer ${tokens.delegate}` },
        },
      ],
    },
    'hot-read-c1': {
      name: 'hot-read-c1',
      description: 'the hot read at one connection (latency, not throughput)',
      connections: 1,
      requests: (_target, tokens) => [
        {
          method: 'GET',
          path: '/api/v1/me/action-items',
          headers: { authorization: `Bearer ${tokens.delegate}` },
        },
      ],
    },
    list: {
      name: 'list',
      description: `GET /action-items?status=open,in_progress&sort=-updatedAt&q=${LIST_QUERY_WORD}`,
      requests: (_target, tokens) => [
        {
          method: 'GET',
          path: `/api/v1/action-items?status=open,in_progress&sort=-updatedAt&q=${LIST_QUERY_WORD}`,
          headers: { authorization: `Bearer ${tokens.secretariatUs}` },
        },
      ],
    },
    get: {
      name: 'get',
      description: 'GET /action-items/:id, cycling through items the delegate may read',
      requests: (_target, tokens) => [
        {
          method: 'GET',
          headers: { authorization: `Bearer ${tokens.delegate}` },
          setupRequest: (request) => ({
            ...request,
            path: `/api/v1/action-items/${fixtures.readableIds[read++ % fixtures.readableIds.length]}`,
          }),
        },
      ],
    },
    create: {
      name: 'create',
      description: 'POST /action-items with an Idempotency-Key (baseline: owner row + INSERT)',
      requests: (_target, tokens) => [
        {
          method: 'POST',
          path: '/api/v1/action-items',
          setupRequest: (request) => {
            const n = ++posted;
            return {
              ...request,
              headers: { ...json(tokens.secretariat), 'idempotency-key': `${runId}-create-${n}` },
              body: JSON.stringify(newItem(n)),
            };
          },
        },
      ],
    },
    patch: {
      name: 'patch',
      description: 'PATCH /action-items/:id {status} with If-Match, cycling a pool of open items',
      requests: (_target, tokens) => [
        {
          method: 'PATCH',
          setupRequest: (request, context) => {
            const i = patched++ % fixtures.patchIds.length;
            context.item = i;
            unanswered.add(i);
            return {
              ...request,
              path: `/api/v1/action-items/${fixtures.patchIds[i]}`,
              headers: { ...json(tokens.secretariat), 'if-match': `"${versions[i]}"` },
              body: JSON.stringify({ status: STATUS_AFTER_VERSION[versions[i] % 3] }),
            };
          },
          onResponse: (status, _body, context, headers) => {
            unanswered.delete(context.item as number);
            const etag = headers.etag;
            if (status === 200 && typeof etag === 'string') {
              versions[context.item as number] = Number(etag.replaceAll('"', ''));
            }
          },
        },
      ],
      settle: async (url, tokens) => {
        // A request the load tool gave up on at the end of a run may still be in flight: on
        // PostgreSQL, where requests do not queue behind each other, a read now could come
        // back before it commits, and the next run would send a stale If-Match (a true 412).
        await new Promise((resolve) => setTimeout(resolve, 500));
        for (const i of unanswered) {
          const response = await fetch(`${url}/api/v1/action-items/${fixtures.patchIds[i]}`, {
            headers: { authorization: `Bearer ${tokens.secretariat}` },
          });
          await response.arrayBuffer();
          versions[i] = Number(response.headers.get('etag')?.replaceAll('"', ''));
        }
        unanswered.clear();
      },
    },
    outcomes: {
      name: 'outcomes',
      description: 'POST /meetings/:id/outcomes with five new action items, one meeting each',
      requests: (_target, tokens) => [
        {
          method: 'POST',
          setupRequest: (request) => {
            const n = outcomes++;
            const meetingId = fixtures.meetingIds[n % fixtures.meetingIds.length];
            return {
              ...request,
              path: `/api/v1/meetings/${meetingId}/outcomes`,
              headers: { ...json(tokens.secretariat), 'idempotency-key': `${runId}-outcomes-${n}` },
              body: JSON.stringify({
                actionItems: [1, 2, 3, 4, 5].map((k) => newItem(n * 5 + k)),
              }),
            };
          },
        },
      ],
    },
  };
  return {
    scenarios,
    built: () => ({ created: posted, patched, outcomes }),
  };
}
