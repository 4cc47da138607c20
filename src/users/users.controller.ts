import {
  Body,
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '../common/swagger.js';
import { TokenPairDto } from '../auth/dto/auth.dto.js';
import type { AuthUser } from '../common/auth-user.js';
import { CurrentUser, Roles } from '../common/decorators.js';
import { versionsFromIfMatch } from '../common/if-match.js';
import { NoIdempotencyReplay } from '../common/idempotency.interceptor.js';
import { ApiProblems } from '../common/openapi.js';
import type { Page } from '../common/pagination.js';
import { PERMISSIONS } from '../common/permissions.js';
import {
  ChangePasswordDto,
  CreateUserDto,
  ListUsersQueryDto,
  UpdateUserDto,
  UserDto,
  UserPageDto,
} from './dto/user.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@ApiBearerAuth()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOkResponse({ type: UserPageDto })
  @ApiProblems(400, 401)
  list(@CurrentUser() caller: AuthUser, @Query() query: ListUsersQueryDto): Promise<Page<UserDto>> {
    return this.users.list(caller, query);
  }

  @Post()
  @Roles(PERMISSIONS.manageUsers)
  @ApiCreatedResponse({ type: UserDto })
  @ApiProblems(400, 401, 403, 409)
  create(@CurrentUser() caller: AuthUser, @Body() body: CreateUserDto): Promise<UserDto> {
    return this.users.create(caller, body);
  }

  @Get(':id')
  @ApiOkResponse({
    type: UserDto,
    headers: {
      ETag: { description: 'The user version', schema: { type: 'string', maxLength: 20 } },
    },
  })
  @ApiProblems(400, 401, 404)
  get(@CurrentUser() caller: AuthUser, @Param('id') id: string): Promise<UserDto> {
    return this.users.get(caller, id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(400, 401, 403, 404, 409, 412)
  update(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: UpdateUserDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<UserDto> {
    return this.users.update(caller, id, body, versionsFromIfMatch(ifMatch));
  }
}

@ApiTags('users')
@ApiBearerAuth()
@Controller('me')
export class MeController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(401)
  me(@CurrentUser() caller: AuthUser): Promise<UserDto> {
    return this.users.me(caller);
  }

  @Post('password')
  @RouteConfig({ rateLimit: {} })
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @NoIdempotencyReplay()
  @ApiOkResponse({ type: TokenPairDto, description: 'Every other session has ended' })
  @ApiProblems(400, 401, 429)
  changePassword(
    @CurrentUser() caller: AuthUser,
    @Body() body: ChangePasswordDto,
  ): Promise<TokenPairDto> {
    return this.users.changePassword(caller, body);
  }
}
