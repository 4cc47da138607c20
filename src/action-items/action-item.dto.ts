import {
  ApiProperty,
  ApiPropertyOptional,
  IntersectionType,
  PartialType,
} from '../common/swagger.js';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import type { Visibility } from '../common/access.js';
import { IsDateOnly } from '../common/dates.js';
import { PageQueryDto, NEXT_CURSOR } from '../common/pagination.js';
import { IsCommaListOf, Omittable, Trim } from '../common/validation.js';
import { VISIBILITIES } from '../common/visibility.dto.js';
import { DELEGATIONS, type DelegationCode } from '../delegations/delegation.entity.js';
import { ACTION_ITEM_STATUSES, type ActionItemStatus } from './action-item-status.js';

const ID = { maxLength: 36, format: 'uuid' } as const;

export class CreateActionItemDto {
  @ApiProperty({ maxLength: 200 })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  title!: string;

  @ApiPropertyOptional({ maxLength: 10000 })
  @Omittable()
  @IsString()
  @MaxLength(10000)
  description?: string;

  @ApiProperty({ ...ID, description: 'An active user of either delegation (not admin)' })
  @IsString()
  @MaxLength(36)
  ownerId!: string;

  @ApiProperty({ format: 'date', example: '2026-12-31', maxLength: 10 })
  @IsDateOnly()
  dueDate!: string;

  @ApiPropertyOptional({ ...ID, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(36)
  meetingId?: string | null;

  @ApiPropertyOptional({ ...ID, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(36)
  agendaItemId?: string | null;

  @ApiPropertyOptional({ ...ID, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(36)
  policyItemId?: string | null;

  @ApiPropertyOptional({ enum: VISIBILITIES, default: 'joint', maxLength: 5 })
  @Omittable()
  @IsIn(VISIBILITIES)
  visibility?: Visibility;
}

export class UpdateActionItemDto extends PartialType(CreateActionItemDto, {
  skipNullProperties: false,
}) {
  @ApiPropertyOptional({ enum: ACTION_ITEM_STATUSES })
  @Omittable()
  @IsIn(ACTION_ITEM_STATUSES)
  status?: ActionItemStatus;
}

export const ACTION_ITEM_SORTS = ['dueDate', '-dueDate', 'updatedAt', '-updatedAt'] as const;
export type ActionItemSort = (typeof ACTION_ITEM_SORTS)[number];

export class ActionItemFiltersDto {
  @ApiPropertyOptional({
    description: 'Comma-separated statuses',
    example: 'open,in_progress',
    maxLength: 100,
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @IsCommaListOf(ACTION_ITEM_STATUSES)
  status?: string;

  @ApiPropertyOptional({ description: 'A user id, or "me"', maxLength: 36 })
  @IsOptional()
  @IsString()
  @MaxLength(36)
  owner?: string;

  @ApiPropertyOptional({ enum: DELEGATIONS, description: "The owner's delegation" })
  @IsOptional()
  @IsIn(DELEGATIONS)
  delegation?: DelegationCode;

  @ApiPropertyOptional({ maxLength: 36 })
  @IsOptional()
  @IsString()
  @MaxLength(36)
  meetingId?: string;

  @ApiPropertyOptional({ maxLength: 36 })
  @IsOptional()
  @IsString()
  @MaxLength(36)
  policyItemId?: string;

  @ApiPropertyOptional({
    format: 'date',
    description: 'Due strictly before this date',
    maxLength: 10,
  })
  @IsOptional()
  @IsDateOnly()
  dueBefore?: string;

  @ApiPropertyOptional({
    format: 'date',
    description: 'Due strictly after this date',
    maxLength: 10,
  })
  @IsOptional()
  @IsDateOnly()
  dueAfter?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptional()
  @IsIn(['true', 'false'])
  overdue?: 'true' | 'false';

  @ApiPropertyOptional({ description: 'Text in title or description', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ enum: ACTION_ITEM_SORTS, default: 'dueDate' })
  @IsOptional()
  @IsIn(ACTION_ITEM_SORTS)
  sort?: ActionItemSort;
}

export class ListActionItemsQueryDto extends IntersectionType(PageQueryDto, ActionItemFiltersDto) {}

export class CreateActionItemUpdateDto {
  @ApiProperty({ maxLength: 10000 })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(10000)
  note!: string;

  @ApiPropertyOptional({ enum: ACTION_ITEM_STATUSES })
  @Omittable()
  @IsIn(ACTION_ITEM_STATUSES)
  status?: ActionItemStatus;
}

export class ActionItemDto {
  @ApiProperty(ID) id!: string;
  @ApiProperty({ example: 'AI-001', maxLength: 16 }) code!: string;
  @ApiProperty({ maxLength: 200 }) title!: string;
  @ApiProperty({ maxLength: 10000 }) description!: string;
  @ApiProperty({ enum: ACTION_ITEM_STATUSES }) status!: ActionItemStatus;
  @ApiProperty(ID) ownerId!: string;
  @ApiProperty({ enum: DELEGATIONS }) ownerDelegation!: DelegationCode;
  @ApiProperty({ format: 'date', maxLength: 10 }) dueDate!: string;
  @ApiProperty({ ...ID, nullable: true, type: String }) meetingId!: string | null;
  @ApiProperty({ ...ID, nullable: true, type: String }) agendaItemId!: string | null;
  @ApiProperty({ ...ID, nullable: true, type: String }) policyItemId!: string | null;
  @ApiProperty({ enum: VISIBILITIES }) visibility!: Visibility;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) completedAt!: string | null;
  @ApiProperty({ description: "Not closed and due before today in the owner's timezone" })
  overdue!: boolean;
  @ApiProperty() version!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class ActionItemPageDto {
  @ApiProperty({ type: [ActionItemDto] }) data!: ActionItemDto[];
  @ApiProperty(NEXT_CURSOR) nextCursor!: string | null;
}

export class ActionItemUpdateDto {
  @ApiProperty(ID) id!: string;
  @ApiProperty(ID) actionItemId!: string;
  @ApiProperty(ID) authorId!: string;
  @ApiProperty({ maxLength: 10000 }) note!: string;
  @ApiProperty({ enum: ACTION_ITEM_STATUSES, nullable: true }) status!: ActionItemStatus | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class ActionItemUpdatePageDto {
  @ApiProperty({ type: [ActionItemUpdateDto] }) data!: ActionItemUpdateDto[];
  @ApiProperty(NEXT_CURSOR) nextCursor!: string | null;
}
