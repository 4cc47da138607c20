import { describe, expect, it } from '@jest/globals';
import { BadRequestException } from '@nestjs/common';
import { decodeCursor, encodeCursor, toPage } from '../../src/common/pagination.js';

function cursorOf(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

describe('encodeCursor / decodeCursor', () => {
  it.each([
    [['2021-10-01', 'b3c1a2e4-0000-4000-8000-000000000000']],
    [['dsa.in']],
    [[42, null, 'ü ñ 日本 "quoted" \\ /']],
    [[0, -1.5]],
  ])('round-trips %j', (key) => {
    const cursor = encodeCursor(key);
    expect(decodeCursor(cursor, key.length)).toEqual(key);
  });

  it('produces an opaque, URL-safe string', () => {
    const cursor = encodeCursor(['a/b+c?d=e&f', 'ÿÿÿ']);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['garbage', '!!!not a cursor!!!'],
    ['empty', ''],
    ['base64 of text that is not JSON', Buffer.from('hello').toString('base64url')],
    ['a JSON string', cursorOf('dsa.in')],
    ['a JSON number', cursorOf(1)],
    ['a JSON null', cursorOf(null)],
    ['a JSON object', cursorOf({ 0: 'a', length: 1 })],
    ['a key that is too short', cursorOf([])],
    ['a key that is too long', cursorOf(['a', 'b'])],
    ['an object part', cursorOf([{ id: 'x' }])],
    ['an array part', cursorOf([['x']])],
    ['a boolean part', cursorOf([true])],
  ])('answers 400 for %s', (_what, cursor) => {
    expect(() => decodeCursor(cursor, 1)).toThrow(BadRequestException);
    expect(() => decodeCursor(cursor, 1)).toThrow('cursor is not valid');
  });

  it('checks the length against what the caller expects', () => {
    const cursor = encodeCursor(['2021-10-01', 'id']);
    expect(decodeCursor(cursor, 2)).toEqual(['2021-10-01', 'id']);
    expect(() => decodeCursor(cursor, 1)).toThrow(BadRequestException);
    expect(() => decodeCursor(cursor, 3)).toThrow(BadRequestException);
  });
});

describe('toPage', () => {
  const rows = [
    { id: 'a', n: 1 },
    { id: 'b', n: 2 },
    { id: 'c', n: 3 },
  ];
  const keyOf = (row: { id: string; n: number }) => [row.n, row.id];
  const present = (row: { id: string; n: number }) => row.id.toUpperCase();

  it('drops the extra row and points the cursor at the last row returned', () => {
    const page = toPage(rows, 2, keyOf, present);
    expect(page.data).toEqual(['A', 'B']);
    expect(page.nextCursor).not.toBeNull();
    expect(decodeCursor(page.nextCursor ?? '', 2)).toEqual([2, 'b']);
  });

  it('has no next cursor when no extra row came back', () => {
    expect(toPage(rows, 3, keyOf, present)).toEqual({ data: ['A', 'B', 'C'], nextCursor: null });
    expect(toPage(rows, 50, keyOf, present)).toEqual({ data: ['A', 'B', 'C'], nextCursor: null });
  });

  it('returns an empty page with no cursor for no rows', () => {
    expect(toPage([], 50, keyOf, present)).toEqual({ data: [], nextCursor: null });
  });

  it('walks a list page by page without losing or repeating a row', () => {
    const all = Array.from({ length: 7 }, (_, i) => ({ id: `id-${i}`, n: i }));
    const seen: string[] = [];
    let after: number | undefined;
    for (let guard = 0; guard < 10; guard += 1) {
      const fetched = all.filter((row) => after === undefined || row.n > after).slice(0, 3 + 1);
      const page = toPage(fetched, 3, keyOf, (row) => row.id);
      seen.push(...page.data);
      if (page.nextCursor === null) {
        break;
      }
      after = Number(decodeCursor(page.nextCursor, 2)[0]);
    }
    expect(seen).toEqual(all.map((row) => row.id));
  });
});
