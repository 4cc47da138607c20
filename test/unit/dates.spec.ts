import { describe, expect, it } from '@jest/globals';
import {
  addDays,
  addMonthsClamped,
  daysBetween,
  isDateOnly,
  todayIn,
} from '../../src/common/dates.js';

describe('dates', () => {
  it.each([
    ['2021-09-27', true],
    ['2024-02-29', true],
    ['2023-02-29', false],
    ['2021-13-01', false],
    ['2021-9-27', false],
    ['2021-09-27T00:00:00Z', false],
    ['', false],
  ])('isDateOnly(%s) is %s', (value, ok) => {
    expect(isDateOnly(value)).toBe(ok);
  });

  it('refuses non-strings', () => {
    expect(isDateOnly(20210927)).toBe(false);
    expect(isDateOnly(null)).toBe(false);
  });

  it.each([
    ['2021-09-27', 6, '2022-03-27'],
    ['2023-08-31', 6, '2024-02-29'],
    ['2022-08-31', 6, '2023-02-28'],
    ['2021-10-31', 1, '2021-11-30'],
    ['2021-12-15', 1, '2022-01-15'],
    ['2021-01-31', 24, '2023-01-31'],
  ])('addMonthsClamped(%s, %d) = %s', (date, months, expected) => {
    expect(addMonthsClamped(date, months)).toBe(expected);
  });

  it('adds days and counts them across month and year ends', () => {
    expect(addDays('2021-12-30', 3)).toBe('2022-01-02');
    expect(daysBetween('2021-09-27', '2021-10-01')).toBe(4);
    expect(daysBetween('2024-02-28', '2024-03-01')).toBe(2);
  });

  it("gives today's date in a timezone, which differs across the date line", () => {
    const instant = new Date('2026-03-10T20:00:00Z');
    expect(todayIn('UTC', instant)).toBe('2026-03-10');
    expect(todayIn('Asia/Kolkata', instant)).toBe('2026-03-11'); // 01:30 IST
    expect(todayIn('America/New_York', instant)).toBe('2026-03-10'); // 16:00 EDT
  });
});
