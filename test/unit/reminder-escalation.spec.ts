import { describe, expect, it } from '@jest/globals';
import { addDays } from '../../src/common/dates.js';
import {
  dueSoonWindows,
  escalationDue,
  latestEscalatedDueDate,
  localClock,
  type LocalClock,
  overdueWindow,
  planningHorizon,
} from '../../src/reminders/windows.js';

describe('latestEscalatedDueDate', () => {
  it('is 14 days back once 08:00 has passed, 15 before', () => {
    expect(latestEscalatedDueDate({ today: '2026-03-15', afterSendHour: true })).toBe('2026-03-01');
    expect(latestEscalatedDueDate({ today: '2026-03-15', afterSendHour: false })).toBe(
      '2026-02-28',
    );
  });

  it('bounds escalationDue exactly, across month and year ends and leap days', () => {
    const clocks: LocalClock[] = ['2026-01-01', '2026-03-14', '2028-03-14', '2027-12-31'].flatMap(
      (today) => [
        { today, afterSendHour: false },
        { today, afterSendHour: true },
      ],
    );
    for (const clock of clocks) {
      const latest = latestEscalatedDueDate(clock);
      for (let offset = -40; offset <= 5; offset++) {
        const due = addDays(clock.today, offset);
        expect([due, escalationDue(due, clock)]).toEqual([due, due <= latest]);
      }
    }
  });

  it('follows the recipient timezone', () => {
    // 02:29 UTC: 07:59 in India (not yet), 21:29 the day before in New York (passed).
    const at = new Date('2026-01-15T02:29:00Z');
    expect(latestEscalatedDueDate(localClock(at, 'Asia/Kolkata'))).toBe('2025-12-31');
    expect(latestEscalatedDueDate(localClock(at, 'America/New_York'))).toBe('2025-12-31');
    const later = new Date('2026-01-15T02:30:00Z');
    expect(latestEscalatedDueDate(localClock(later, 'Asia/Kolkata'))).toBe('2026-01-01');
  });
});

describe('planningHorizon', () => {
  it('leaves out only items that need no reminder of any kind', () => {
    for (const afterSendHour of [false, true]) {
      const clock = { today: '2026-12-28', afterSendHour };
      const horizon = planningHorizon(clock);
      expect(horizon).toBe('2027-01-04');
      for (let offset = 1; offset <= 30; offset++) {
        const due = addDays(horizon, offset);
        expect(dueSoonWindows(due, clock, '2000-01-01')).toEqual([]);
        expect(overdueWindow(due, clock, '2000-01-01')).toBeNull();
        expect(escalationDue(due, clock)).toBe(false);
      }
    }
    expect(
      dueSoonWindows('2027-01-04', { today: '2026-12-28', afterSendHour: true }, '2026-12-28'),
    ).toEqual(['2026-12-28']);
  });
});
