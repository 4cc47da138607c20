import { Controller, Get, Header, NotFoundException, Param, Post, Req } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiProduces,
  ApiProperty,
  ApiTags,
} from '../common/swagger.js';
import type { FastifyRequest } from 'fastify';
import { API_PREFIX } from '../app.setup.js';
import type { AuthUser } from '../common/auth-user.js';
import { CurrentUser, Public } from '../common/decorators.js';
import { NoIdempotencyReplay } from '../common/idempotency.interceptor.js';
import { ApiProblems } from '../common/openapi.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { CalendarService } from './calendar.service.js';

class CalendarFeedDto {
  @ApiProperty({
    description: 'Secret: whoever has it reads the feed. A new one ends the old.',
    maxLength: 2000,
  })
  url!: string;
}

@ApiTags('calendar')
@Controller()
export class CalendarController {
  constructor(
    private readonly calendar: CalendarService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('me/calendar-feed')
  @ApiBearerAuth()
  @NoIdempotencyReplay()
  // The answer is a secret: no cache may keep it.
  @Header('cache-control', 'no-store')
  @ApiCreatedResponse({ type: CalendarFeedDto })
  @ApiProblems(401)
  async create(
    @CurrentUser() caller: AuthUser,
    @Req() request: FastifyRequest,
  ): Promise<CalendarFeedDto> {
    const token = await this.calendar.rotate(caller);
    const base = this.config.publicUrl ?? `${request.protocol}://${request.host}`;
    return { url: `${base}/${API_PREFIX}/calendar/${token}.ics` };
  }

  @Public()
  @Get('calendar/:feed')
  @Header('content-type', 'text/calendar; charset=utf-8')
  @Header('cache-control', 'private, max-age=300')
  @ApiProduces('text/calendar')
  @ApiOkResponse({
    description: 'RFC 5545: meetings (alarm a day before) and your open action items',
  })
  @ApiProblems(404)
  feed(@Param('feed') feed: string): Promise<string> {
    const token = /^([A-Za-z0-9_-]{43})\.ics$/.exec(feed)?.[1];
    if (!token) {
      throw new NotFoundException('Calendar feed not found');
    }
    return this.calendar.feed(token);
  }
}
