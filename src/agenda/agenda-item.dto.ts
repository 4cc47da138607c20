import { NEXT_CURSOR } from '../common/pagination.js';
import { ApiProperty, ApiPropertyOptional, PartialType } from '../common/swagger.js';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import type { Visibility } from '../common/access.js';
import { Omittable, Trim } from '../common/validation.js';
import { VISIBILITIES } from '../common/visibility.dto.js';
import { DELEGATIONS, type DelegationCode } from '../delegations/delegation.entity.js';
import { AGENDA_STATUSES, type AgendaStatus } from './agenda-item.entity.js';

export class CreateAgendaItemDto {
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
    minimum: 1,
    maximum: 10000,
    description: 'Defaults to the end of the agenda',
  })
  @Omittable()
  @IsInt()
  @Min(1)
  @Max(10000)
  position?: number;

  @ApiPropertyOptional({ enum: DELEGATIONS, nullable: true })
  @IsOptional()
  @IsIn(DELEGATIONS)
  leadDelegation?: DelegationCode | null;

  @ApiPropertyOptional({ maxLength: 36, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(36)
  policyItemId?: string | null;

  @ApiPropertyOptional({ enum: VISIBILITIES, default: 'joint' })
  @Omittable()
  @IsIn(VISIBILITIES)
  visibility?: Visibility;
}

export class UpdateAgendaItemDto extends PartialType(CreateAgendaItemDto, {
  skipNullProperties: false,
}) {
  @ApiPropertyOptional({ enum: AGENDA_STATUSES })
  @Omittable()
  @IsIn(AGENDA_STATUSES)
  status?: AgendaStatus;

  @ApiPropertyOptional({ maxLength: 10000, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  outcome?: string | null;
}

export class AgendaItemDto {
  @ApiProperty({ maxLength: 36 }) id!: string;
  @ApiProperty({ maxLength: 36 }) meetingId!: string;
  @ApiProperty() position!: number;
  @ApiProperty({ maxLength: 200 }) title!: string;
  @ApiProperty({ maxLength: 10000 }) description!: string;
  @ApiProperty({ enum: DELEGATIONS, nullable: true }) leadDelegation!: DelegationCode | null;
  @ApiProperty({ nullable: true, type: String, maxLength: 36 }) policyItemId!: string | null;
  @ApiProperty({ enum: AGENDA_STATUSES }) status!: AgendaStatus;
  @ApiProperty({ nullable: true, type: String, maxLength: 10000 }) outcome!: string | null;
  @ApiProperty({ nullable: true, type: String, maxLength: 36 }) carriedFromId!: string | null;
  @ApiProperty({ enum: VISIBILITIES }) visibility!: Visibility;
  @ApiProperty() version!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class AgendaItemPageDto {
  @ApiProperty({ type: [AgendaItemDto] }) data!: AgendaItemDto[];
  @ApiProperty(NEXT_CURSOR) nextCursor!: string | null;
}
