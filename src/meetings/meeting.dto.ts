import {
  ApiProperty,
  ApiPropertyOptional,
  IntersectionType,
  PartialType,
} from '../common/swagger.js';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsDateOnly } from '../common/dates.js';
import { PageQueryDto, NEXT_CURSOR } from '../common/pagination.js';
import { Omittable, Trim } from '../common/validation.js';
import { CreateActionItemDto } from '../action-items/action-item.dto.js';
import { AGENDA_STATUSES, type AgendaStatus } from '../agenda/agenda-item.entity.js';
import { DELEGATIONS, type DelegationCode } from '../delegations/delegation.entity.js';
import {
  MEETING_KINDS,
  MEETING_STATUSES,
  type MeetingKind,
  type MeetingStatus,
} from './meeting-status.js';
import { MINUTES_STATUSES, type MinutesStatus } from './minutes.js';

export class CreateMeetingDto {
  @ApiProperty({ maxLength: 200, example: 'JWG meeting 2' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  title!: string;

  @ApiProperty({ enum: MEETING_KINDS })
  @IsIn(MEETING_KINDS)
  kind!: MeetingKind;

  @ApiProperty({ format: 'date', maxLength: 10, example: '2022-03-28' })
  @IsDateOnly()
  startsOn!: string;

  @ApiProperty({ format: 'date', maxLength: 10, description: 'On or after startsOn' })
  @IsDateOnly()
  endsOn!: string;

  @ApiPropertyOptional({ maxLength: 200, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  location?: string | null;

  @ApiProperty({ enum: DELEGATIONS })
  @IsIn(DELEGATIONS)
  hostDelegation!: DelegationCode;
}

export class UpdateMeetingDto extends PartialType(CreateMeetingDto, { skipNullProperties: false }) {
  @ApiPropertyOptional({
    enum: MEETING_STATUSES,
    description: 'planned -> in_session -> held; planned|in_session -> cancelled',
  })
  @Omittable()
  @IsIn(MEETING_STATUSES)
  status?: MeetingStatus;
}

export class MeetingFiltersDto {
  @ApiPropertyOptional({ enum: MEETING_STATUSES })
  @IsOptional()
  @IsIn(MEETING_STATUSES)
  status?: MeetingStatus;

  @ApiPropertyOptional({ format: 'date', description: 'Starting on or after (inclusive)' })
  @IsOptional()
  @IsDateOnly()
  from?: string;

  @ApiPropertyOptional({ format: 'date', description: 'Starting on or before (inclusive)' })
  @IsOptional()
  @IsDateOnly()
  to?: string;
}

export class ListMeetingsQueryDto extends IntersectionType(PageQueryDto, MeetingFiltersDto) {}

export class WriteMinutesDto {
  @ApiProperty({ maxLength: 50000 })
  @IsString()
  @MaxLength(50000)
  text!: string;
}

export class ApproveMinutesDto {
  @ApiPropertyOptional({ enum: DELEGATIONS, description: 'Your own side; any other is 403' })
  @Omittable()
  @IsIn(DELEGATIONS)
  delegation?: DelegationCode;
}

export class AgendaOutcomeDto {
  @ApiProperty({ maxLength: 36 })
  @IsString()
  @MaxLength(36)
  agendaItemId!: string;

  @ApiProperty({ enum: AGENDA_STATUSES })
  @IsIn(AGENDA_STATUSES)
  status!: AgendaStatus;

  @ApiPropertyOptional({ maxLength: 10000, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  outcome?: string | null;
}

export class LogOutcomesDto {
  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', maxLength: 36 },
    maxItems: 500,
    description: 'User ids; replaces the attendance',
  })
  @Omittable()
  @IsArray()
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @MaxLength(36, { each: true })
  attendees?: string[];

  @ApiPropertyOptional({ type: [AgendaOutcomeDto], maxItems: 200 })
  @Omittable()
  @IsArray()
  @ArrayMaxSize(200)
  // ValidateNested lets an array through where an object belongs ([[]]): the service would
  // then read fields of an array.
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => AgendaOutcomeDto)
  agendaOutcomes?: AgendaOutcomeDto[];

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', maxLength: 10000 },
    maxItems: 200,
    description: 'Each becomes D-n',
  })
  @Omittable()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(10000, { each: true })
  decisions?: string[];

  @ApiPropertyOptional({ type: [CreateActionItemDto], maxItems: 200 })
  @Omittable()
  @IsArray()
  @ArrayMaxSize(200)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => CreateActionItemDto)
  actionItems?: CreateActionItemDto[];

  @ApiPropertyOptional({ maxLength: 50000, description: 'The draft minutes' })
  @Omittable()
  @IsString()
  @MaxLength(50000)
  minutes?: string;
}

export class DecisionDto {
  @ApiProperty({ example: 'D-1', maxLength: 16 }) code!: string;
  @ApiProperty({ maxLength: 10000 }) text!: string;
}

export class ApprovalDto {
  @ApiProperty({ enum: DELEGATIONS }) delegation!: DelegationCode;
  @ApiProperty({ maxLength: 36 }) userId!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

export class MinutesDto {
  @ApiProperty({ enum: MINUTES_STATUSES }) status!: MinutesStatus;
  @ApiProperty({ nullable: true, type: String, maxLength: 50000 }) text!: string | null;
  @ApiProperty({ type: [ApprovalDto] }) approvals!: ApprovalDto[];
}

export class MeetingDto {
  @ApiProperty({ maxLength: 36 }) id!: string;
  @ApiProperty() number!: number;
  @ApiProperty({ maxLength: 200 }) title!: string;
  @ApiProperty({ enum: MEETING_KINDS }) kind!: MeetingKind;
  @ApiProperty({ format: 'date', maxLength: 10 }) startsOn!: string;
  @ApiProperty({ format: 'date', maxLength: 10 }) endsOn!: string;
  @ApiProperty({ nullable: true, type: String, maxLength: 200 }) location!: string | null;
  @ApiProperty({ enum: DELEGATIONS }) hostDelegation!: DelegationCode;
  @ApiProperty({ enum: MEETING_STATUSES }) status!: MeetingStatus;
  @ApiProperty({ type: [DecisionDto] }) decisions!: DecisionDto[];
  @ApiProperty({ type: 'array', items: { type: 'string', maxLength: 36 } })
  attendees!: string[];
  @ApiProperty({ type: MinutesDto }) minutes!: MinutesDto;
  @ApiProperty() version!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class MeetingPageDto {
  @ApiProperty({ type: [MeetingDto] }) data!: MeetingDto[];
  @ApiProperty(NEXT_CURSOR) nextCursor!: string | null;
}
