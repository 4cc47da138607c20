import type { Type } from '@nestjs/common';
import {
  IntersectionType as intersectionType,
  PartialType as partialType,
  PickType as pickType,
} from '@nestjs/mapped-types';
import type * as SwaggerPackage from '@nestjs/swagger';

/**
 * @nestjs/swagger's decorators and mapped types, applied when the OpenAPI document is first
 * built instead of when the classes are defined: the package loads ~530 modules (~430 of them
 * es-toolkit/compat's), ~0.4 s of a 2 s start-up, for a document few requests ask for. Each
 * decorator is recorded with its target and applied by loadSwagger() in the order the
 * classes ran it, so the metadata, and the document, are what the decorators would have made
 * at once. DTOs and controllers import them from here, never from '@nestjs/swagger'.
 */
type Swagger = typeof SwaggerPackage;
type Decorator = (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => void;
type ArgumentsOf<F> = F extends (...args: infer A) => unknown ? A : never;

const pending: ((swagger: Swagger) => void)[] = [];
let loaded: Swagger | undefined;
let loading: Promise<Swagger> | undefined;

/** @nestjs/swagger, once every decorator recorded so far has been applied. */
export function loadSwagger(): Promise<Swagger> {
  loading ??= import('@nestjs/swagger').then((swagger) => {
    for (const apply of pending.splice(0)) {
      apply(swagger);
    }
    loaded = swagger;
    return swagger;
  });
  return loading;
}

function whenLoaded(apply: (swagger: Swagger) => void): void {
  if (loaded) {
    apply(loaded);
  } else {
    pending.push(apply);
  }
}

function deferred<K extends keyof Swagger>(name: K) {
  return (...args: ArgumentsOf<Swagger[K]>): Decorator =>
    (target, key, descriptor) =>
      whenLoaded((swagger) =>
        (swagger[name] as (...args: ArgumentsOf<Swagger[K]>) => Decorator)(...args)(
          target,
          key,
          descriptor,
        ),
      );
}

export const ApiBearerAuth = deferred('ApiBearerAuth');
export const ApiCreatedResponse = deferred('ApiCreatedResponse');
export const ApiHeader = deferred('ApiHeader');
export const ApiNoContentResponse = deferred('ApiNoContentResponse');
export const ApiOkResponse = deferred('ApiOkResponse');
export const ApiProduces = deferred('ApiProduces');
export const ApiProperty = deferred('ApiProperty');
export const ApiPropertyOptional = deferred('ApiPropertyOptional');
export const ApiResponse = deferred('ApiResponse');
export const ApiServiceUnavailableResponse = deferred('ApiServiceUnavailableResponse');
export const ApiTags = deferred('ApiTags');

/**
 * A mapped type is made at once by @nestjs/mapped-types, which gives it the validation and
 * transformation metadata (as @nestjs/swagger's own mapped types do, through the same
 * package), and gets its OpenAPI properties once swagger is loaded: those of the class that
 * @nestjs/swagger's mapped type makes of the same arguments. test/unit/swagger.spec.ts checks
 * that the DTOs validate and transform as with @nestjs/swagger's.
 */
function deferredMappedType<F extends (...args: never[]) => Type>(
  make: F,
  name: 'IntersectionType' | 'PartialType' | 'PickType',
): F {
  return ((...args: Parameters<F>) => {
    const mapped = make(...args);
    whenLoaded((swagger) =>
      copyApiProperties(
        swagger,
        (swagger[name] as (...args: Parameters<F>) => Type)(...args),
        mapped,
      ),
    );
    return mapped;
  }) as F;
}

export const IntersectionType = deferredMappedType(intersectionType, 'IntersectionType');
export const PartialType = deferredMappedType(partialType, 'PartialType');
export const PickType = deferredMappedType(pickType, 'PickType');

/** Gives the class `to` the OpenAPI properties of `from`, a class @nestjs/swagger made. */
function copyApiProperties(
  { DECORATORS }: Swagger,
  from: { prototype: object },
  to: { prototype: object },
): void {
  // Swagger lists a class's properties as ':name', and keeps each one's options under its name.
  const names = Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES_ARRAY, from.prototype) as
    string[] | undefined;
  if (!names) {
    return;
  }
  Reflect.defineMetadata(DECORATORS.API_MODEL_PROPERTIES_ARRAY, names, to.prototype);
  for (const name of names) {
    const key = name.slice(1);
    const options: unknown = Reflect.getMetadata(
      DECORATORS.API_MODEL_PROPERTIES,
      from.prototype,
      key,
    );
    Reflect.defineMetadata(DECORATORS.API_MODEL_PROPERTIES, options, to.prototype, key);
  }
}
