import { ConflictException, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { assertCan } from '../common/access.js';
import type { AuthUser } from '../common/auth-user.js';
import { nowIso } from '../common/clock.js';
import { assertIfMatch } from '../common/if-match.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { updateVersioned } from '../database/versioned-update.js';
import type { ApproveMinutesDto, MeetingDto } from './meeting.dto.js';
import { Meeting, MinutesApproval } from './meeting.entity.js';
import { presentMeeting } from './meeting-view.js';
import { findMeeting } from './meetings.service.js';
import { approve, circulate, type MinutesVerdict, writeDraft } from './minutes.js';
import { recordEvent } from '../audit/audit-log.js';

/** Minutes: none -> draft -> circulated -> agreed, approved by each DSA for their own side. */
@Injectable()
export class MinutesService {
  constructor(private readonly uow: UnitOfWork) {}

  write(
    caller: AuthUser,
    id: string,
    text: string,
    ifMatch: number[] | undefined,
  ): Promise<MeetingDto> {
    return this.uow.transaction(async (em) => {
      const meeting = await findMeeting(em, id);
      const updated = await writeMinutes(em, meeting, text, ifMatch);
      await recordMinutes(em, caller, updated, 'written');
      return presentMeeting(em, updated);
    });
  }

  circulate(caller: AuthUser, id: string, ifMatch: number[] | undefined): Promise<MeetingDto> {
    return this.uow.transaction(async (em) => {
      const meeting = await findMeeting(em, id);
      assertNotCancelled(meeting);
      const status = settle(circulate(meeting.minutesStatus));
      assertIfMatch(ifMatch, meeting.version);
      const changes = { minutesStatus: status, minutesCirculatedAt: nowIso() };
      const stamp = await updateVersioned(em, Meeting, meeting.id, meeting.version, changes);
      await recordMinutes(em, caller, { ...meeting, ...changes, ...stamp }, 'circulated');
      return presentMeeting(em, { ...meeting, ...changes, ...stamp });
    });
  }

  approve(
    caller: AuthUser,
    id: string,
    dto: ApproveMinutesDto,
    ifMatch: number[] | undefined,
  ): Promise<MeetingDto> {
    return this.uow.transaction(async (em) => {
      const meeting = await findMeeting(em, id);
      const side = dto.delegation ?? caller.delegation!;
      assertCan(caller, { action: 'actForSide', side });
      assertNotCancelled(meeting);
      const approvals = await em.findBy(MinutesApproval, { meetingId: meeting.id });
      const status = settle(
        approve(
          meeting.minutesStatus,
          approvals.map((a) => a.delegation),
          side,
        ),
      );
      assertIfMatch(ifMatch, meeting.version);
      const stamp = await updateVersioned(em, Meeting, meeting.id, meeting.version, {
        minutesStatus: status,
      });
      await em.insert(MinutesApproval, {
        meetingId: meeting.id,
        delegation: side,
        userId: caller.id,
        at: nowIso(),
      });
      await recordMinutes(
        em,
        caller,
        { ...meeting, minutesStatus: status, ...stamp },
        'approved',
        side,
      );
      return presentMeeting(em, { ...meeting, minutesStatus: status, ...stamp });
    });
  }
}

/**
 * Writes the draft (PUT minutes, or the minutes of an outcome): refused on a cancelled meeting
 * or agreed minutes; editing circulated minutes voids their approvals and returns them to draft.
 */
export async function writeMinutes(
  em: EntityManager,
  meeting: Meeting,
  text: string,
  ifMatch: number[] | undefined,
): Promise<Meeting> {
  assertNotCancelled(meeting);
  const { clearsApprovals } = settle(writeDraft(meeting.minutesStatus));
  assertIfMatch(ifMatch, meeting.version);
  if (clearsApprovals) {
    await em.delete(MinutesApproval, { meetingId: meeting.id });
  }
  const changes = { minutesStatus: 'draft' as const, minutesText: text };
  const stamp = await updateVersioned(em, Meeting, meeting.id, meeting.version, changes);
  return { ...meeting, ...changes, ...stamp };
}

function recordMinutes(
  em: EntityManager,
  caller: AuthUser,
  meeting: Meeting,
  verb: 'written' | 'circulated' | 'approved',
  side?: string,
): Promise<void> {
  return recordEvent(em, {
    actorId: caller.id,
    action: `meeting.minutes_${verb}`,
    entityType: 'meeting',
    entityId: meeting.id,
    changes: {
      minutesStatus: meeting.minutesStatus,
      version: meeting.version,
      ...(side ? { side } : {}),
    },
    visibility: 'joint',
  });
}

function assertNotCancelled(meeting: Meeting): void {
  if (meeting.status === 'cancelled') {
    throw new ConflictException('The meeting is cancelled');
  }
}

function settle<T>(verdict: MinutesVerdict<T>): T {
  if (!verdict.ok) {
    throw new ConflictException(verdict.reason);
  }
  return verdict.value;
}
