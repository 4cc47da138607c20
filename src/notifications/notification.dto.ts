import { ApiProperty, ApiPropertyOptional } from '../common/swagger.js';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto, NEXT_CURSOR } from '../common/pagination.js';

export class ListNotificationsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'true: unread only' })
  @IsOptional()
  @IsIn(['true', 'false'])
  unread?: 'true' | 'false';
}

export class NotificationDto {
  @ApiProperty({ maxLength: 36 }) id!: string;
  @ApiProperty({ maxLength: 32, example: 'action_due_soon' }) kind!: string;
  @ApiProperty({ enum: ['action_item', 'meeting'] }) subjectType!: string;
  @ApiProperty({ maxLength: 36 }) subjectId!: string;
  @ApiProperty({ maxLength: 300 }) title!: string;
  @ApiProperty({ maxLength: 2000 }) body!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) readAt!: string | null;
}

export class NotificationPageDto {
  @ApiProperty({ type: [NotificationDto] }) data!: NotificationDto[];
  @ApiProperty(NEXT_CURSOR) nextCursor!: string | null;
}
