import { Injectable } from '@nestjs/common';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../common/pagination.js';
import type { PageQueryDto } from '../common/pagination.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { User } from '../users/user.entity.js';
import { Delegation, type DelegationCode } from './delegation.entity.js';

export interface DelegationView {
  code: DelegationCode;
  name: string;
  dsa: { id: string; displayName: string } | null;
}

@Injectable()
export class DelegationsService {
  constructor(private readonly uow: UnitOfWork) {}

  async list(query: PageQueryDto): Promise<Page<DelegationView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor ? String(decodeCursor(query.cursor, 1)[0]) : '';
    const rows = await this.uow.read((em) =>
      em
        .createQueryBuilder(Delegation, 'd')
        .leftJoin(User, 'u', "u.delegation = d.code AND u.role = 'dsa' AND u.active = :active", {
          active: true,
        })
        .select([
          'd.code AS code',
          'd.name AS name',
          'u.id AS "dsaId"',
          'u.display_name AS "dsaName"',
        ])
        .where('d.code > :after', { after })
        .orderBy('d.code')
        .limit(limit + 1)
        .getRawMany<{
          code: DelegationCode;
          name: string;
          dsaId: string | null;
          dsaName: string;
        }>(),
    );
    return toPage(
      rows,
      limit,
      (row) => [row.code],
      (row) => ({
        code: row.code,
        name: row.name,
        dsa: row.dsaId ? { id: row.dsaId, displayName: row.dsaName } : null,
      }),
    );
  }
}
