import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { recordEvent } from '../audit/audit-log.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import type { AuthUser } from './auth-user.js';

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details, the body of every error the service sends. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

/** A 400 that carries per-field messages (validation). */
export class ValidationProblem extends HttpException {
  constructor(
    readonly errors: FieldError[],
    detail = 'The request is not valid',
  ) {
    super(detail, HttpStatus.BAD_REQUEST);
  }
}

/** Turns anything thrown (Nest, Fastify, unknown) into problem+json. */
export function toProblem(error: unknown): Problem {
  if (error instanceof ValidationProblem) {
    return problem(400, error.message, error.errors);
  }
  if (error instanceof HttpException) {
    const response = error.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? response.message
        : error.message;
    return problem(
      error.getStatus(),
      Array.isArray(message) ? message.join('; ') : String(message),
    );
  }
  // Fastify's own errors (body too large, unsupported media type, malformed JSON) carry a
  // 4xx statusCode and a safe message.
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return problem(statusCode, fastifyDetail(error as { code?: string }));
  }
  // A unique key the services' own checks did not foresee (on PostgreSQL, a race another
  // instance won even after the unit of work's reruns): the request conflicts, it did not fail.
  const code = (error as { code?: unknown } | null)?.code;
  if (
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  ) {
    return problem(409, 'The request conflicts with a record that already exists; retry it');
  }
  return problem(500, 'An unexpected error occurred; it has been logged');
}

const FASTIFY_DETAILS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than 100 KiB',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'The request body must be application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty but declared as JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON',
};

function fastifyDetail(error: { code?: string }): string {
  return FASTIFY_DETAILS[error.code ?? ''] ?? 'The request could not be read';
}

function problem(status: number, detail: string, errors?: FieldError[]): Problem {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...(errors ? { errors } : {}),
  };
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  error: unknown,
  logger: Logger,
): void {
  const body = toProblem(error);
  if (body.status >= 500) {
    logger.error({ requestId: request.id, err: error instanceof Error ? error.stack : error });
  }
  if (body.status === 429 && !reply.hasHeader('retry-after')) {
    const seconds = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
    reply.header('retry-after', String(seconds ?? 60));
  }
  void reply.status(body.status).header('content-type', 'application/problem+json').send(body);
}

/**
 * Every error leaves as problem+json. A refusal (403) is an audit event of its own, written
 * before the answer goes out.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly uow: UnitOfWork) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user?: AuthUser }>();
    const reply = http.getResponse<FastifyReply>();
    if (toProblem(error).status !== 403) {
      sendProblem(reply, request, error, this.logger);
      return;
    }
    this.uow
      .transaction((em) =>
        recordEvent(em, {
          actorId: request.user?.id ?? null,
          action: 'access.denied',
          entityType: 'route',
          entityId: null,
          changes: { method: request.method, route: request.routeOptions?.url ?? null },
          visibility: 'account',
        }),
      )
      .catch((failure: unknown) =>
        this.logger.error(`Audit of a refusal failed: ${String(failure)}`),
      )
      .finally(() => sendProblem(reply, request, error, this.logger));
  }
}
