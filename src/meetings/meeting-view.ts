import { In, type EntityManager } from 'typeorm';
import type { MeetingDto } from './meeting.dto.js';
import { Meeting, MeetingAttendee, MeetingDecision, MinutesApproval } from './meeting.entity.js';

/** Meetings as the API shows them, with decisions, attendees and approvals (3 queries a batch). */
export async function presentMeetings(
  em: EntityManager,
  meetings: Meeting[],
): Promise<MeetingDto[]> {
  if (meetings.length === 0) {
    return [];
  }
  const ids = meetings.map((m) => m.id);
  // One after another: inside a transaction they share one connection.
  const decisions = await em.find(MeetingDecision, {
    where: { meetingId: In(ids) },
    order: { seq: 'ASC' },
  });
  const attendees = await em.find(MeetingAttendee, {
    where: { meetingId: In(ids) },
    order: { userId: 'ASC' },
  });
  const approvals = await em.find(MinutesApproval, {
    where: { meetingId: In(ids) },
    order: { delegation: 'ASC' },
  });
  return meetings.map((m) => ({
    id: m.id,
    number: m.number,
    title: m.title,
    kind: m.kind,
    startsOn: m.startsOn,
    endsOn: m.endsOn,
    location: m.location,
    hostDelegation: m.hostDelegation,
    status: m.status,
    decisions: decisions
      .filter((d) => d.meetingId === m.id)
      .map((d) => ({ code: `D-${d.seq}`, text: d.text })),
    attendees: attendees.filter((a) => a.meetingId === m.id).map((a) => a.userId),
    minutes: {
      status: m.minutesStatus,
      text: m.minutesText,
      approvals: approvals
        .filter((a) => a.meetingId === m.id)
        .map(({ delegation, userId, at }) => ({ delegation, userId, at })),
    },
    version: m.version,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  }));
}

export async function presentMeeting(em: EntityManager, meeting: Meeting): Promise<MeetingDto> {
  const [view] = await presentMeetings(em, [meeting]);
  return view;
}
