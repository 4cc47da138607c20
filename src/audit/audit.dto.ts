import { ApiProperty, ApiPropertyOptional } from '../common/swagger.js';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto, NEXT_CURSOR } from '../common/pagination.js';

export class ListAuditEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ maxLength: 32, example: 'action_item' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  entityType?: string;

  @ApiPropertyOptional({ maxLength: 36 })
  @IsOptional()
  @IsString()
  @MaxLength(36)
  entityId?: string;
}

export class AuditEventDto {
  @ApiProperty({ maxLength: 36 }) id!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ nullable: true, type: String, maxLength: 36 }) actorId!: string | null;
  @ApiProperty({ maxLength: 64, example: 'action_item.updated' }) action!: string;
  @ApiProperty({ maxLength: 32 }) entityType!: string;
  @ApiProperty({ nullable: true, type: String, maxLength: 36 }) entityId!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) changes!: Record<string, unknown>;
  @ApiProperty({ enum: ['joint', 'IN', 'US', 'account'] }) visibility!: string;
  @ApiProperty({ maxLength: 64 }) prevHash!: string;
  @ApiProperty({ maxLength: 64 }) hash!: string;
}

export class AuditEventPageDto {
  @ApiProperty({ type: [AuditEventDto] }) data!: AuditEventDto[];
  @ApiProperty(NEXT_CURSOR) nextCursor!: string | null;
}

export class VerifyReportDto {
  @ApiProperty() ok!: boolean;
  @ApiProperty() checked!: number;
  @ApiProperty({ nullable: true, type: String, maxLength: 36 }) firstBadId!: string | null;
}
