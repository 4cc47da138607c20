import { ApiProperty, ApiPropertyOptional } from '../common/swagger.js';
import { IsInt, IsNotEmpty, IsString, Max, MaxLength, Min } from 'class-validator';
import { Omittable, Trim } from '../common/validation.js';

export class UpdateWorkingGroupDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @Omittable()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ maxLength: 5000 })
  @Omittable()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(5000)
  mandate?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 24, description: 'Months between meetings' })
  @Omittable()
  @IsInt()
  @Min(1)
  @Max(24)
  cadenceMonths?: number;
}

export class WorkingGroupDto {
  @ApiProperty({ maxLength: 200 })
  name!: string;

  @ApiProperty({ maxLength: 5000 })
  mandate!: string;

  @ApiProperty({ description: 'A setting (default 6), not a fact from the sources' })
  cadenceMonths!: number;

  @ApiProperty()
  version!: number;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}
