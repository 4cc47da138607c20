import { ApiProperty, ApiPropertyOptional, PartialType, PickType } from '../../common/swagger.js';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsTimeZone,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { PageQueryDto, NEXT_CURSOR } from '../../common/pagination.js';
import { Omittable, Trim } from '../../common/validation.js';
import { ROLES, type Role } from '../../common/permissions.js';
import { DELEGATIONS, type DelegationCode } from '../../delegations/delegation.entity.js';

export class CreateUserDto {
  @ApiProperty({ example: 'delegate2.in', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 64 })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
    message: 'username may hold only letters, digits, dots, dashes and underscores',
  })
  @MinLength(2)
  @MaxLength(64)
  username!: string;

  @ApiProperty({ maxLength: 200 })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  displayName!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;

  @ApiProperty({ enum: DELEGATIONS, nullable: true, description: 'null for admin only' })
  @ValidateIf((_, value) => value !== null)
  @IsIn(DELEGATIONS)
  delegation!: DelegationCode | null;

  @ApiPropertyOptional({ maxLength: 254, nullable: true, format: 'email' })
  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  email?: string | null;

  @ApiPropertyOptional({
    maxLength: 64,
    example: 'Asia/Kolkata',
    description: 'IANA zone; defaults to Asia/Kolkata (IN), America/New_York (US), UTC (admin)',
  })
  @Omittable()
  @IsString()
  @MaxLength(64)
  @IsTimeZone()
  timezone?: string;

  @ApiProperty({ minLength: 8, maxLength: 128, format: 'password' })
  @IsString()
  @MinLength(8)
  @MaxLength(128)
  password!: string;
}

export class UpdateUserDto extends PartialType(
  PickType(CreateUserDto, ['displayName', 'role', 'email', 'timezone'] as const),
  { skipNullProperties: false },
) {
  @ApiPropertyOptional({ description: 'false deactivates the account and ends its sessions' })
  @Omittable()
  @IsBoolean()
  active?: boolean;
}

export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ enum: DELEGATIONS })
  @IsOptional()
  @IsIn(DELEGATIONS)
  delegation?: DelegationCode;
}

export class ChangePasswordDto {
  @ApiProperty({ maxLength: 128, format: 'password' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  currentPassword!: string;

  @ApiProperty({ minLength: 8, maxLength: 128, format: 'password' })
  @IsString()
  @MinLength(8)
  @MaxLength(128)
  newPassword!: string;
}

export class UserDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ maxLength: 64 })
  username!: string;

  @ApiProperty({ maxLength: 200 })
  displayName!: string;

  @ApiProperty({ enum: ROLES })
  role!: Role;

  @ApiProperty({ enum: DELEGATIONS, nullable: true })
  delegation!: DelegationCode | null;

  @ApiPropertyOptional({
    nullable: true,
    maxLength: 254,
    description: 'Only for the user, admin and their delegation DSA',
  })
  email?: string | null;

  @ApiPropertyOptional({
    maxLength: 64,
    description: 'Only for the user, admin and their delegation DSA',
  })
  timezone?: string;

  @ApiProperty()
  active!: boolean;

  @ApiProperty()
  version!: number;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] })
  data!: UserDto[];

  @ApiProperty(NEXT_CURSOR)
  nextCursor!: string | null;
}
