import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Visibility } from '../common/access.js';
import type { PolicyItemStatus } from './policy-item-status.js';

@Entity('policy_items')
export class PolicyItem {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  code!: string;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Column({ type: 'text' })
  description!: string;

  @Column({ name: 'isa_reference', type: 'varchar', length: 200, nullable: true })
  isaReference!: string | null;

  @Column({ type: 'varchar', length: 24 })
  status!: PolicyItemStatus;

  @Column({ name: 'lead_in', type: 'varchar', length: 36, nullable: true })
  leadIn!: string | null;

  @Column({ name: 'lead_us', type: 'varchar', length: 36, nullable: true })
  leadUs!: string | null;

  @Column({ name: 'target_date', type: 'varchar', length: 10, nullable: true })
  targetDate!: string | null;

  @Column({ name: 'concur_in_user_id', type: 'varchar', length: 36, nullable: true })
  concurInUserId!: string | null;

  @Column({ name: 'concur_in_at', type: 'varchar', length: 24, nullable: true })
  concurInAt!: string | null;

  @Column({ name: 'concur_us_user_id', type: 'varchar', length: 36, nullable: true })
  concurUsUserId!: string | null;

  @Column({ name: 'concur_us_at', type: 'varchar', length: 24, nullable: true })
  concurUsAt!: string | null;

  @Column({ type: 'varchar', length: 5 })
  visibility!: Visibility;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'created_at', type: 'varchar', length: 24 })
  createdAt!: string;

  @Column({ name: 'updated_at', type: 'varchar', length: 24 })
  updatedAt!: string;
}
