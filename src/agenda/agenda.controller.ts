import { Body, Controller, Get, Headers, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiTags,
} from '../common/swagger.js';
import type { AuthUser } from '../common/auth-user.js';
import { CurrentUser, Roles } from '../common/decorators.js';
import { versionsFromIfMatch } from '../common/if-match.js';
import { ApiProblems } from '../common/openapi.js';
import { type Page, PageQueryDto } from '../common/pagination.js';
import { PERMISSIONS } from '../common/permissions.js';
import {
  AgendaItemDto,
  AgendaItemPageDto,
  CreateAgendaItemDto,
  UpdateAgendaItemDto,
} from './agenda-item.dto.js';
import { AgendaService } from './agenda.service.js';

@ApiTags('agenda')
@ApiBearerAuth()
@Controller()
export class AgendaController {
  constructor(private readonly agenda: AgendaService) {}

  @Get('meetings/:id/agenda-items')
  @ApiOkResponse({ type: AgendaItemPageDto, description: 'In order of position' })
  @ApiProblems(400, 401, 404)
  list(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Query() query: PageQueryDto,
  ): Promise<Page<AgendaItemDto>> {
    return this.agenda.list(caller, id, query);
  }

  @Post('meetings/:id/agenda-items')
  @Roles(PERMISSIONS.manageMeetings)
  @ApiCreatedResponse({ type: AgendaItemDto })
  @ApiProblems(400, 401, 403, 404)
  create(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: CreateAgendaItemDto,
  ): Promise<AgendaItemDto> {
    return this.agenda.create(caller, id, body);
  }

  @Get('agenda-items/:id')
  @ApiOkResponse({ type: AgendaItemDto })
  @ApiProblems(401, 404)
  get(@CurrentUser() caller: AuthUser, @Param('id') id: string): Promise<AgendaItemDto> {
    return this.agenda.get(caller, id);
  }

  @Patch('agenda-items/:id')
  @Roles(PERMISSIONS.manageMeetings)
  @ApiHeader({ name: 'If-Match', required: false })
  @ApiOkResponse({ type: AgendaItemDto })
  @ApiProblems(400, 401, 403, 404, 409, 412)
  update(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: UpdateAgendaItemDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<AgendaItemDto> {
    return this.agenda.update(caller, id, body, versionsFromIfMatch(ifMatch));
  }
}
