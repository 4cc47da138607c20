import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * The JWG's cycle end to end over REST: plan a meeting and its agenda, log its outcomes in
 * one call, draft, circulate and agree the minutes with both DSAs, work an action item, and
 * schedule the next meeting with the unfinished agenda carried over.
 */
describe('a meeting cycle', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('runs from planning to the next meeting', async () => {
    const seeded = await app.as('observer.us', 'get', '/meetings').expect(200);
    expect(seeded.body.data).toHaveLength(1);
    expect(seeded.body.data[0]).toMatchObject({
      number: 1,
      title: 'Industrial Security Agreement (ISA) Summit',
      startsOn: '2021-09-27',
      endsOn: '2021-10-01',
      location: 'New Delhi',
      hostDelegation: 'IN',
      status: 'held',
    });

    // Plan meeting 2 and its agenda.
    const planned = await app
      .as('sec.us', 'post', '/meetings')
      .send({
        title: 'JWG meeting 2',
        kind: 'plenary',
        startsOn: '2022-03-28',
        endsOn: '2022-03-30',
        location: 'Washington, DC',
        hostDelegation: 'US',
      })
      .expect(201);
    const meeting = planned.body;
    expect(meeting).toMatchObject({
      number: 2,
      status: 'planned',
      minutes: { status: 'none', text: null, approvals: [] },
    });

    const agenda = [];
    for (const title of ['Protocol progress', 'Visit programme', 'Any other business']) {
      agenda.push(
        (
          await app
            .as('sec.in', 'post', `/meetings/${meeting.id}/agenda-items`)
            .send({ title })
            .expect(201)
        ).body,
      );
    }
    expect(agenda.map((a) => a.position)).toEqual([1, 2, 3]);

    // Log its outcomes in one call.
    const dsaIn = await app.userId('dsa.in');
    const dsaUs = await app.userId('dsa.us');
    const delegateIn = await app.userId('delegate.in');
    const outcome = await app
      .as('sec.us', 'post', `/meetings/${meeting.id}/outcomes`)
      .send({
        attendees: [dsaIn, dsaUs, delegateIn],
        agendaOutcomes: [
          { agendaItemId: agenda[0].id, status: 'discussed', outcome: 'Draft protocol reviewed' },
          { agendaItemId: agenda[1].id, status: 'deferred', outcome: 'To the next meeting' },
        ],
        decisions: [
          'Adopt the draft protocol as the working text',
          'Exchange comments within 60 days',
        ],
        actionItems: [
          {
            title: 'Send comments on the draft protocol',
            ownerId: delegateIn,
            dueDate: '2022-05-27',
          },
        ],
        minutes: 'Minutes of the second meeting.',
      })
      .expect(201);
    expect(outcome.body.meeting).toMatchObject({
      status: 'held',
      decisions: [
        { code: 'D-1', text: 'Adopt the draft protocol as the working text' },
        { code: 'D-2', text: 'Exchange comments within 60 days' },
      ],
      minutes: { status: 'draft', text: 'Minutes of the second meeting.' },
    });
    expect([...outcome.body.meeting.attendees].sort()).toEqual([dsaIn, dsaUs, delegateIn].sort());
    const [item] = outcome.body.actionItems;
    expect(item).toMatchObject({
      ownerId: delegateIn,
      ownerDelegation: 'IN',
      meetingId: meeting.id,
      status: 'open',
      visibility: 'joint',
    });
    expect(item.code).toMatch(/^AI-\d{3,}$/);

    // Minutes: circulate, approve by both sides, then locked.
    await app.as('sec.in', 'post', `/meetings/${meeting.id}/minutes/circulate`).expect(200);
    const half = await app
      .as('dsa.us', 'post', `/meetings/${meeting.id}/minutes/approve`)
      .expect(200);
    expect(half.body.minutes.status).toBe('circulated');
    expect(half.body.minutes.approvals).toEqual([
      { delegation: 'US', userId: dsaUs, at: expect.any(String) },
    ]);
    const agreed = await app
      .as('dsa.in', 'post', `/meetings/${meeting.id}/minutes/approve`)
      .expect(200);
    expect(agreed.body.minutes.status).toBe('agreed');
    await app
      .as('sec.in', 'put', `/meetings/${meeting.id}/minutes`)
      .send({ text: 'changed' })
      .expect(409);

    // The owner works the action item.
    const mine = await app.as('delegate.in', 'get', '/me/action-items').expect(200);
    expect(mine.body.data.map((i: { id: string }) => i.id)).toContain(item.id);
    await app
      .as('delegate.in', 'post', `/action-items/${item.id}/updates`)
      .send({ note: 'Comments drafted', status: 'in_progress' })
      .expect(201);
    const done = await app
      .as('delegate.in', 'patch', `/action-items/${item.id}`)
      .send({ status: 'done' })
      .expect(200);
    expect(done.body.completedAt).toEqual(expect.any(String));
    const after = await app.as('delegate.in', 'get', '/me/action-items').expect(200);
    expect(after.body.data.map((i: { id: string }) => i.id)).not.toContain(item.id);

    // Schedule the next meeting: cadence later, host alternates, unfinished items carried.
    const next = await app.as('sec.in', 'post', '/meetings/next').expect(201);
    expect(next.body).toMatchObject({
      number: 3,
      startsOn: '2022-09-28',
      endsOn: '2022-09-30',
      hostDelegation: 'IN',
      status: 'planned',
    });
    const nextAgenda = await app
      .as('delegate.us', 'get', `/meetings/${next.body.id}/agenda-items`)
      .expect(200);
    expect(
      nextAgenda.body.data.map((a: { title: string; carriedFromId: string | null }) => [
        a.title,
        a.carriedFromId,
      ]),
    ).toEqual([
      ['Review of open action items', null],
      ['Visit programme', agenda[1].id],
      ['Any other business', agenda[2].id],
    ]);
  });
});
