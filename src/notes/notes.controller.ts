import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '../common/swagger.js';
import type { AuthUser } from '../common/auth-user.js';
import { CurrentUser, Roles } from '../common/decorators.js';
import { ApiProblems } from '../common/openapi.js';
import { type Page, PageQueryDto } from '../common/pagination.js';
import { PERMISSIONS } from '../common/permissions.js';
import { CreateNoteDto, NoteDto, NotePageDto } from './note.dto.js';
import { NotesService } from './notes.service.js';

@ApiTags('notes')
@ApiBearerAuth()
@Controller()
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  @Get('meetings/:id/notes')
  @ApiOkResponse({ type: NotePageDto, description: "Your delegation's notes only" })
  @ApiProblems(400, 401, 404)
  listMeetingNotes(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Query() query: PageQueryDto,
  ): Promise<Page<NoteDto>> {
    return this.notes.list(caller, 'meeting', id, query);
  }

  @Post('meetings/:id/notes')
  @Roles(PERMISSIONS.writeNotes)
  @ApiCreatedResponse({ type: NoteDto })
  @ApiProblems(400, 401, 403, 404)
  createMeetingNote(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: CreateNoteDto,
  ): Promise<NoteDto> {
    return this.notes.create(caller, 'meeting', id, body);
  }

  @Get('policy-items/:id/notes')
  @ApiOkResponse({ type: NotePageDto, description: "Your delegation's notes only" })
  @ApiProblems(400, 401, 404)
  listPolicyItemNotes(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Query() query: PageQueryDto,
  ): Promise<Page<NoteDto>> {
    return this.notes.list(caller, 'policy_item', id, query);
  }

  @Post('policy-items/:id/notes')
  @Roles(PERMISSIONS.writeNotes)
  @ApiCreatedResponse({ type: NoteDto })
  @ApiProblems(400, 401, 403, 404)
  createPolicyItemNote(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: CreateNoteDto,
  ): Promise<NoteDto> {
    return this.notes.create(caller, 'policy_item', id, body);
  }

  @Get('action-items/:id/notes')
  @ApiOkResponse({ type: NotePageDto, description: "Your delegation's notes only" })
  @ApiProblems(400, 401, 404)
  listActionItemNotes(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Query() query: PageQueryDto,
  ): Promise<Page<NoteDto>> {
    return this.notes.list(caller, 'action_item', id, query);
  }

  @Post('action-items/:id/notes')
  @Roles(PERMISSIONS.writeNotes)
  @ApiCreatedResponse({ type: NoteDto })
  @ApiProblems(400, 401, 403, 404)
  createActionItemNote(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: CreateNoteDto,
  ): Promise<NoteDto> {
    return this.notes.create(caller, 'action_item', id, body);
  }
}
