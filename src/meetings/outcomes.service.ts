import { ConflictException, ForbiddenException, Injectable } from '@nestjs/common';
import { In, type EntityManager } from 'typeorm';
import { canSee } from '../common/access.js';
import type { AuthUser } from '../common/auth-user.js';
import { nowIso } from '../common/clock.js';
import { assertIfMatch } from '../common/if-match.js';
import { type FieldError, ValidationProblem } from '../common/problem-details.filter.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { updateVersioned } from '../database/versioned-update.js';
import type { ActionItemDto } from '../action-items/action-item.dto.js';
import { ActionItemRefLookup, resolveActionItemRefs } from '../action-items/action-item-refs.js';
import {
  type CheckedActionItem,
  insertActionItems,
  presentRow,
} from '../action-items/action-items.service.js';
import { AgendaItem } from '../agenda/agenda-item.entity.js';
import { User } from '../users/user.entity.js';
import { acceptsOutcomes } from './meeting-status.js';
import type { LogOutcomesDto, MeetingDto } from './meeting.dto.js';
import { Meeting, MeetingAttendee, MeetingDecision, MinutesApproval } from './meeting.entity.js';
import { presentMeeting } from './meeting-view.js';
import { findMeeting } from './meetings.service.js';
import { writeDraft } from './minutes.js';
import { recordEvent, recordUpdate } from '../audit/audit-log.js';

export interface OutcomesResult {
  meeting: MeetingDto;
  actionItems: ActionItemDto[];
}

/**
 * Logs what a meeting produced, in one transaction: attendance, agenda outcomes, decisions
 * (D-n), new action items and the draft minutes; the meeting becomes held. Any invalid part
 * is a 400 naming it, and then nothing at all is written.
 */
@Injectable()
export class OutcomesService {
  constructor(private readonly uow: UnitOfWork) {}

  log(
    caller: AuthUser,
    meetingId: string,
    dto: LogOutcomesDto,
    ifMatch: number[] | undefined,
  ): Promise<OutcomesResult> {
    return this.uow.transaction(async (em) => {
      const meeting = await findMeeting(em, meetingId);
      const { agendaItems, newItems } = await checkReferences(em, caller, meeting, dto);
      if (!acceptsOutcomes(meeting.status)) {
        throw new ConflictException('The meeting is cancelled');
      }
      const draft = writeDraft(meeting.minutesStatus);
      if (!draft.ok) {
        throw new ConflictException(draft.reason);
      }
      assertIfMatch(ifMatch, meeting.version);

      if (dto.attendees) {
        await em.delete(MeetingAttendee, { meetingId: meeting.id });
        const unique = [...new Set(dto.attendees)];
        if (unique.length > 0) {
          await em.insert(
            MeetingAttendee,
            unique.map((userId) => ({ meetingId: meeting.id, userId })),
          );
        }
      }
      for (const outcome of dto.agendaOutcomes ?? []) {
        const item = agendaItems.get(outcome.agendaItemId)!;
        const change = { status: outcome.status, outcome: outcome.outcome ?? item.outcome };
        await updateVersioned(em, AgendaItem, item.id, item.version, change);
        item.version += 1;
        await recordUpdate(
          em,
          caller.id,
          'agenda_item',
          item.id,
          { before: item.visibility, after: item.visibility },
          change,
        );
      }
      if (dto.decisions?.length) {
        const { highest } = (await em
          .createQueryBuilder(MeetingDecision, 'd')
          .select('MAX(d.seq)', 'highest')
          .where('d.meeting_id = :id', { id: meeting.id })
          .getRawOne<{ highest: number | null }>())!;
        const now = nowIso();
        await em.insert(
          MeetingDecision,
          dto.decisions.map((text, i) => ({
            meetingId: meeting.id,
            seq: (highest ?? 0) + i + 1,
            text,
            createdAt: now,
          })),
        );
      }
      const changes: Partial<Meeting> = { status: 'held' };
      if (dto.minutes !== undefined) {
        if (draft.value.clearsApprovals) {
          await em.delete(MinutesApproval, { meetingId: meeting.id });
        }
        Object.assign(changes, { minutesStatus: 'draft', minutesText: dto.minutes });
      }
      const stamp = await updateVersioned(em, Meeting, meeting.id, meeting.version, changes);
      // Last, as their codes lock their counters until commit (see nextCodes).
      const actionItems = await insertActionItems(em, caller, newItems);
      // Joint facts only: the agenda items and action items have events of their own.
      await recordEvent(em, {
        actorId: caller.id,
        action: 'meeting.outcomes_logged',
        entityType: 'meeting',
        entityId: meeting.id,
        changes: {
          status: 'held',
          attendees: dto.attendees,
          decisions: dto.decisions,
          minutes: dto.minutes !== undefined,
          version: stamp.version,
        },
        visibility: 'joint',
      });
      return {
        meeting: await presentMeeting(em, { ...meeting, ...changes, ...stamp }),
        actionItems: actionItems.map((row) => presentRow(row)),
      };
    });
  }
}

/**
 * Every part is checked before anything is written, and every bad part is named at once:
 * attendees are users, agenda outcomes name visible items of this meeting, action items pass
 * the checks of POST /action-items (400s first), then none of them is placed in a view the
 * caller does not belong to (403, naming the item).
 */
async function checkReferences(
  em: EntityManager,
  caller: AuthUser,
  meeting: Meeting,
  dto: LogOutcomesDto,
): Promise<{ agendaItems: Map<string, AgendaItem>; newItems: CheckedActionItem[] }> {
  const errors: FieldError[] = [];
  if (dto.attendees?.length) {
    const known = new Set(
      (await em.find(User, { select: { id: true }, where: { id: In(dto.attendees) } })).map(
        (u) => u.id,
      ),
    );
    dto.attendees.forEach((id, i) => {
      if (!known.has(id)) {
        errors.push({ field: `attendees[${i}]`, message: 'names no user' });
      }
    });
  }
  const ids = (dto.agendaOutcomes ?? []).map((o) => o.agendaItemId);
  const items = new Map(
    (ids.length ? await em.findBy(AgendaItem, { id: In(ids), meetingId: meeting.id }) : [])
      .filter((item) => canSee(caller, item.visibility))
      .map((item) => [item.id, item]),
  );
  ids.forEach((id, i) => {
    if (!items.has(id)) {
      errors.push({
        field: `agendaOutcomes[${i}].agendaItemId`,
        message: 'names no agenda item of this meeting',
      });
    }
  });
  if (new Set(ids).size !== ids.length) {
    errors.push({ field: 'agendaOutcomes', message: 'names an agenda item twice' });
  }
  // Each owner, policy item and agenda item is looked up once, however many items share it.
  const lookup = new ActionItemRefLookup().knownMeeting(meeting.id);
  const newItems: CheckedActionItem[] = [];
  for (const [i, item] of (dto.actionItems ?? []).entries()) {
    if (item.meetingId !== undefined && item.meetingId !== null && item.meetingId !== meeting.id) {
      errors.push({
        field: `actionItems[${i}].meetingId`,
        message: 'must be this meeting or absent',
      });
    }
    const visibility = item.visibility ?? 'joint';
    try {
      const refs = await resolveActionItemRefs(
        em,
        caller,
        { ...item, visibility, meetingId: meeting.id },
        `actionItems[${i}].`,
        lookup,
      );
      newItems.push({ dto: { ...item, meetingId: meeting.id }, visibility, refs });
    } catch (error) {
      if (!(error instanceof ValidationProblem)) {
        throw error;
      }
      errors.push(...error.errors);
    }
  }
  if (errors.length > 0) {
    throw new ValidationProblem(errors, 'The outcome refers to records that cannot be used');
  }
  (dto.actionItems ?? []).forEach((item, i) => {
    const visibility = item.visibility ?? 'joint';
    if (!canSee(caller, visibility)) {
      throw new ForbiddenException(
        `actionItems[${i}].visibility: you cannot place a record in the ${visibility} ` +
          "delegation's view",
      );
    }
  });
  return { agendaItems: items, newItems };
}
