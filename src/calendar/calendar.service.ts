import { Injectable, NotFoundException } from '@nestjs/common';
import ical, { ICalAlarmType, ICalCalendarMethod } from 'ical-generator';
import { createHash, randomBytes } from 'node:crypto';
import { In, Not } from 'typeorm';
import { ActionItem } from '../action-items/action-item.entity.js';
import { visibleScopes } from '../common/access.js';
import type { AuthUser } from '../common/auth-user.js';
import { nowIso } from '../common/clock.js';
import { addDays } from '../common/dates.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { Meeting } from '../meetings/meeting.entity.js';
import { User } from '../users/user.entity.js';
import { CalendarFeed } from './calendar-feed.entity.js';
import { recordEvent } from '../audit/audit-log.js';

const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('base64url');

/**
 * Per-user iCalendar feeds behind a secret URL: the meetings and the user's open action items'
 * due dates. A new token replaces the old one, whose URL then stops working.
 */
@Injectable()
export class CalendarService {
  constructor(private readonly uow: UnitOfWork) {}

  /** Issues a new feed token for the caller; returns it once, in clear. */
  async rotate(caller: AuthUser): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.uow.transaction(async (em) => {
      await em.delete(CalendarFeed, { userId: caller.id });
      await em.insert(CalendarFeed, {
        userId: caller.id,
        tokenHash: hashToken(token),
        createdAt: nowIso(),
      });
      await recordEvent(em, {
        actorId: caller.id,
        action: 'calendar_feed.rotated',
        entityType: 'user',
        entityId: caller.id,
        visibility: 'account',
      });
    });
    return token;
  }

  /** The RFC 5545 text of the feed a token opens, or 404. */
  feed(token: string): Promise<string> {
    return this.uow.read(async (em) => {
      const feed = await em.findOneBy(CalendarFeed, { tokenHash: hashToken(token) });
      const user = feed && (await em.findOneBy(User, { id: feed.userId, active: true }));
      if (!user) {
        throw new NotFoundException('Calendar feed not found');
      }
      const meetings = await em.find(Meeting, {
        where: { status: Not('cancelled') },
        order: { startsOn: 'ASC' },
      });
      // The feed is read as its owner, through the same visibility scope as their requests.
      const items = await em.find(ActionItem, {
        where: {
          ownerId: user.id,
          status: In(['open', 'in_progress', 'blocked']),
          visibility: In(visibleScopes(user)),
        },
        order: { dueDate: 'ASC' },
      });

      const calendar = ical({
        name: 'JWG Tracker',
        prodId: { company: 'JWG Tracker', product: 'jwg-tracker', language: 'EN' },
        method: ICalCalendarMethod.PUBLISH,
      });
      for (const meeting of meetings) {
        const event = calendar.createEvent({
          id: `meeting-${meeting.id}@jwg-tracker`,
          start: meeting.startsOn,
          end: addDays(meeting.endsOn, 1),
          allDay: true,
          summary: `JWG meeting ${meeting.number}: ${meeting.title}`,
          location: meeting.location ?? undefined,
          // Clients keep the copy with the highest SEQUENCE: a change must raise it.
          sequence: meeting.version,
          stamp: meeting.updatedAt,
        });
        event.createAlarm({
          type: ICalAlarmType.display,
          trigger: 86400,
          description: `Tomorrow: ${meeting.title}`,
        });
      }
      for (const item of items) {
        calendar.createEvent({
          id: `action-item-${item.id}@jwg-tracker`,
          start: item.dueDate,
          end: addDays(item.dueDate, 1),
          allDay: true,
          summary: `Due: ${item.code} ${item.title}`,
          description: item.description || undefined,
          sequence: item.version,
          stamp: item.updatedAt,
        });
      }
      return calendar.toString();
    });
  }
}
