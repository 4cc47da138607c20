import { Injectable, NotFoundException } from '@nestjs/common';
import { IsNull } from 'typeorm';
import type { AuthUser } from '../common/auth-user.js';
import { nowIso } from '../common/clock.js';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../common/pagination.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import type { ListNotificationsQueryDto, NotificationDto } from './notification.dto.js';
import { Notification } from './notification.entity.js';

/** The caller's in-app notifications: their own only, newest first. */
@Injectable()
export class NotificationsService {
  constructor(private readonly uow: UnitOfWork) {}

  async list(caller: AuthUser, query: ListNotificationsQueryDto): Promise<Page<NotificationDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.uow.read((em) => {
      const qb = em
        .createQueryBuilder(Notification, 'n')
        .where('n.user_id = :userId', { userId: caller.id })
        .orderBy('n.created_at', 'DESC')
        .addOrderBy('n.id', 'DESC')
        .limit(limit + 1);
      if (query.unread === 'true') {
        qb.andWhere('n.read_at IS NULL');
      } else if (query.unread === 'false') {
        qb.andWhere('n.read_at IS NOT NULL');
      }
      if (query.cursor) {
        const [at, id] = decodeCursor(query.cursor, 2);
        qb.andWhere('(n.created_at < :at OR (n.created_at = :at AND n.id < :id))', { at, id });
      }
      return qb.getMany();
    });
    return toPage(rows, limit, (n) => [n.createdAt, n.id], present);
  }

  /** Marks one of the caller's notifications read (again: no change); others' are 404. */
  markRead(caller: AuthUser, id: string): Promise<NotificationDto> {
    return this.uow.transaction(async (em) => {
      const notification = await em.findOneBy(Notification, { id, userId: caller.id });
      if (!notification) {
        throw new NotFoundException('Notification not found');
      }
      if (notification.readAt === null) {
        const readAt = nowIso();
        const { affected } = await em.update(Notification, { id, readAt: IsNull() }, { readAt });
        // Another instance may have marked it first: the first readAt is the one that stays.
        notification.readAt =
          affected === 0
            ? (await em.findOneByOrFail(Notification, { id, userId: caller.id })).readAt
            : readAt;
      }
      return present(notification);
    });
  }
}

function present(n: Notification): NotificationDto {
  return {
    id: n.id,
    kind: n.kind,
    subjectType: n.subjectType,
    subjectId: n.subjectId,
    title: n.title,
    body: n.body,
    createdAt: n.createdAt,
    readAt: n.readAt,
  };
}
