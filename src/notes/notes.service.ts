import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { findVisible as findVisibleActionItem } from '../action-items/action-items.service.js';
import type { AuthUser } from '../common/auth-user.js';
import { nowIso } from '../common/clock.js';
import {
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  type Page,
  type PageQueryDto,
  toPage,
} from '../common/pagination.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { findMeeting } from '../meetings/meetings.service.js';
import { findVisiblePolicyItem } from '../policy-items/policy-items.service.js';
import type { CreateNoteDto, NoteDto } from './note.dto.js';
import { Note, type NoteParentType } from './note.entity.js';
import { recordEvent } from '../audit/audit-log.js';

/**
 * Delegation-internal notes on meetings, policy items and action items. On a parent the
 * caller can see, they read their own delegation's notes only (admin, of no delegation,
 * reads none); on a parent they cannot see, 404.
 */
@Injectable()
export class NotesService {
  constructor(private readonly uow: UnitOfWork) {}

  async list(
    caller: AuthUser,
    parentType: NoteParentType,
    parentId: string,
    query: PageQueryDto,
  ): Promise<Page<NoteDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.uow.read(async (em) => {
      await assertParentVisible(em, caller, parentType, parentId);
      if (caller.delegation === null) {
        return [];
      }
      const qb = em
        .createQueryBuilder(Note, 'n')
        .where(
          'n.parent_type = :parentType AND n.parent_id = :parentId AND n.delegation = :delegation',
          {
            parentType,
            parentId,
            delegation: caller.delegation,
          },
        )
        .orderBy('n.created_at')
        .addOrderBy('n.id')
        .limit(limit + 1);
      if (query.cursor) {
        const [at, id] = decodeCursor(query.cursor, 2);
        qb.andWhere('(n.created_at > :at OR (n.created_at = :at AND n.id > :id))', { at, id });
      }
      return qb.getMany();
    });
    return toPage(rows, limit, (n) => [n.createdAt, n.id], present);
  }

  create(
    caller: AuthUser,
    parentType: NoteParentType,
    parentId: string,
    dto: CreateNoteDto,
  ): Promise<NoteDto> {
    return this.uow.transaction(async (em) => {
      await assertParentVisible(em, caller, parentType, parentId);
      const note: Note = {
        id: randomUUID(),
        parentType,
        parentId,
        body: dto.body,
        authorId: caller.id,
        // Writers are dsa, secretariat and delegates: always of a delegation.
        delegation: caller.delegation!,
        createdAt: nowIso(),
      };
      await em.insert(Note, note);
      // Never the note's text: the event says only that the delegation wrote one.
      await recordEvent(em, {
        actorId: caller.id,
        action: 'note.created',
        entityType: 'note',
        entityId: note.id,
        changes: { parentType, parentId },
        visibility: note.delegation,
      });
      return present(note);
    });
  }
}

async function assertParentVisible(
  em: EntityManager,
  caller: AuthUser,
  parentType: NoteParentType,
  parentId: string,
): Promise<void> {
  switch (parentType) {
    case 'meeting':
      await findMeeting(em, parentId);
      return;
    case 'policy_item':
      await findVisiblePolicyItem(em, caller, parentId);
      return;
    case 'action_item':
      await findVisibleActionItem(em, caller, parentId);
      return;
  }
}

function present(note: Note): NoteDto {
  const { id, body, authorId, delegation, createdAt } = note;
  return { id, body, authorId, delegation, createdAt };
}
