import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { nowIso } from '../common/clock.js';
import { addDays, addMonthsClamped, daysBetween } from '../common/dates.js';
import { assertIfMatch } from '../common/if-match.js';
import { ValidationProblem } from '../common/problem-details.filter.js';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../common/pagination.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { updateVersioned } from '../database/versioned-update.js';
import { AgendaItem } from '../agenda/agenda-item.entity.js';
import { findWorkingGroup } from '../working-group/working-group.service.js';
import { canMoveMeeting } from './meeting-status.js';
import type {
  CreateMeetingDto,
  ListMeetingsQueryDto,
  MeetingDto,
  UpdateMeetingDto,
} from './meeting.dto.js';
import { Meeting } from './meeting.entity.js';
import { presentMeeting, presentMeetings } from './meeting-view.js';
import { recordCreated, recordUpdate } from '../audit/audit-log.js';
import type { AuthUser } from '../common/auth-user.js';

const JOINT = { before: 'joint', after: 'joint' } as const;

/** The item every periodic meeting opens with. */
export const STANDING_ITEM = 'Review of open action items';

@Injectable()
export class MeetingsService {
  constructor(private readonly uow: UnitOfWork) {}

  async list(query: ListMeetingsQueryDto): Promise<Page<MeetingDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    return this.uow.read(async (em) => {
      const qb = em
        .createQueryBuilder(Meeting, 'm')
        .orderBy('m.starts_on')
        .addOrderBy('m.id')
        .limit(limit + 1);
      if (query.status) {
        qb.andWhere('m.status = :status', { status: query.status });
      }
      if (query.from) {
        qb.andWhere('m.starts_on >= :from', { from: query.from });
      }
      if (query.to) {
        qb.andWhere('m.starts_on <= :to', { to: query.to });
      }
      if (query.cursor) {
        const [startsOn, id] = decodeCursor(query.cursor, 2);
        qb.andWhere('(m.starts_on > :startsOn OR (m.starts_on = :startsOn AND m.id > :id))', {
          startsOn,
          id,
        });
      }
      const page = toPage(
        await qb.getMany(),
        limit,
        (m) => [m.startsOn, m.id],
        (m) => m,
      );
      return { data: await presentMeetings(em, page.data), nextCursor: page.nextCursor };
    });
  }

  get(id: string): Promise<MeetingDto> {
    return this.uow.read(async (em) => presentMeeting(em, await findMeeting(em, id)));
  }

  create(caller: AuthUser, dto: CreateMeetingDto): Promise<MeetingDto> {
    assertDates(dto.startsOn, dto.endsOn);
    return this.uow.transaction(async (em) => {
      const meeting = await insertMeeting(em, {
        title: dto.title,
        kind: dto.kind,
        startsOn: dto.startsOn,
        endsOn: dto.endsOn,
        location: dto.location ?? null,
        hostDelegation: dto.hostDelegation,
      });
      await recordCreated(em, caller, 'meeting', meeting.id, 'joint', {
        number: meeting.number,
        ...dto,
      });
      return presentMeeting(em, meeting);
    });
  }

  update(
    caller: AuthUser,
    id: string,
    dto: UpdateMeetingDto,
    ifMatch: number[] | undefined,
  ): Promise<MeetingDto> {
    return this.uow.transaction(async (em) => {
      const meeting = await findMeeting(em, id);
      assertDates(
        dto.startsOn ?? meeting.startsOn,
        dto.endsOn ?? meeting.endsOn,
        dto.endsOn === undefined ? 'startsOn' : 'endsOn',
      );
      if (dto.status && !canMoveMeeting(meeting.status, dto.status)) {
        throw new ConflictException(`A ${meeting.status} meeting cannot move to ${dto.status}`);
      }
      assertIfMatch(ifMatch, meeting.version);
      const stamp = await updateVersioned(em, Meeting, meeting.id, meeting.version, dto);
      await recordUpdate(em, caller.id, 'meeting', meeting.id, JOINT, {
        ...dto,
        version: stamp.version,
      });
      return presentMeeting(em, { ...meeting, ...dto, ...stamp });
    });
  }

  /**
   * Schedules the next periodic meeting after the one with the highest number: cadenceMonths
   * later (clamped to the month's end), as long, hosted by the other side, with that
   * meeting's pending and deferred agenda items carried over after the standing item.
   */
  next(caller: AuthUser): Promise<MeetingDto> {
    return this.uow.transaction(async (em) => {
      const [last] = await em.find(Meeting, { order: { number: 'DESC' }, take: 1 });
      if (!last) {
        throw new ConflictException('There is no meeting yet to follow: create the first one');
      }
      const { cadenceMonths } = await findWorkingGroup(em);
      const startsOn = addMonthsClamped(last.startsOn, cadenceMonths);
      const meeting = await insertMeeting(em, {
        title: `JWG meeting ${last.number + 1}`,
        kind: 'plenary',
        startsOn,
        endsOn: addDays(startsOn, daysBetween(last.startsOn, last.endsOn)),
        location: null,
        hostDelegation: last.hostDelegation === 'IN' ? 'US' : 'IN',
      });
      const carried = await em
        .createQueryBuilder(AgendaItem, 'a')
        .where("a.meeting_id = :id AND a.status IN ('pending', 'deferred')", { id: last.id })
        .andWhere('a.title <> :standing', { standing: STANDING_ITEM })
        .orderBy('a.position')
        .addOrderBy('a.id')
        .getMany();
      // Joint items are numbered 2, 3, ... after the standing item; each delegation's own items
      // follow on from the joint ones, so neither side sees gaps left by the other's.
      const jointCount = carried.filter((item) => item.visibility === 'joint').length;
      const counters = new Map<string, number>([['joint', 1]]);
      const nextPosition = (visibility: string) => {
        const position = (counters.get(visibility) ?? jointCount + 1) + 1;
        counters.set(visibility, position);
        return position;
      };
      const now = nowIso();
      const agenda: AgendaItem[] = [
        {
          id: randomUUID(),
          meetingId: meeting.id,
          position: 1,
          title: STANDING_ITEM,
          description: '',
          leadDelegation: null,
          policyItemId: null,
          status: 'pending',
          outcome: null,
          carriedFromId: null,
          visibility: 'joint',
          version: 1,
          createdAt: now,
          updatedAt: now,
        },
        ...carried.map((item) => ({
          ...item,
          id: randomUUID(),
          meetingId: meeting.id,
          position: nextPosition(item.visibility),
          status: 'pending' as const,
          outcome: null,
          carriedFromId: item.id,
          version: 1,
          createdAt: now,
          updatedAt: now,
        })),
      ];
      await em.insert(AgendaItem, agenda);
      await recordCreated(em, caller, 'meeting', meeting.id, 'joint', {
        number: meeting.number,
        startsOn: meeting.startsOn,
        hostDelegation: meeting.hostDelegation,
      });
      for (const item of agenda) {
        await recordCreated(em, caller, 'agenda_item', item.id, item.visibility, {
          meetingId: meeting.id,
          title: item.title,
          carriedFromId: item.carriedFromId,
        });
      }
      return presentMeeting(em, meeting);
    });
  }
}

export async function findMeeting(em: EntityManager, id: string): Promise<Meeting> {
  const meeting = await em.findOneBy(Meeting, { id });
  if (!meeting) {
    throw new NotFoundException('Meeting not found');
  }
  return meeting;
}

async function insertMeeting(
  em: EntityManager,
  fields: Pick<Meeting, 'title' | 'kind' | 'startsOn' | 'endsOn' | 'location' | 'hostDelegation'>,
): Promise<Meeting> {
  const { highest } = (await em
    .createQueryBuilder(Meeting, 'm')
    .select('MAX(m.number)', 'highest')
    .getRawOne<{ highest: number | null }>())!;
  const now = nowIso();
  const meeting: Meeting = {
    id: randomUUID(),
    number: (highest ?? 0) + 1,
    ...fields,
    status: 'planned',
    minutesStatus: 'none',
    minutesText: null,
    minutesCirculatedAt: null,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  await em.insert(Meeting, meeting);
  return meeting;
}

/** A validation error like any other, named after the date the request changed. */
function assertDates(startsOn: string, endsOn: string, field = 'endsOn'): void {
  if (endsOn < startsOn) {
    throw new ValidationProblem([{ field, message: 'endsOn must be on or after startsOn' }]);
  }
}
