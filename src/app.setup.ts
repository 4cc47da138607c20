import rateLimit from '@fastify/rate-limit';
import { DataSource } from 'typeorm';
import { databaseRateLimitStore } from './common/rate-limit-store.js';
import { ConsoleLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { AppModule } from './app.module.js';
import { ProblemSchema, problemResponse } from './common/openapi.js';
import { assertShallow, createValidationPipe } from './common/validation.js';
import type { AppConfig } from './config/config.js';

export const API_PREFIX = 'api/v1';
const BODY_LIMIT = 100 * 1024;

function noSchemas(): never {
  throw new Error('Fastify route schemas are not used: DTOs validate requests (class-validator)');
}

/** Builds the application (not yet listening); shared by main.ts and the tests. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT,
    // Long ids name nothing: answer them 404 like any unknown id, not Fastify's 414.
    routerOptions: { maxParamLength: 2000 },
    trustProxy: process.env.TRUST_PROXY === 'true',
    genReqId: () => randomUUID(),
    // Requests are validated by class-validator (createValidationPipe) and no route declares a
    // Fastify schema, so Fastify's schema compilers (ajv, fast-json-stringify: ~100 modules)
    // are never loaded. A route that declared one would fail the start-up with noSchemas.
    schemaController: {
      compilersFactory: { buildValidator: noSchemas, buildSerializer: noSchemas },
    },
    logger:
      config.logLevel === 'silent'
        ? false
        : {
            level: config.logLevel,
            // Calendar feed URLs carry a secret: log the route, never the raw URL.
            serializers: {
              req: (req: { method: string; routeOptions?: { url?: string }; id: string }) => ({
                id: req.id,
                method: req.method,
                route: req.routeOptions?.url,
              }),
            },
          },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bodyParser: false,
    logger:
      config.logLevel === 'silent'
        ? false
        : new ConsoleLogger({ json: true, logLevels: nestLogLevels(config.logLevel) }),
  });
  await configureApp(app, config);
  return app;
}

/** Prefix, pipes, limits, headers, problem+json and the OpenAPI document. */
export async function configureApp(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  // Only routes that opt in with @RouteConfig({ rateLimit }) are limited (sign-in, refresh).
  // With several instances on PostgreSQL the counts live in the database, shared by all.
  await app.register(rateLimit, {
    global: false,
    max: config.loginThrottleLimit,
    timeWindow: config.loginThrottleTtlSeconds * 1000,
    ...(config.databaseUrl ? { store: databaseRateLimitStore(app.get(DataSource)) } : {}),
  });
  // Only JSON bodies: anything else is 415 (Fastify's default text/plain parser goes). An
  // empty body declared as JSON is no body, as many clients send one on action POSTs.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser(['text/plain', 'application/json']);
  // Over-deep JSON is refused as it is parsed: whatever walks the body next (key sorting for
  // Idempotency-Key, class-transformer) recurses, and thousands of levels fit in 100 KiB.
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') {
      done(null, undefined);
      return;
    }
    void parseJson(request, String(body), (error: Error | null, value?: unknown) => {
      try {
        if (!error) {
          assertShallow(value, 'body');
        }
      } catch (refusal) {
        done(refusal as Error, undefined);
        return;
      }
      done(error, value);
    });
  });
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.setGlobalPrefix(API_PREFIX, { exclude: ['health'] });
  app.useGlobalPipes(createValidationPipe());
  app.useSecurityHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // Swagger UI at /api/docs needs its inline bootstrap script and styles.
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
      },
    },
  });
  app.enableShutdownHooks();

  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/openapi.json',
    useGlobalPrefix: false,
  });
}

/**
 * The OpenAPI document of every route. Each operation that needs a token also documents 401,
 * 403 and 404 (an id it cannot see is 404; a record-level refusal is 403).
 */
export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('JWG Tracker')
      .setDescription(
        'Agenda and action items of the Indo-US Industrial Security Joint Working Group. ' +
          'Errors are application/problem+json (RFC 9457). A record visible to one delegation ' +
          'only is 404 to everyone else.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
    { extraModels: [ProblemSchema] },
  );
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'patch', 'delete'] as const) {
      const operation = item[method];
      if (!operation?.security?.length) {
        continue;
      }
      for (const status of ['401', '403', '404']) {
        operation.responses[status] ??= problemResponse(status);
      }
      if (method === 'post') {
        operation.parameters = [...(operation.parameters ?? []), IDEMPOTENCY_KEY];
      }
    }
  }
  // Path and header parameters are bounded too: ids are UUIDs, tokens and tags short.
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as { parameters?: unknown[] }[]) {
      for (const parameter of (operation.parameters ?? []) as {
        name: string;
        schema?: { type?: string; maxLength?: number };
      }[]) {
        if (parameter.schema?.type === 'string' && parameter.schema.maxLength === undefined) {
          parameter.schema.maxLength = parameter.name === 'id' ? 36 : 200;
        }
      }
    }
  }
  return document;
}

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header' as const,
  required: false,
  description:
    'A retry with the same key, route and body (24 h, per user) returns the first 2xx answer ' +
    'and changes nothing; the same key with another body is 409.',
  schema: { type: 'string' as const, maxLength: 200 },
};

function nestLogLevels(level: AppConfig['logLevel']) {
  const order = ['fatal', 'error', 'warn', 'log', 'debug'] as const;
  const cut = { fatal: 1, error: 2, warn: 3, info: 4, debug: 5, silent: 0 }[level];
  return order.slice(0, cut);
}
