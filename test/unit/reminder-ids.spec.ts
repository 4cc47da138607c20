import { describe, expect, it } from '@jest/globals';
import { v7 as orderedId } from 'uuid';

/**
 * Reminders and notifications take version 7 UUIDs (the uuid package) so that bulk inserts
 * append to the primary key's B-tree: this is the property the reminder pass relies on.
 */
describe('ordered ids for reminders and notifications', () => {
  it('makes version 7 UUIDs that sort in the order they were made', () => {
    const ids = Array.from({ length: 20000 }, () => orderedId());
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('starts with the time in milliseconds', () => {
    const before = Date.now();
    const ms = parseInt(orderedId().replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThan(before + 60_000);
  });
});
