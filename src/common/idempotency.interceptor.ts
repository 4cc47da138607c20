import {
  BadRequestException,
  type CallHandler,
  ConflictException,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  type NestInterceptor,
  SetMetadata,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { sql } from '../database/sql.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import type { AuthUser } from './auth-user.js';
import { canonicalJson } from './canonical-json.js';

const NO_REPLAY = 'jwg:no-idempotency-replay';
const LIFETIME_MS = 24 * 60 * 60 * 1000;
const KEY = /^[\x21-\x7e]{1,200}$/;

// Constant statements (sql() prepares each once) for the columns of IdempotencyRecord.
const FIND_RECORD = `SELECT request_hash AS "requestHash", response_body AS "responseBody",
  created_at AS "createdAt" FROM idempotency_records WHERE user_id = $1 AND key = $2`;
const DELETE_RECORD = `DELETE FROM idempotency_records WHERE user_id = $1 AND key = $2`;
const INSERT_RECORD = `INSERT INTO idempotency_records
  (user_id, key, request_hash, status_code, response_body, created_at)
  VALUES ($1, $2, $3, $4, $5, $6)`;

/** For routes whose answer holds secrets (new tokens): never stored, never replayed. */
export const NoIdempotencyReplay = () => SetMetadata(NO_REPLAY, true);

/**
 * Idempotency-Key on every authenticated POST: the first 2xx answer is stored with the
 * change, in the same unit of work (the handler's own transactions join it), so a retry after
 * a lost response or a crash gets that answer back and changes nothing. The same key with
 * another method, path or body is 409. Keys are per user and live 24 h.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const key = request.headers['idempotency-key'];
    if (
      request.method !== 'POST' ||
      key === undefined ||
      !request.user ||
      this.reflector.get<boolean>(NO_REPLAY, context.getHandler())
    ) {
      return next.handle();
    }
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw new BadRequestException('Idempotency-Key must be 1 to 200 visible ASCII characters');
    }
    const userId = request.user.id;
    const requestHash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${canonicalJson(request.body)}`)
      .digest('hex');
    const statusCode =
      this.reflector.get<number>(HTTP_CODE_METADATA, context.getHandler()) ?? HttpStatus.CREATED;
    const reply = context.switchToHttp().getResponse<FastifyReply>();

    return from(
      this.uow.transaction(async (em) => {
        const now = new Date();
        const {
          rows: [earlier],
        } = await sql<{ requestHash: string; responseBody: string; createdAt: string }>(
          em,
          FIND_RECORD,
          [userId, key],
        );
        if (earlier && Date.parse(earlier.createdAt) > now.getTime() - LIFETIME_MS) {
          if (earlier.requestHash !== requestHash) {
            throw new ConflictException('This Idempotency-Key was used for another request');
          }
          reply.header('idempotency-replayed', 'true');
          return JSON.parse(earlier.responseBody) as unknown;
        }
        if (earlier) {
          await sql(em, DELETE_RECORD, [userId, key]);
        }
        const body: unknown = await lastValueFrom(next.handle(), { defaultValue: undefined });
        await sql(em, INSERT_RECORD, [
          userId,
          key,
          requestHash,
          statusCode,
          JSON.stringify(body ?? null),
          now.toISOString(),
        ]);
        return body;
      }),
    );
  }
}
