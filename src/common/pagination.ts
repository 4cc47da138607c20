import { BadRequestException } from '@nestjs/common';
import { ApiPropertyOptional } from './swagger.js';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  // Digits only: Number() would also read "1e2", "0x10" or " 5 " as a limit.
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({
    description: 'Opaque cursor: nextCursor of the previous page',
    maxLength: 500,
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;

/** How the OpenAPI document describes `nextCursor` on every page. */
export const NEXT_CURSOR = {
  nullable: true,
  type: String,
  maxLength: 500,
  description: 'Pass as ?cursor= to get the next page; null on the last page',
};

/** A cursor is the sort key of the last row of a page, opaque to clients. */
export function encodeCursor(key: readonly (string | number | null)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, length: number): (string | number | null)[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(key) &&
      key.length === length &&
      key.every((part) => part === null || ['string', 'number'].includes(typeof part))
    ) {
      return key as (string | number | null)[];
    }
  } catch {
    // fall through to the 400 below
  }
  throw new BadRequestException('cursor is not valid');
}

/**
 * Turns rows fetched with `limit + 1` into a page: the extra row only says that another page
 * exists; the cursor is the key of the last row returned.
 */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  keyOf: (row: R) => (string | number | null)[],
  present: (row: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  return {
    data: pageRows.map((row) => present(row)),
    nextCursor: more ? encodeCursor(keyOf(pageRows[pageRows.length - 1])) : null,
  };
}
