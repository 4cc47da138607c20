import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Visibility } from '../common/access.js';
import type { DelegationCode } from '../delegations/delegation.entity.js';

export const AGENDA_STATUSES = ['pending', 'discussed', 'deferred', 'withdrawn'] as const;
export type AgendaStatus = (typeof AGENDA_STATUSES)[number];

@Entity('agenda_items')
export class AgendaItem {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'meeting_id', type: 'varchar', length: 36 })
  meetingId!: string;

  @Column({ type: 'integer' })
  position!: number;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Column({ type: 'text' })
  description!: string;

  @Column({ name: 'lead_delegation', type: 'varchar', length: 2, nullable: true })
  leadDelegation!: DelegationCode | null;

  @Column({ name: 'policy_item_id', type: 'varchar', length: 36, nullable: true })
  policyItemId!: string | null;

  @Column({ type: 'varchar', length: 16 })
  status!: AgendaStatus;

  @Column({ type: 'text', nullable: true })
  outcome!: string | null;

  @Column({ name: 'carried_from_id', type: 'varchar', length: 36, nullable: true })
  carriedFromId!: string | null;

  @Column({ type: 'varchar', length: 5 })
  visibility!: Visibility;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'created_at', type: 'varchar', length: 24 })
  createdAt!: string;

  @Column({ name: 'updated_at', type: 'varchar', length: 24 })
  updatedAt!: string;
}
