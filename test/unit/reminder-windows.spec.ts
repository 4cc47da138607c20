import { describe, expect, it } from '@jest/globals';
import {
  dueSoonWindows,
  escalationDue,
  hasCome,
  localClock,
  minutesMissingDue,
  overdueWindow,
  upcomingWindow,
} from '../../src/reminders/windows.js';

const IST = 'Asia/Kolkata'; // UTC+05:30
const ET = 'America/New_York'; // UTC-05:00 in winter, -04:00 in summer

describe('local clock', () => {
  it('reads the local day and whether 08:00 has passed', () => {
    // 02:29 UTC is 07:59 in India and 21:29 the day before in New York.
    expect(localClock(new Date('2026-01-15T02:29:00Z'), IST)).toEqual({
      today: '2026-01-15',
      afterSendHour: false,
    });
    expect(localClock(new Date('2026-01-15T02:30:00Z'), IST)).toEqual({
      today: '2026-01-15',
      afterSendHour: true,
    });
    expect(localClock(new Date('2026-01-15T02:30:00Z'), ET)).toEqual({
      today: '2026-01-14',
      afterSendHour: true,
    });
    // 08:00 in New York is 13:00 UTC in winter and 12:00 UTC in summer.
    expect(localClock(new Date('2026-01-15T12:59:00Z'), ET).afterSendHour).toBe(false);
    expect(localClock(new Date('2026-01-15T13:00:00Z'), ET).afterSendHour).toBe(true);
    expect(localClock(new Date('2026-07-15T12:00:00Z'), ET).afterSendHour).toBe(true);
    expect(localClock(new Date('2026-07-15T11:59:00Z'), ET).afterSendHour).toBe(false);
  });

  it('treats a day as come from 08:00 local that day on', () => {
    expect(hasCome('2026-01-15', { today: '2026-01-15', afterSendHour: false })).toBe(false);
    expect(hasCome('2026-01-15', { today: '2026-01-15', afterSendHour: true })).toBe(true);
    expect(hasCome('2026-01-15', { today: '2026-01-16', afterSendHour: false })).toBe(true);
    expect(hasCome('2026-01-15', { today: '2026-01-14', afterSendHour: true })).toBe(false);
  });
});

describe('action_due_soon', () => {
  const at = (today: string, afterSendHour = true) => ({ today, afterSendHour });

  it('opens 7 days and 1 day before the due date, at 08:00 local', () => {
    expect(dueSoonWindows('2026-02-10', at('2026-02-03', false), '2026-02-03')).toEqual([]);
    expect(dueSoonWindows('2026-02-10', at('2026-02-03'), '2026-02-03')).toEqual(['2026-02-03']);
    expect(dueSoonWindows('2026-02-10', at('2026-02-05'), '2026-02-05')).toEqual([]);
    expect(dueSoonWindows('2026-02-10', at('2026-02-09'), '2026-02-09')).toEqual(['2026-02-09']);
  });

  it('catches up a window missed while the service was down, once', () => {
    // Down from the 2nd to the 4th: the pass on the 4th still sends the 7-day reminder.
    expect(dueSoonWindows('2026-02-10', at('2026-02-04'), '2026-02-02')).toEqual(['2026-02-03']);
    // The next pass has a floor of the 4th: nothing more.
    expect(dueSoonWindows('2026-02-10', at('2026-02-04'), '2026-02-04')).toEqual([]);
  });

  it('sends nothing once the due date has passed', () => {
    expect(dueSoonWindows('2026-02-10', at('2026-02-11'), '2026-02-01')).toEqual([]);
  });
});

describe('action_overdue', () => {
  const at = (today: string, afterSendHour = true) => ({ today, afterSendHour });

  it('opens 1, 8, 15 ... days after the due date', () => {
    expect(overdueWindow('2026-02-10', at('2026-02-10'), '2026-02-10')).toBeNull();
    expect(overdueWindow('2026-02-10', at('2026-02-11', false), '2026-02-11')).toBeNull();
    expect(overdueWindow('2026-02-10', at('2026-02-11'), '2026-02-11')).toBe('2026-02-11');
    expect(overdueWindow('2026-02-10', at('2026-02-12'), '2026-02-12')).toBeNull();
    expect(overdueWindow('2026-02-10', at('2026-02-18'), '2026-02-18')).toBe('2026-02-18');
    expect(overdueWindow('2026-02-10', at('2026-02-25'), '2026-02-25')).toBe('2026-02-25');
  });

  it('before 08:00 on a window day, the previous window is the latest', () => {
    expect(overdueWindow('2026-02-10', at('2026-02-18', false), '2026-02-11')).toBe('2026-02-11');
  });

  it('catches up only the latest missed window', () => {
    expect(overdueWindow('2026-02-10', at('2026-03-01'), '2026-02-12')).toBe('2026-02-25');
  });
});

describe('action_escalated', () => {
  it('is due from 08:00 on the 14th day after the due date', () => {
    expect(escalationDue('2026-02-10', { today: '2026-02-24', afterSendHour: false })).toBe(false);
    expect(escalationDue('2026-02-10', { today: '2026-02-24', afterSendHour: true })).toBe(true);
    expect(escalationDue('2026-02-10', { today: '2026-03-30', afterSendHour: false })).toBe(true);
  });
});

describe('meeting_upcoming', () => {
  it('opens 7 days before the start, and not once the meeting has started', () => {
    expect(
      upcomingWindow('2026-03-10', { today: '2026-03-03', afterSendHour: true }, '2026-03-03'),
    ).toBe('2026-03-03');
    expect(
      upcomingWindow('2026-03-10', { today: '2026-03-03', afterSendHour: false }, '2026-03-03'),
    ).toBeNull();
    expect(
      upcomingWindow('2026-03-10', { today: '2026-03-05', afterSendHour: true }, '2026-03-02'),
    ).toBe('2026-03-03');
    expect(
      upcomingWindow('2026-03-10', { today: '2026-03-10', afterSendHour: true }, '2026-03-01'),
    ).toBeNull();
  });
});

describe('minutes_missing', () => {
  it('is due from 08:00 on the 10th day after the meeting ended', () => {
    expect(minutesMissingDue('2026-03-01', { today: '2026-03-11', afterSendHour: false })).toBe(
      false,
    );
    expect(minutesMissingDue('2026-03-01', { today: '2026-03-11', afterSendHour: true })).toBe(
      true,
    );
  });
});
