import { describe, expect, it } from '@jest/globals';
import type { ArgumentMetadata, ValidationError } from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  validate,
  ValidateNested,
} from 'class-validator';
import { createValidationPipe, fieldErrors } from '../../src/common/validation.js';
import { ValidationProblem } from '../../src/common/problem-details.filter.js';

class Leaf {
  @IsString()
  c!: unknown;
}

class Middle {
  @ValidateNested({ each: true })
  @Type(() => Leaf)
  b!: Leaf[];
}

class Root {
  @ValidateNested()
  @Type(() => Middle)
  a!: Middle;

  @IsOptional()
  @IsInt()
  @Min(1)
  count?: unknown;
}

class CreateThingDto {
  @IsString()
  @MaxLength(5)
  title!: string;

  @ValidateNested({ each: true })
  @Type(() => Leaf)
  items!: Leaf[];
}

function leaf(c: unknown): Leaf {
  return Object.assign(new Leaf(), { c });
}

function error(property: string, fields: Partial<ValidationError> = {}): ValidationError {
  return { property, children: [], ...fields };
}

describe('fieldErrors', () => {
  it('returns nothing for no errors', () => {
    expect(fieldErrors([])).toEqual([]);
  });

  it('names top-level fields by their property, one entry per constraint', () => {
    expect(
      fieldErrors([
        error('title', { constraints: { isString: 'title must be a string', max: 'too long' } }),
        error('dueDate', { constraints: { isDate: 'dueDate must be a date' } }),
      ]),
    ).toEqual([
      { field: 'title', message: 'title must be a string' },
      { field: 'title', message: 'too long' },
      { field: 'dueDate', message: 'dueDate must be a date' },
    ]);
  });

  it('flattens hand-built nested errors into a.b[0].c', () => {
    const tree = [
      error('a', {
        children: [
          error('b', {
            children: [
              error('0', {
                children: [error('c', { constraints: { isString: 'c must be a string' } })],
              }),
              error('12', { constraints: { nested: 'each value must be an object' } }),
            ],
          }),
        ],
      }),
    ];
    expect(fieldErrors(tree)).toEqual([
      { field: 'a.b[0].c', message: 'c must be a string' },
      { field: 'a.b[12]', message: 'each value must be an object' },
    ]);
  });

  it("keeps a parent's own messages before its children's", () => {
    expect(
      fieldErrors([
        error('leads', {
          constraints: { whitelist: 'property leads.XX should not exist' },
          children: [error('IN', { constraints: { isUuid: 'IN must be a UUID' } })],
        }),
      ]),
    ).toEqual([
      { field: 'leads', message: 'property leads.XX should not exist' },
      { field: 'leads.IN', message: 'IN must be a UUID' },
    ]);
  });

  it('names elements of a top-level array by index', () => {
    expect(
      fieldErrors([error('3', { children: [error('x', { constraints: { a: 'bad x' } })] })]),
    ).toEqual([{ field: '[3].x', message: 'bad x' }]);
  });

  it("flattens class-validator's own tree", async () => {
    const root = Object.assign(new Root(), {
      a: Object.assign(new Middle(), { b: [leaf('fine'), leaf(5), leaf(null)] }),
      count: 0,
    });
    const errors = await validate(root);
    expect(fieldErrors(errors)).toEqual([
      { field: 'a.b[1].c', message: 'c must be a string' },
      { field: 'a.b[2].c', message: 'c must be a string' },
      { field: 'count', message: 'count must not be less than 1' },
    ]);
  });
});

describe('createValidationPipe', () => {
  const metadata: ArgumentMetadata = { type: 'body', metatype: CreateThingDto };

  it('answers a ValidationProblem with flattened field errors', async () => {
    const pipe = createValidationPipe();
    const rejection = await pipe
      .transform({ title: 'far too long', items: [{ c: 'ok' }, { c: 1 }] }, metadata)
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );
    expect(rejection).toBeInstanceOf(ValidationProblem);
    const problem = rejection as ValidationProblem;
    expect(problem.getStatus()).toBe(400);
    expect(problem.errors).toEqual([
      { field: 'title', message: 'title must be shorter than or equal to 5 characters' },
      { field: 'items[1].c', message: 'c must be a string' },
    ]);
  });

  it('refuses unknown fields, nested ones included', async () => {
    const pipe = createValidationPipe();
    const rejection = (await pipe
      .transform({ title: 'ok', items: [{ c: 'x', extra: 1 }], other: true }, metadata)
      .catch((reason: unknown) => reason)) as ValidationProblem;
    expect(rejection).toBeInstanceOf(ValidationProblem);
    expect(rejection.errors).toEqual(
      expect.arrayContaining([
        { field: 'other', message: 'property other should not exist' },
        { field: 'items[0].extra', message: 'property extra should not exist' },
      ]),
    );
    expect(rejection.errors).toHaveLength(2);
  });

  it('passes a valid body through as an instance of the DTO', async () => {
    const pipe = createValidationPipe();
    const value: unknown = await pipe.transform({ title: 'ok', items: [{ c: 'x' }] }, metadata);
    expect(value).toBeInstanceOf(CreateThingDto);
    expect((value as CreateThingDto).items[0]).toBeInstanceOf(Leaf);
  });
});
