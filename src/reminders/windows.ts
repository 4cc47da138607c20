import { addDays, daysBetween } from '../common/dates.js';

/** Reminders for a day go out on the first pass at or after 08:00 local time that day. */
export const SEND_HOUR = 8;

/** Where a recipient is in their own day: their local date, and whether 08:00 has passed. */
export interface LocalClock {
  today: string;
  afterSendHour: boolean;
}

const clockFormats = new Map<string, Intl.DateTimeFormat>();

export function localClock(instant: Date, timezone: string): LocalClock {
  let format = clockFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
    });
    clockFormats.set(timezone, format);
  }
  const parts = format.formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return {
    today: `${part('year')}-${part('month')}-${part('day')}`,
    afterSendHour: Number(part('hour')) >= SEND_HOUR,
  };
}

/** Has the send time of local day `day` come, on this clock? */
export function hasCome(day: string, clock: LocalClock): boolean {
  return clock.today > day || (clock.today === day && clock.afterSendHour);
}

/**
 * The window of a day-bound reminder (due soon, overdue, upcoming) is open when its send time
 * has come and the day is not older than the catch-up floor: the recipient's local day of the
 * previous pass. So a pass missed while the service was down is caught up once, and history
 * from before the service ran does not flood anyone.
 */
export function dayIsDue(day: string, clock: LocalClock, floorDay: string): boolean {
  return day >= floorDay && hasCome(day, clock);
}

/** The days before the due date on which `action_due_soon` is sent. */
export const DUE_SOON_DAYS = [7, 1] as const;

/**
 * The latest due date an open item can have and still need a reminder on this clock: due soon
 * starts 7 days ahead; overdue and escalated come after the due date.
 */
export function planningHorizon(clock: LocalClock): string {
  return addDays(clock.today, Math.max(...DUE_SOON_DAYS));
}

/** `action_due_soon` windows that are due now: 7 and 1 days before the due date. */
export function dueSoonWindows(dueDate: string, clock: LocalClock, floorDay: string): string[] {
  if (clock.today > dueDate) {
    return [];
  }
  return DUE_SOON_DAYS.map((n) => addDays(dueDate, -n)).filter((day) =>
    dayIsDue(day, clock, floorDay),
  );
}

/**
 * The `action_overdue` window due now, if any: days 1, 8, 15, ... after the due date. Only the
 * latest one that has come is sent; a longer outage catches up once, not once per week missed.
 */
export function overdueWindow(dueDate: string, clock: LocalClock, floorDay: string): string | null {
  const first = addDays(dueDate, 1);
  if (!hasCome(first, clock)) {
    return null;
  }
  let day = addDays(first, Math.floor(daysBetween(first, clock.today) / 7) * 7);
  if (!hasCome(day, clock)) {
    day = addDays(day, -7);
  }
  return day >= floorDay ? day : null;
}

/** `action_escalated` is sent once, on the first pass 14 or more days after the due date. */
export const ESCALATE_AFTER_DAYS = 14;

export function escalationDue(dueDate: string, clock: LocalClock): boolean {
  return hasCome(addDays(dueDate, ESCALATE_AFTER_DAYS), clock);
}

/**
 * The latest due date whose escalation is due on this clock: escalationDue(d, clock) holds
 * exactly for d <= latestEscalatedDueDate(clock). Lets the planner ask the ledger only about
 * items that can need an escalation.
 */
export function latestEscalatedDueDate(clock: LocalClock): string {
  return addDays(clock.today, -ESCALATE_AFTER_DAYS - (clock.afterSendHour ? 0 : 1));
}

/** `meeting_upcoming`: 7 days before the meeting starts. */
export const UPCOMING_DAYS = 7;

export function upcomingWindow(
  startsOn: string,
  clock: LocalClock,
  floorDay: string,
): string | null {
  const day = addDays(startsOn, -UPCOMING_DAYS);
  return clock.today < startsOn && dayIsDue(day, clock, floorDay) ? day : null;
}

/** `minutes_missing`: once, 10 or more days after a held meeting ended without minutes. */
export const MINUTES_MISSING_DAYS = 10;

export function minutesMissingDue(endsOn: string, clock: LocalClock): boolean {
  return hasCome(addDays(endsOn, MINUTES_MISSING_DAYS), clock);
}
