import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '../common/swagger.js';
import { IsISO8601, IsOptional } from 'class-validator';
import { Roles } from '../common/decorators.js';
import { ApiProblems } from '../common/openapi.js';
import { PERMISSIONS } from '../common/permissions.js';
import { Omittable } from '../common/validation.js';
import { REMINDER_KINDS } from './reminder.entity.js';
import { type PassReport, RemindersService } from './reminders.service.js';

class AsOfDto {
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Run as of this moment (default: now)',
    maxLength: 40,
  })
  @Omittable()
  @IsISO8601({ strict: true })
  now?: string;
}

class PreviewQueryDto {
  @ApiPropertyOptional({ format: 'date-time', maxLength: 40 })
  @IsOptional()
  @IsISO8601({ strict: true })
  now?: string;
}

class ReminderViewDto {
  @ApiProperty({ enum: REMINDER_KINDS }) kind!: string;
  @ApiProperty({ maxLength: 36 }) recipientId!: string;
  @ApiProperty({ enum: ['action_item', 'meeting'] }) subjectType!: string;
  @ApiProperty({ maxLength: 36 }) subjectId!: string;
  @ApiProperty({ maxLength: 32, description: 'The local day, or what the reminder is once about' })
  window!: string;
}

class PassReportDto {
  @ApiProperty({ type: [ReminderViewDto], description: 'Reminders about records admin can see' })
  data!: ReminderViewDto[];

  @ApiProperty({ description: 'Reminders about delegation-only records: counted, not listed' })
  hidden!: number;
}

@ApiTags('reminders')
@ApiBearerAuth()
@Controller('reminders')
export class RemindersController {
  constructor(private readonly reminders: RemindersService) {}

  @Get('preview')
  @Roles(PERMISSIONS.runReminders)
  @ApiOkResponse({ type: PassReportDto, description: 'What a pass as of `now` would send' })
  @ApiProblems(400, 401, 403)
  preview(@Query() query: PreviewQueryDto): Promise<PassReport> {
    return this.reminders.preview(query.now ? new Date(query.now) : new Date());
  }

  @Post('run')
  @Roles(PERMISSIONS.runReminders)
  @HttpCode(200)
  @ApiOkResponse({ type: PassReportDto, description: 'What the pass sent' })
  @ApiProblems(400, 401, 403)
  run(@Body() body: AsOfDto = {}): Promise<PassReport> {
    return this.reminders.run(body?.now ? new Date(body.now) : new Date());
  }
}
