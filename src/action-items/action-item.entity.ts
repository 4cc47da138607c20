import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Visibility } from '../common/access.js';
import type { DelegationCode } from '../delegations/delegation.entity.js';
import type { ActionItemStatus } from './action-item-status.js';

@Entity('action_items')
export class ActionItem {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  code!: string;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Column({ type: 'text' })
  description!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: ActionItemStatus;

  @Column({ name: 'owner_id', type: 'varchar', length: 36 })
  ownerId!: string;

  /** The owner's delegation, kept with the item so lists filter on it without a join. */
  @Column({ name: 'owner_delegation', type: 'varchar', length: 2 })
  ownerDelegation!: DelegationCode;

  @Column({ name: 'due_date', type: 'varchar', length: 10 })
  dueDate!: string;

  @Column({ name: 'meeting_id', type: 'varchar', length: 36, nullable: true })
  meetingId!: string | null;

  @Column({ name: 'agenda_item_id', type: 'varchar', length: 36, nullable: true })
  agendaItemId!: string | null;

  @Column({ name: 'policy_item_id', type: 'varchar', length: 36, nullable: true })
  policyItemId!: string | null;

  @Column({ type: 'varchar', length: 5 })
  visibility!: Visibility;

  @Column({ name: 'completed_at', type: 'varchar', length: 24, nullable: true })
  completedAt!: string | null;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'created_at', type: 'varchar', length: 24 })
  createdAt!: string;

  @Column({ name: 'updated_at', type: 'varchar', length: 24 })
  updatedAt!: string;
}

@Entity('action_item_updates')
export class ActionItemUpdate {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'action_item_id', type: 'varchar', length: 36 })
  actionItemId!: string;

  @Column({ name: 'author_id', type: 'varchar', length: 36 })
  authorId!: string;

  @Column({ type: 'text' })
  note!: string;

  @Column({ type: 'varchar', length: 16, nullable: true })
  status!: ActionItemStatus | null;

  @Column({ name: 'created_at', type: 'varchar', length: 24 })
  createdAt!: string;
}
