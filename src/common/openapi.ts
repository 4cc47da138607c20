import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from './swagger.js';
import { STATUS_CODES } from 'node:http';

class FieldErrorSchema {
  @ApiProperty({ maxLength: 200 })
  field!: string;

  @ApiProperty({ maxLength: 1000 })
  message!: string;
}

export class ProblemSchema {
  @ApiProperty({ example: 'about:blank', maxLength: 200 })
  type!: string;

  @ApiProperty({ example: 'Not Found', maxLength: 200 })
  title!: string;

  @ApiProperty({ example: 404 })
  status!: number;

  @ApiProperty({ example: 'Action item not found', maxLength: 2000 })
  detail!: string;

  @ApiPropertyOptional({ type: [FieldErrorSchema], description: 'Validation errors (400)' })
  errors?: FieldErrorSchema[];
}

const MEANING: Record<number, string> = {
  400: 'The body or query is not valid',
  401: 'Missing, invalid or expired access token',
  403: 'Your role or delegation does not allow this',
  404: 'Not found, or not visible to you',
  409: 'The record is in a state that does not allow this',
  412: 'If-Match does not match the current version',
  429: 'Too many requests (see Retry-After)',
};

/** Documents the problem+json answers a route can give. */
export function ApiProblems(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, ...problemResponse(String(status)) })),
  );
}

/** One problem+json response in the OpenAPI document. */
export function problemResponse(status: string) {
  return {
    description: MEANING[Number(status)] ?? STATUS_CODES[Number(status)] ?? 'Error',
    content: {
      'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemSchema' } },
    },
  };
}
