import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DelegationCode } from '../delegations/delegation.entity.js';

export type NoteParentType = 'meeting' | 'policy_item' | 'action_item';

/** A delegation-internal note: only the author's delegation ever sees it. */
@Entity('notes')
export class Note {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'parent_type', type: 'varchar', length: 16 })
  parentType!: NoteParentType;

  @Column({ name: 'parent_id', type: 'varchar', length: 36 })
  parentId!: string;

  @Column({ type: 'text' })
  body!: string;

  @Column({ name: 'author_id', type: 'varchar', length: 36 })
  authorId!: string;

  @Column({ type: 'varchar', length: 2 })
  delegation!: DelegationCode;

  @Column({ name: 'created_at', type: 'varchar', length: 24 })
  createdAt!: string;
}
