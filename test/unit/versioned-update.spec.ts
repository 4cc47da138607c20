import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { PreconditionFailedException } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource, EntityManager } from 'typeorm';
import { openDatabase } from '../../src/database/data-source.js';
import { UnitOfWork } from '../../src/database/unit-of-work.js';
import { updateVersioned } from '../../src/database/versioned-update.js';
import { WorkingGroup } from '../../src/working-group/working-group.entity.js';

const ID = '00000000-0000-4000-8000-000000000001';
const CREATED = '2021-09-27T09:00:00.000Z';

interface Row {
  name: string;
  mandate: string;
  cadence_months: number;
  version: number;
  created_at: string;
  updated_at: string;
}

async function row(em: EntityManager): Promise<Row> {
  const rows: Row[] = await em.query(
    'SELECT name, mandate, cadence_months, version, created_at, updated_at FROM working_group WHERE id = ?',
    [ID],
  );
  expect(rows).toHaveLength(1);
  return rows[0];
}

describe(updateVersioned.name, () => {
  let dir: string;
  let dataSource: DataSource;
  let uow: UnitOfWork;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jwg-versioned-'));
    dataSource = await openDatabase({ databasePath: join(dir, 'jwg.sqlite') });
    uow = new UnitOfWork(dataSource);
    await uow.transaction((em) =>
      em.insert(WorkingGroup, {
        id: ID,
        name: 'Indo-US Industrial Security Joint Working Group',
        mandate: 'Align industrial security policies and procedures',
        cadenceMonths: 6,
        version: 1,
        createdAt: CREATED,
        updatedAt: CREATED,
      }),
    );
  });

  afterEach(async () => {
    await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the changes, bumps the version and stamps updatedAt when the version matches', async () => {
    const before = Date.now();
    const stamp = await uow.transaction((em) =>
      updateVersioned(em, WorkingGroup, ID, 1, { name: 'JWG', cadenceMonths: 3 }),
    );

    expect(stamp.version).toBe(2);
    expect(stamp.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(stamp.updatedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(await uow.read(row)).toEqual({
      name: 'JWG',
      mandate: 'Align industrial security policies and procedures',
      cadence_months: 3,
      version: 2,
      created_at: CREATED,
      updated_at: stamp.updatedAt,
    });
  });

  it('moves on from version to version', async () => {
    await uow.transaction((em) => updateVersioned(em, WorkingGroup, ID, 1, { cadenceMonths: 4 }));
    const stamp = await uow.transaction((em) =>
      updateVersioned(em, WorkingGroup, ID, 2, { cadenceMonths: 5 }),
    );
    expect(stamp.version).toBe(3);
    expect(await uow.read(row)).toMatchObject({ cadence_months: 5, version: 3 });
  });

  it('cannot be talked out of its version bump by the changes', async () => {
    const stamp = await uow.transaction((em) =>
      updateVersioned(em, WorkingGroup, ID, 1, {
        name: 'JWG',
        version: 99,
        updatedAt: '1999-01-01T00:00:00.000Z',
      }),
    );
    expect(await uow.read(row)).toMatchObject({ version: 2, updated_at: stamp.updatedAt });
  });

  it.each([0, 2, 7])('throws 412 for stale version %i and changes nothing', async (stale) => {
    const before = await uow.read(row);
    await expect(
      uow.transaction((em) => updateVersioned(em, WorkingGroup, ID, stale, { name: 'Changed' })),
    ).rejects.toThrow(PreconditionFailedException);
    expect(await uow.read(row)).toEqual(before);
  });

  it('throws 412 for a row that does not exist', async () => {
    await expect(
      uow.transaction((em) =>
        updateVersioned(em, WorkingGroup, '00000000-0000-4000-8000-000000000099', 1, {
          name: 'Nobody',
        }),
      ),
    ).rejects.toThrow(PreconditionFailedException);
  });

  it('lets exactly one of two racing writers with the same version win; the other gets 412', async () => {
    const results = await Promise.allSettled(
      (['Writer A', 'Writer B'] as const).map((name) =>
        uow.transaction(async (em) => {
          // Both clients read ETag "1" before either wrote: the lost-update race.
          await new Promise((resolve) => setImmediate(resolve));
          return { name, ...(await updateVersioned(em, WorkingGroup, ID, 1, { name })) };
        }),
      ),
    );

    const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(PreconditionFailedException);
    expect((lost[0] as PreconditionFailedException).getStatus()).toBe(412);
    expect(await uow.read(row)).toMatchObject({ name: won[0].name, version: 2 });
  });

  it('lets ten racing writers through one at a time: one wins, nine get 412', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        uow.transaction((em) => updateVersioned(em, WorkingGroup, ID, 1, { cadenceMonths: i + 1 })),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter(
        (r) => r.status === 'rejected' && r.reason instanceof PreconditionFailedException,
      ),
    ).toHaveLength(9);
    expect(await uow.read(row)).toMatchObject({ version: 2, cadence_months: 1 });
  });

  it('rolls the update back with the rest of its transaction', async () => {
    await expect(
      uow.transaction(async (em) => {
        await updateVersioned(em, WorkingGroup, ID, 1, { name: 'Doomed' });
        throw new Error('a later step failed');
      }),
    ).rejects.toThrow('a later step failed');
    expect(await uow.read(row)).toMatchObject({
      name: expect.stringContaining('Indo-US'),
      version: 1,
    });
  });
});
