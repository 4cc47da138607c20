import {
  ApiProperty,
  ApiPropertyOptional,
  IntersectionType,
  PartialType,
} from '../common/swagger.js';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import type { Visibility } from '../common/access.js';
import { IsDateOnly } from '../common/dates.js';
import { PageQueryDto, NEXT_CURSOR } from '../common/pagination.js';
import { IsCommaListOf, Omittable, Trim } from '../common/validation.js';
import { VISIBILITIES } from '../common/visibility.dto.js';
import { DELEGATIONS, type DelegationCode } from '../delegations/delegation.entity.js';
import { POLICY_ITEM_STATUSES, type PolicyItemStatus } from './policy-item-status.js';

export class LeadsDto {
  @ApiPropertyOptional({ nullable: true, type: String, maxLength: 36, description: 'An IN user' })
  @IsOptional()
  @IsString()
  @MaxLength(36)
  IN?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, maxLength: 36, description: 'A US user' })
  @IsOptional()
  @IsString()
  @MaxLength(36)
  US?: string | null;
}

export class CreatePolicyItemDto {
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

  @ApiPropertyOptional({
    maxLength: 200,
    nullable: true,
    description: 'Clause of the Industrial Security Annex',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  isaReference?: string | null;

  @ApiPropertyOptional({ type: LeadsDto })
  @Omittable()
  @IsObject()
  @ValidateNested()
  @Type(() => LeadsDto)
  leads?: LeadsDto;

  @ApiPropertyOptional({ format: 'date', nullable: true, type: String, maxLength: 10 })
  @IsOptional()
  @IsDateOnly()
  targetDate?: string | null;

  @ApiPropertyOptional({ enum: VISIBILITIES, default: 'joint' })
  @Omittable()
  @IsIn(VISIBILITIES)
  visibility?: Visibility;
}

export class UpdatePolicyItemDto extends PartialType(CreatePolicyItemDto, {
  skipNullProperties: false,
}) {
  @ApiPropertyOptional({
    enum: POLICY_ITEM_STATUSES,
    description: '`aligned` follows from both concurrences and is never set by hand (409)',
  })
  @Omittable()
  @IsIn(POLICY_ITEM_STATUSES)
  status?: PolicyItemStatus;
}

export class ConcurDto {
  @ApiPropertyOptional({ enum: DELEGATIONS, description: 'Your own side; any other is 403' })
  @Omittable()
  @IsIn(DELEGATIONS)
  delegation?: DelegationCode;
}

export class PolicyItemFiltersDto {
  @ApiPropertyOptional({ description: 'Comma-separated statuses', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @IsCommaListOf(POLICY_ITEM_STATUSES)
  status?: string;

  @ApiPropertyOptional({ description: 'Text in title or description', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;
}

export class ListPolicyItemsQueryDto extends IntersectionType(PageQueryDto, PolicyItemFiltersDto) {}

export class ConcurrenceDto {
  @ApiProperty({ maxLength: 36 }) userId!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

class LeadsViewDto {
  @ApiProperty({ nullable: true, type: String, maxLength: 36 }) IN!: string | null;
  @ApiProperty({ nullable: true, type: String, maxLength: 36 }) US!: string | null;
}

class ConcurrenceViewDto {
  @ApiProperty({ nullable: true, type: ConcurrenceDto }) IN!: ConcurrenceDto | null;
  @ApiProperty({ nullable: true, type: ConcurrenceDto }) US!: ConcurrenceDto | null;
}

export class PolicyItemDto {
  @ApiProperty({ maxLength: 36 }) id!: string;
  @ApiProperty({ example: 'PA-001', maxLength: 16 }) code!: string;
  @ApiProperty({ maxLength: 200 }) title!: string;
  @ApiProperty({ maxLength: 10000 }) description!: string;
  @ApiProperty({ nullable: true, type: String, maxLength: 200 }) isaReference!: string | null;
  @ApiProperty({ enum: POLICY_ITEM_STATUSES }) status!: PolicyItemStatus;
  @ApiProperty({ type: LeadsViewDto }) leads!: LeadsViewDto;
  @ApiProperty({ format: 'date', nullable: true, type: String, maxLength: 10 }) targetDate!:
    string | null;
  @ApiProperty({ type: ConcurrenceViewDto }) concurrence!: ConcurrenceViewDto;
  @ApiProperty({ enum: VISIBILITIES }) visibility!: Visibility;
  @ApiProperty() version!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class PolicyItemPageDto {
  @ApiProperty({ type: [PolicyItemDto] }) data!: PolicyItemDto[];
  @ApiProperty(NEXT_CURSOR) nextCursor!: string | null;
}
