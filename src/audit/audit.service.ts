import { Injectable } from '@nestjs/common';
import { MoreThan } from 'typeorm';
import type { AuthUser } from '../common/auth-user.js';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../common/pagination.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { AuditEvent, AuditHead, type AuditVisibility } from './audit-event.entity.js';
import type { AuditEventDto, ListAuditEventsQueryDto } from './audit.dto.js';
import { GENESIS_HASH, hashEvent } from './audit-log.js';

export interface VerifyReport {
  ok: boolean;
  checked: number;
  firstBadId: string | null;
}

const VERIFY_BATCH = 2000;

@Injectable()
export class AuditService {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * The events the caller may read, newest first: admin the joint and account events, a DSA
   * the joint events and their own delegation's.
   */
  async list(caller: AuthUser, query: ListAuditEventsQueryDto): Promise<Page<AuditEventDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const scopes: AuditVisibility[] =
      caller.role === 'admin'
        ? ['joint', 'account']
        : ['joint', ...(caller.delegation ? [caller.delegation] : [])];
    const rows = await this.uow.read((em) => {
      const qb = em
        .createQueryBuilder(AuditEvent, 'e')
        .where('e.visibility IN (:...scopes)', { scopes })
        .orderBy('e.seq', 'DESC')
        .limit(limit + 1);
      if (query.entityType) {
        qb.andWhere('e.entity_type = :entityType', { entityType: query.entityType });
      }
      if (query.entityId) {
        qb.andWhere('e.entity_id = :entityId', { entityId: query.entityId });
      }
      if (query.cursor) {
        const [seq] = decodeCursor(query.cursor, 1);
        qb.andWhere('e.seq < :seq', { seq });
      }
      return qb.getMany();
    });
    return toPage(rows, limit, (e) => [e.seq], present);
  }

  /**
   * Walks the whole chain: each event's hash must match its content, link to the one before,
   * and follow it without a gap; the head must name the last event. The first event that
   * fails (or, for removed newest events, the last one left) is reported.
   */
  async verify(): Promise<VerifyReport> {
    let checked = 0;
    let prevHash = GENESIS_HASH;
    let prevSeq = 0;
    let lastId: string | null = null;
    for (;;) {
      const batch = await this.uow.read((em) =>
        em.find(AuditEvent, {
          where: { seq: MoreThan(prevSeq) },
          order: { seq: 'ASC' },
          take: VERIFY_BATCH,
        }),
      );
      for (const event of batch) {
        checked += 1;
        if (
          event.seq !== prevSeq + 1 ||
          event.prevHash !== prevHash ||
          hashEvent(event) !== event.hash
        ) {
          return { ok: false, checked, firstBadId: event.id };
        }
        prevSeq = event.seq;
        prevHash = event.hash;
        lastId = event.id;
      }
      if (batch.length < VERIFY_BATCH) {
        break;
      }
    }
    const head = await this.uow.read((em) => em.findOneBy(AuditHead, { id: 1 }));
    if ((head?.seq ?? 0) !== prevSeq || (head?.hash ?? GENESIS_HASH) !== prevHash) {
      return { ok: false, checked, firstBadId: lastId };
    }
    return { ok: true, checked, firstBadId: null };
  }
}

function present(e: AuditEvent): AuditEventDto {
  return {
    id: e.id,
    at: e.at,
    actorId: e.actorId,
    action: e.action,
    entityType: e.entityType,
    entityId: e.entityId,
    changes: JSON.parse(e.changes) as Record<string, unknown>,
    visibility: e.visibility,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}
