import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
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
import type { Page } from '../common/pagination.js';
import { PERMISSIONS } from '../common/permissions.js';
import {
  ConcurDto,
  CreatePolicyItemDto,
  ListPolicyItemsQueryDto,
  PolicyItemDto,
  PolicyItemPageDto,
  UpdatePolicyItemDto,
} from './policy-item.dto.js';
import { PolicyItemsService } from './policy-items.service.js';

@ApiTags('policy-items')
@ApiBearerAuth()
@Controller('policy-items')
export class PolicyItemsController {
  constructor(private readonly policyItems: PolicyItemsService) {}

  @Get()
  @ApiOkResponse({ type: PolicyItemPageDto })
  @ApiProblems(400, 401)
  list(
    @CurrentUser() caller: AuthUser,
    @Query() query: ListPolicyItemsQueryDto,
  ): Promise<Page<PolicyItemDto>> {
    return this.policyItems.list(caller, query);
  }

  @Post()
  @Roles(PERMISSIONS.managePolicyItems)
  @ApiCreatedResponse({ type: PolicyItemDto })
  @ApiProblems(400, 401, 403)
  create(
    @CurrentUser() caller: AuthUser,
    @Body() body: CreatePolicyItemDto,
  ): Promise<PolicyItemDto> {
    return this.policyItems.create(caller, body);
  }

  @Get(':id')
  @ApiOkResponse({ type: PolicyItemDto })
  @ApiProblems(401, 404)
  get(@CurrentUser() caller: AuthUser, @Param('id') id: string): Promise<PolicyItemDto> {
    return this.policyItems.get(caller, id);
  }

  @Patch(':id')
  @Roles(PERMISSIONS.managePolicyItems)
  @ApiHeader({ name: 'If-Match', required: false })
  @ApiOkResponse({ type: PolicyItemDto })
  @ApiProblems(400, 401, 403, 404, 409, 412)
  update(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: UpdatePolicyItemDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<PolicyItemDto> {
    return this.policyItems.update(caller, id, body, versionsFromIfMatch(ifMatch));
  }

  @Post(':id/concur')
  @Roles(PERMISSIONS.concur)
  @HttpCode(200)
  @ApiHeader({ name: 'If-Match', required: false })
  @ApiOkResponse({ type: PolicyItemDto, description: 'aligned once both sides have concurred' })
  @ApiProblems(400, 401, 403, 404, 409, 412)
  concur(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: ConcurDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<PolicyItemDto> {
    return this.policyItems.concur(caller, id, body, versionsFromIfMatch(ifMatch));
  }
}
