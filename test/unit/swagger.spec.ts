import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage } from 'class-validator';
import {
  CreateActionItemDto,
  ActionItemFiltersDto,
  ListActionItemsQueryDto,
  UpdateActionItemDto,
} from '../../src/action-items/action-item.dto.js';
import { CreateAgendaItemDto, UpdateAgendaItemDto } from '../../src/agenda/agenda-item.dto.js';
import { PageQueryDto } from '../../src/common/pagination.js';
import { loadSwagger } from '../../src/common/swagger.js';
import {
  CreateMeetingDto,
  ListMeetingsQueryDto,
  MeetingFiltersDto,
  UpdateMeetingDto,
} from '../../src/meetings/meeting.dto.js';
import {
  CreatePolicyItemDto,
  ListPolicyItemsQueryDto,
  PolicyItemFiltersDto,
  UpdatePolicyItemDto,
} from '../../src/policy-items/policy-item.dto.js';
import { CreateUserDto, UpdateUserDto } from '../../src/users/dto/user.dto.js';

type Swagger = Awaited<ReturnType<typeof loadSwagger>>;

/**
 * common/swagger.ts makes the mapped DTOs with @nestjs/mapped-types and takes only their
 * OpenAPI properties from @nestjs/swagger's mapped types, so they must validate and transform
 * exactly as @nestjs/swagger's own would. The two differ where a documented property has no
 * validation rule (swagger's PartialType makes it optional, hence allowed) and where
 * intersected classes transform the same property.
 */
const MAPPED: [string, Type, (swagger: Swagger) => Type][] = [
  [
    'UpdateActionItemDto',
    UpdateActionItemDto,
    (swagger) => swagger.PartialType(CreateActionItemDto, { skipNullProperties: false }),
  ],
  [
    'UpdateAgendaItemDto',
    UpdateAgendaItemDto,
    (swagger) => swagger.PartialType(CreateAgendaItemDto, { skipNullProperties: false }),
  ],
  [
    'UpdateMeetingDto',
    UpdateMeetingDto,
    (swagger) => swagger.PartialType(CreateMeetingDto, { skipNullProperties: false }),
  ],
  [
    'UpdatePolicyItemDto',
    UpdatePolicyItemDto,
    (swagger) => swagger.PartialType(CreatePolicyItemDto, { skipNullProperties: false }),
  ],
  [
    'UpdateUserDto',
    UpdateUserDto,
    (swagger) =>
      swagger.PartialType(
        swagger.PickType(CreateUserDto, ['displayName', 'role', 'email', 'timezone'] as const),
        { skipNullProperties: false },
      ),
  ],
  [
    'ListActionItemsQueryDto',
    ListActionItemsQueryDto,
    (swagger) => swagger.IntersectionType(PageQueryDto, ActionItemFiltersDto),
  ],
  [
    'ListMeetingsQueryDto',
    ListMeetingsQueryDto,
    (swagger) => swagger.IntersectionType(PageQueryDto, MeetingFiltersDto),
  ],
  [
    'ListPolicyItemsQueryDto',
    ListPolicyItemsQueryDto,
    (swagger) => swagger.IntersectionType(PageQueryDto, PolicyItemFiltersDto),
  ],
];

/**
 * The distinct validation rules of a class (not who declared them), conditions by their code:
 * @nestjs/mapped-types repeats a PartialType's condition once per rule of a property, which
 * changes nothing (a property is validated when all its conditions hold).
 */
function rules(dto: Type): string[] {
  const code = (_key: string, value: unknown) =>
    typeof value === 'function' ? value.toString() : value;
  const all = getMetadataStorage()
    .getTargetValidationMetadatas(dto, '', false, false)
    .map(({ target: _target, ...rule }) => JSON.stringify(rule, code));
  return [...new Set(all)].sort();
}

/** Every property of `dto` given the same raw value, as a query string or a sloppy body would. */
function transformed(dto: Type, value: string): string {
  const plain = Object.fromEntries(
    getMetadataStorage()
      .getTargetValidationMetadatas(dto, '', false, false)
      .map(({ propertyName }) => [propertyName, value]),
  );
  return JSON.stringify(plainToInstance(dto, plain));
}

describe('common/swagger mapped types', () => {
  let swagger: Swagger;

  beforeAll(async () => {
    swagger = await loadSwagger();
  });

  it.each(MAPPED)('%s validates and transforms as with @nestjs/swagger', (_name, dto, make) => {
    const ours = Object.getPrototypeOf(dto) as Type;
    const theirs = make(swagger);
    expect(rules(ours).length).toBeGreaterThan(0);
    expect(rules(ours)).toEqual(rules(theirs));
    for (const value of ['7', ' 7 ', '']) {
      expect(transformed(ours, value)).toEqual(transformed(theirs, value));
    }
  });
});
