import rateLimit from '@fastify/rate-limit';
import { DataSource } from 'typeorm';
import { databaseRateLimitStore } from './common/rate-limit-store.js';
import { ConsoleLogger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { RouteHandlerMethod } from 'fastify';
import { randomUUID } from 'node:crypto';
import { AppModule } from './app.module.js';
import { ProblemSchema, problemResponse } from './common/openapi.js';
import { loadSwagger } from './common/swagger.js';
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

  serveApiDocs(app);
}

/**
 * The routes SwaggerModule.setup('api/docs', ...) adds with the options below: Swagger UI and
 * its start script, its files (@fastify/static, mounted twice), the document as JSON and YAML.
 */
const API_DOCS_ROUTES = [
  '/api/docs',
  '/api/docs/',
  '/api/docs/index.html',
  '/api/docs/LICENSE',
  '/api/docs/swagger-ui-init.js',
  '/api/docs/docs/swagger-ui-init.js',
  '/api/docs/*',
  '/api/docs/docs/*',
  '/api/openapi.json',
  '/api/docs-yaml',
];

/**
 * Serves the OpenAPI document and Swagger UI without loading @nestjs/swagger at start (see
 * common/swagger.ts). Fastify takes no route once listening, so the routes SwaggerModule would
 * add are added now, and each runs SwaggerModule's own handler for it, which it gets on the
 * first request to any of them (about half a second, once): the same handlers on the same
 * routes as when SwaggerModule set them up here, so the same answers.
 */
function serveApiDocs(app: NestFastifyApplication): void {
  let handlers: Promise<Map<string, RouteHandlerMethod>> | undefined;
  const fastify = app.getHttpAdapter().getInstance();
  for (const url of API_DOCS_ROUTES) {
    fastify.get(url, async function (request, reply) {
      handlers ??= swaggerHandlers(app).catch((error: unknown) => {
        handlers = undefined; // the next request tries again
        throw error;
      });
      await (await handlers).get(url)!.call(this, request, reply);
      return reply;
    });
  }
}

/**
 * SwaggerModule's route handlers for the service's document, taken from a route-only
 * application it is set up on; that application is closed at once and never listens.
 */
async function swaggerHandlers(
  app: NestFastifyApplication,
): Promise<Map<string, RouteHandlerMethod>> {
  const { SwaggerModule } = await loadSwagger();
  const document = await buildOpenApiDocument(app);
  const docs = await NestFactory.create<NestFastifyApplication>(
    ApiDocsModule,
    new FastifyAdapter(),
    // A failure is this request's error, not a reason to stop the service.
    { logger: false, abortOnError: false },
  );
  const handlers = new Map<string, RouteHandlerMethod>();
  const instance = docs.getHttpAdapter().getInstance();
  instance.addHook('onRoute', ({ method, url, handler }) => {
    if ([method].flat().includes('GET')) {
      handlers.set(url, handler);
    }
  });
  SwaggerModule.setup('api/docs', docs, document, {
    jsonDocumentUrl: 'api/openapi.json',
    useGlobalPrefix: false,
  });
  await docs.init();
  await instance.ready(); // where the file server adds its routes
  await docs.close();
  const added = [...handlers.keys()].sort().join(', ');
  if (added !== [...API_DOCS_ROUTES].sort().join(', ')) {
    throw new Error(`SwaggerModule now adds other routes than API_DOCS_ROUTES: ${added}`);
  }
  return handlers;
}

/** Only SwaggerModule's routes, which it adds to the application itself. */
@Module({})
class ApiDocsModule {}

/**
 * The OpenAPI document of every route. Each operation that needs a token also documents 401,
 * 403 and 404 (an id it cannot see is 404; a record-level refusal is 403).
 */
export async function buildOpenApiDocument(app: NestFastifyApplication): Promise<OpenAPIObject> {
  const { DocumentBuilder, SwaggerModule } = await loadSwagger();
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
