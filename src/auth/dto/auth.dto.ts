import { ApiProperty } from '../../common/swagger.js';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class LoginDto {
  @ApiProperty({ example: 'sec.in', maxLength: 64 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  username!: string;

  @ApiProperty({ maxLength: 128, format: 'password' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  password!: string;
}

export class RefreshDto {
  /**
   * Any string: a token that is empty, too long or otherwise malformed is simply unknown, so
   * 401 like every other token that is not valid (SPEC), not a 400.
   */
  @ApiProperty({ maxLength: 200, description: 'As issued: 43 characters' })
  @IsString()
  refreshToken!: string;
}

export class TokenPairDto {
  @ApiProperty({ description: 'JWT, HS256, valid for expiresIn seconds', maxLength: 2000 })
  accessToken!: string;

  @ApiProperty({ description: 'Opaque; spent by its first use at /auth/refresh', maxLength: 200 })
  refreshToken!: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType!: 'Bearer';

  @ApiProperty({ example: 900 })
  expiresIn!: number;
}
