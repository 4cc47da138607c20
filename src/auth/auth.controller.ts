import { Body, Controller, Header, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '../common/swagger.js';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { AuthUser } from '../common/auth-user.js';
import { CurrentUser, Public } from '../common/decorators.js';
import { ApiProblems } from '../common/openapi.js';
import type { User } from '../users/user.entity.js';
import { AuthService } from './auth.service.js';
import { LoginDto, RefreshDto, TokenPairDto } from './dto/auth.dto.js';
import { LocalAuthGuard } from './guards.js';

/** Per-address throttling, applied by @fastify/rate-limit (registered in app.setup.ts). */
const PER_ADDRESS_LIMIT = { rateLimit: {} };

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @RouteConfig(PER_ADDRESS_LIMIT)
  @UseGuards(LocalAuthGuard)
  @Post('login')
  @Header('cache-control', 'no-store')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(400, 401, 429)
  login(@Body() _body: LoginDto, @CurrentUser() user: User): Promise<TokenPairDto> {
    return this.auth.login(user);
  }

  @Public()
  @RouteConfig(PER_ADDRESS_LIMIT)
  @Post('refresh')
  @Header('cache-control', 'no-store')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(400, 401, 429)
  refresh(@Body() body: RefreshDto): Promise<TokenPairDto> {
    return this.auth.refresh(body.refreshToken);
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'The session and its tokens are ended' })
  @ApiProblems(401)
  logout(@CurrentUser() user: AuthUser): Promise<void> {
    return this.auth.logout(user);
  }
}
