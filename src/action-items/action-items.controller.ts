import { Body, Controller, Get, Headers, Param, Patch, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiProduces,
  ApiTags,
} from '../common/swagger.js';
import type { FastifyReply } from 'fastify';
import type { AuthUser } from '../common/auth-user.js';
import { CurrentUser, Roles } from '../common/decorators.js';
import { versionsFromIfMatch } from '../common/if-match.js';
import { ApiProblems } from '../common/openapi.js';
import { type Page, PageQueryDto } from '../common/pagination.js';
import { PERMISSIONS } from '../common/permissions.js';
import { toCsv } from './action-items.csv.js';
import {
  ActionItemDto,
  ActionItemFiltersDto,
  ActionItemPageDto,
  ActionItemUpdateDto,
  ActionItemUpdatePageDto,
  CreateActionItemDto,
  CreateActionItemUpdateDto,
  ListActionItemsQueryDto,
  UpdateActionItemDto,
} from './action-item.dto.js';
import { ActionItemUpdatesService } from './action-item-updates.service.js';
import { ActionItemsService } from './action-items.service.js';

@ApiTags('action-items')
@ApiBearerAuth()
@Controller('action-items')
export class ActionItemsController {
  constructor(
    private readonly actionItems: ActionItemsService,
    private readonly updates: ActionItemUpdatesService,
  ) {}

  @Get()
  @ApiOkResponse({ type: ActionItemPageDto })
  @ApiProblems(400, 401)
  list(
    @CurrentUser() caller: AuthUser,
    @Query() query: ListActionItemsQueryDto,
  ): Promise<Page<ActionItemDto>> {
    return this.actionItems.list(caller, query);
  }

  @Get('export.csv')
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'The filtered items as CSV (RFC 4180), one header row' })
  @ApiProblems(400, 401)
  async export(
    @CurrentUser() caller: AuthUser,
    @Query() filters: ActionItemFiltersDto,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="action-items.csv"')
      .send(toCsv(this.actionItems.export(caller, filters)));
  }

  @Post()
  @Roles(PERMISSIONS.manageActionItems)
  @ApiCreatedResponse({ type: ActionItemDto })
  @ApiProblems(400, 401, 403, 409)
  create(
    @CurrentUser() caller: AuthUser,
    @Body() body: CreateActionItemDto,
  ): Promise<ActionItemDto> {
    return this.actionItems.create(caller, body);
  }

  @Get(':id')
  @ApiOkResponse({ type: ActionItemDto })
  @ApiProblems(401, 404)
  get(@CurrentUser() caller: AuthUser, @Param('id') id: string): Promise<ActionItemDto> {
    return this.actionItems.get(caller, id);
  }

  @Patch(':id')
  @Roles(PERMISSIONS.progressActionItems)
  @ApiHeader({ name: 'If-Match', required: false })
  @ApiOkResponse({ type: ActionItemDto })
  @ApiProblems(400, 401, 403, 404, 409, 412)
  update(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: UpdateActionItemDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<ActionItemDto> {
    return this.actionItems.update(caller, id, body, versionsFromIfMatch(ifMatch));
  }

  @Get(':id/updates')
  @ApiOkResponse({ type: ActionItemUpdatePageDto })
  @ApiProblems(400, 401, 404)
  listUpdates(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Query() query: PageQueryDto,
  ): Promise<Page<ActionItemUpdateDto>> {
    return this.updates.list(caller, id, query);
  }

  @Post(':id/updates')
  @Roles(PERMISSIONS.progressActionItems)
  @ApiHeader({ name: 'If-Match', required: false })
  @ApiCreatedResponse({ type: ActionItemUpdateDto })
  @ApiProblems(400, 401, 403, 404, 409, 412)
  createUpdate(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: CreateActionItemUpdateDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<ActionItemUpdateDto> {
    return this.updates.create(caller, id, body, versionsFromIfMatch(ifMatch));
  }
}

@ApiTags('action-items')
@ApiBearerAuth()
@Controller('me/action-items')
export class MyActionItemsController {
  constructor(private readonly actionItems: ActionItemsService) {}

  @Get()
  @ApiOkResponse({
    type: ActionItemPageDto,
    description: 'Your items that are not closed, by due date',
  })
  @ApiProblems(400, 401)
  list(
    @CurrentUser() caller: AuthUser,
    @Query() query: PageQueryDto,
  ): Promise<Page<ActionItemDto>> {
    return this.actionItems.listMine(caller, query);
  }
}
