import { Body, Controller, Get, Headers, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '../common/swagger.js';
import type { AuthUser } from '../common/auth-user.js';
import { CurrentUser, Roles } from '../common/decorators.js';
import { versionsFromIfMatch } from '../common/if-match.js';
import { ApiProblems } from '../common/openapi.js';
import { PERMISSIONS } from '../common/permissions.js';
import { UpdateWorkingGroupDto, WorkingGroupDto } from './working-group.dto.js';
import { WorkingGroupService } from './working-group.service.js';

@ApiTags('working-group')
@ApiBearerAuth()
@Controller('working-group')
export class WorkingGroupController {
  constructor(private readonly workingGroup: WorkingGroupService) {}

  @Get()
  @ApiOkResponse({ type: WorkingGroupDto })
  @ApiProblems(401, 404)
  get(): Promise<WorkingGroupDto> {
    return this.workingGroup.get();
  }

  @Patch()
  @Roles(PERMISSIONS.editWorkingGroup)
  @ApiOkResponse({ type: WorkingGroupDto })
  @ApiProblems(400, 401, 403, 404, 412)
  update(
    @CurrentUser() caller: AuthUser,
    @Body() body: UpdateWorkingGroupDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<WorkingGroupDto> {
    return this.workingGroup.update(caller, body, versionsFromIfMatch(ifMatch));
  }
}
