import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '../common/swagger.js';
import type { AuthUser } from '../common/auth-user.js';
import { CurrentUser, Roles } from '../common/decorators.js';
import { ApiProblems } from '../common/openapi.js';
import type { Page } from '../common/pagination.js';
import { PERMISSIONS } from '../common/permissions.js';
import {
  AuditEventDto,
  AuditEventPageDto,
  ListAuditEventsQueryDto,
  VerifyReportDto,
} from './audit.dto.js';
import { AuditService, type VerifyReport } from './audit.service.js';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit-events')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles(PERMISSIONS.readAudit)
  @ApiOkResponse({ type: AuditEventPageDto, description: 'Newest first, within your visibility' })
  @ApiProblems(400, 401, 403)
  list(
    @CurrentUser() caller: AuthUser,
    @Query() query: ListAuditEventsQueryDto,
  ): Promise<Page<AuditEventDto>> {
    return this.audit.list(caller, query);
  }

  @Get('verify')
  @Roles(PERMISSIONS.verifyAudit)
  @ApiOkResponse({ type: VerifyReportDto })
  @ApiProblems(401, 403)
  verify(): Promise<VerifyReport> {
    return this.audit.verify();
  }
}
