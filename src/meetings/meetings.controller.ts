import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiProperty,
  ApiTags,
} from '../common/swagger.js';
import { ActionItemDto } from '../action-items/action-item.dto.js';
import type { AuthUser } from '../common/auth-user.js';
import { CurrentUser, Roles } from '../common/decorators.js';
import { versionsFromIfMatch } from '../common/if-match.js';
import { ApiProblems } from '../common/openapi.js';
import type { Page } from '../common/pagination.js';
import { PERMISSIONS } from '../common/permissions.js';
import {
  ApproveMinutesDto,
  CreateMeetingDto,
  ListMeetingsQueryDto,
  LogOutcomesDto,
  MeetingDto,
  MeetingPageDto,
  UpdateMeetingDto,
  WriteMinutesDto,
} from './meeting.dto.js';
import { MeetingsService } from './meetings.service.js';
import { MinutesService } from './minutes.service.js';
import { OutcomesService, type OutcomesResult } from './outcomes.service.js';

class OutcomesResultDto {
  @ApiProperty({ type: MeetingDto }) meeting!: MeetingDto;
  @ApiProperty({ type: [ActionItemDto] }) actionItems!: ActionItemDto[];
}

const IF_MATCH = { name: 'If-Match', required: false, description: 'The ETag of the meeting' };

@ApiTags('meetings')
@ApiBearerAuth()
@Controller('meetings')
export class MeetingsController {
  constructor(
    private readonly meetings: MeetingsService,
    private readonly minutes: MinutesService,
    private readonly outcomes: OutcomesService,
  ) {}

  @Get()
  @ApiOkResponse({ type: MeetingPageDto })
  @ApiProblems(400, 401)
  list(@Query() query: ListMeetingsQueryDto): Promise<Page<MeetingDto>> {
    return this.meetings.list(query);
  }

  @Post()
  @Roles(PERMISSIONS.manageMeetings)
  @ApiCreatedResponse({ type: MeetingDto })
  @ApiProblems(400, 401, 403)
  create(@CurrentUser() caller: AuthUser, @Body() body: CreateMeetingDto): Promise<MeetingDto> {
    return this.meetings.create(caller, body);
  }

  @Post('next')
  @Roles(PERMISSIONS.manageMeetings)
  @ApiCreatedResponse({
    type: MeetingDto,
    description: 'The next periodic meeting, with carried-over agenda',
  })
  @ApiProblems(401, 403, 409)
  next(@CurrentUser() caller: AuthUser): Promise<MeetingDto> {
    return this.meetings.next(caller);
  }

  @Get(':id')
  @ApiOkResponse({ type: MeetingDto })
  @ApiProblems(401, 404)
  get(@Param('id') id: string): Promise<MeetingDto> {
    return this.meetings.get(id);
  }

  @Patch(':id')
  @Roles(PERMISSIONS.manageMeetings)
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: MeetingDto })
  @ApiProblems(400, 401, 403, 404, 409, 412)
  update(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: UpdateMeetingDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<MeetingDto> {
    return this.meetings.update(caller, id, body, versionsFromIfMatch(ifMatch));
  }

  @Post(':id/outcomes')
  @Roles(PERMISSIONS.manageMeetings)
  @ApiHeader(IF_MATCH)
  @ApiCreatedResponse({ type: OutcomesResultDto })
  @ApiProblems(400, 401, 403, 404, 409, 412)
  logOutcomes(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: LogOutcomesDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<OutcomesResult> {
    return this.outcomes.log(caller, id, body, versionsFromIfMatch(ifMatch));
  }

  @Put(':id/minutes')
  @Roles(PERMISSIONS.manageMeetings)
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: MeetingDto })
  @ApiProblems(400, 401, 403, 404, 409, 412)
  writeMinutes(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: WriteMinutesDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<MeetingDto> {
    return this.minutes.write(caller, id, body.text, versionsFromIfMatch(ifMatch));
  }

  @Post(':id/minutes/circulate')
  @Roles(PERMISSIONS.manageMeetings)
  @HttpCode(200)
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: MeetingDto })
  @ApiProblems(401, 403, 404, 409, 412)
  circulate(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Headers('if-match') ifMatch?: string,
  ): Promise<MeetingDto> {
    return this.minutes.circulate(caller, id, versionsFromIfMatch(ifMatch));
  }

  @Post(':id/minutes/approve')
  @Roles(PERMISSIONS.approveMinutes)
  @HttpCode(200)
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: MeetingDto, description: 'Agreed once both sides have approved' })
  @ApiProblems(400, 401, 403, 404, 409, 412)
  approve(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: ApproveMinutesDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<MeetingDto> {
    return this.minutes.approve(caller, id, body, versionsFromIfMatch(ifMatch));
  }
}
