import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags } from '../common/swagger.js';
import { ApiProblems } from '../common/openapi.js';
import { PageQueryDto, type Page, NEXT_CURSOR } from '../common/pagination.js';
import { DELEGATIONS } from './delegation.entity.js';
import { DelegationsService, type DelegationView } from './delegations.service.js';

class DsaRefDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ maxLength: 200 })
  displayName!: string;
}

class DelegationDto {
  @ApiProperty({ enum: DELEGATIONS })
  code!: string;

  @ApiProperty({ maxLength: 200 })
  name!: string;

  @ApiProperty({ type: DsaRefDto, nullable: true })
  dsa!: DsaRefDto | null;
}

class DelegationPageDto {
  @ApiProperty({ type: [DelegationDto] })
  data!: DelegationDto[];

  @ApiProperty(NEXT_CURSOR)
  nextCursor!: string | null;
}

@ApiTags('delegations')
@ApiBearerAuth()
@Controller('delegations')
export class DelegationsController {
  constructor(private readonly delegations: DelegationsService) {}

  @Get()
  @ApiOkResponse({ type: DelegationPageDto })
  @ApiProblems(400, 401)
  list(@Query() query: PageQueryDto): Promise<Page<DelegationView>> {
    return this.delegations.list(query);
  }
}
