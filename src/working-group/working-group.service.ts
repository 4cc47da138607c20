import { Injectable, NotFoundException } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { assertIfMatch } from '../common/if-match.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { updateVersioned } from '../database/versioned-update.js';
import type { UpdateWorkingGroupDto, WorkingGroupDto } from './working-group.dto.js';
import { WorkingGroup } from './working-group.entity.js';
import { recordUpdate } from '../audit/audit-log.js';
import type { AuthUser } from '../common/auth-user.js';

const JOINT = { before: 'joint', after: 'joint' } as const;

@Injectable()
export class WorkingGroupService {
  constructor(private readonly uow: UnitOfWork) {}

  get(): Promise<WorkingGroupDto> {
    return this.uow.read(async (em) => present(await findWorkingGroup(em)));
  }

  update(
    caller: AuthUser,
    dto: UpdateWorkingGroupDto,
    ifMatch: number[] | undefined,
  ): Promise<WorkingGroupDto> {
    return this.uow.transaction(async (em) => {
      const group = await findWorkingGroup(em);
      assertIfMatch(ifMatch, group.version);
      const stamp = await updateVersioned(em, WorkingGroup, group.id, group.version, dto);
      await recordUpdate(em, caller.id, 'working_group', group.id, JOINT, {
        ...dto,
        version: stamp.version,
      });
      return present({ ...group, ...dto, ...stamp });
    });
  }
}

/** The one working group this instance runs (seeded at first start). */
export async function findWorkingGroup(em: EntityManager): Promise<WorkingGroup> {
  const [group] = await em.find(WorkingGroup, { take: 1 });
  if (!group) {
    throw new NotFoundException('The working group has not been set up: run the seeds');
  }
  return group;
}

function present(group: WorkingGroup): WorkingGroupDto {
  const { name, mandate, cadenceMonths, version, createdAt, updatedAt } = group;
  return { name, mandate, cadenceMonths, version, createdAt, updatedAt };
}
