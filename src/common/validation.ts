import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { Matches, ValidateIf } from 'class-validator';
import { type FieldError, ValidationProblem } from './problem-details.filter.js';

/** Flattens class-validator's tree into `[{field: "a.b[0].c", message}]`. */
export function fieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent
        ? `${parent}.${error.property}`
        : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

/**
 * How deep a body or query may nest. The deepest request the API defines is 3 levels
 * (outcomes -> actionItems -> item); class-transformer recurses once per level, and a body of
 * a few thousand levels (well within 100 KiB) exhausts the stack: a 500 for bad input.
 */
export const MAX_NESTING = 16;

/**
 * The path of the first value nested deeper than `limit` levels, or null. Iterative, so that
 * the check itself cannot run out of stack.
 */
export function tooDeep(value: unknown, limit = MAX_NESTING): string | null {
  const pending: [unknown, number, string][] = [[value, 0, '']];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [current, depth, path] = next;
    if (current === null || typeof current !== 'object') {
      continue;
    }
    if (depth >= limit) {
      return path;
    }
    for (const [key, child] of Object.entries(current)) {
      const childPath = Array.isArray(current) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      pending.push([child, depth + 1, childPath]);
    }
  }
  return null;
}

/**
 * Throws a 400 for input nested deeper than MAX_NESTING levels. The global pipe calls it on
 * bodies and queries; the JSON body parser may call it too, to refuse before anything else
 * (an interceptor, a guard) walks the body.
 */
export function assertShallow(value: unknown, where: 'body' | 'query'): void {
  const path = tooDeep(value);
  if (path !== null) {
    throw new ValidationProblem(
      [{ field: path, message: `nests deeper than ${MAX_NESTING} levels` }],
      `The request ${where} nests deeper than ${MAX_NESTING} levels`,
    );
  }
}

/** The global pipe: refuses over-deep input with a 400 before class-transformer recurses. */
class BoundedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query') {
      assertShallow(value, metadata.type);
    }
    return (await super.transform(value, metadata)) as unknown;
  }
}

export function createValidationPipe(): ValidationPipe {
  return new BoundedValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationProblem(fieldErrors(errors)),
  });
}

/**
 * An optional field that cannot be null: unlike @IsOptional(), which lets null through to a
 * NOT NULL column, only an absent field skips validation.
 */
export const Omittable = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

/** Trims surrounding white space from a string field before it is validated. */
export const Trim = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** A LIKE pattern that finds `text` anywhere, its own % and _ taken literally (ESCAPE '\\'). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A query value that is a comma-separated list of `values` (e.g. ?status=open,blocked). */
export const IsCommaListOf = (values: readonly string[]) =>
  Matches(new RegExp(`^(${values.join('|')})(,(${values.join('|')}))*$`), {
    message: ({ property }) => `${property} must be a comma-separated list of ${values.join(', ')}`,
  });
