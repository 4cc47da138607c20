import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '../common/swagger.js';
import type { AuthUser } from '../common/auth-user.js';
import { CurrentUser } from '../common/decorators.js';
import { ApiProblems } from '../common/openapi.js';
import type { Page } from '../common/pagination.js';
import {
  ListNotificationsQueryDto,
  NotificationDto,
  NotificationPageDto,
} from './notification.dto.js';
import { NotificationsService } from './notifications.service.js';

@ApiTags('notifications')
@ApiBearerAuth()
@Controller('me/notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @ApiOkResponse({ type: NotificationPageDto, description: 'Newest first' })
  @ApiProblems(400, 401)
  list(
    @CurrentUser() caller: AuthUser,
    @Query() query: ListNotificationsQueryDto,
  ): Promise<Page<NotificationDto>> {
    return this.notifications.list(caller, query);
  }

  @Post(':id/read')
  @HttpCode(200)
  @ApiOkResponse({ type: NotificationDto })
  @ApiProblems(401, 404)
  markRead(@CurrentUser() caller: AuthUser, @Param('id') id: string): Promise<NotificationDto> {
    return this.notifications.markRead(caller, id);
  }
}
