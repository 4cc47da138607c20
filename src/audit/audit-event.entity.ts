import { Column, Entity, PrimaryColumn } from 'typeorm';

export type AuditVisibility = 'joint' | 'IN' | 'US' | 'account';

@Entity('audit_events')
export class AuditEvent {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Position in the chain, from 1. */
  @Column({ type: 'integer' })
  seq!: number;

  @Column({ type: 'varchar', length: 24 })
  at!: string;

  @Column({ name: 'actor_id', type: 'varchar', length: 36, nullable: true })
  actorId!: string | null;

  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ name: 'entity_type', type: 'varchar', length: 32 })
  entityType!: string;

  @Column({ name: 'entity_id', type: 'varchar', length: 36, nullable: true })
  entityId!: string | null;

  /** JSON. Never a password, a token, or the text of a delegation-only note. */
  @Column({ type: 'text' })
  changes!: string;

  /** As visible as its record was when it happened; `account` events are admin's. */
  @Column({ type: 'varchar', length: 8 })
  visibility!: AuditVisibility;

  @Column({ name: 'prev_hash', type: 'varchar', length: 64 })
  prevHash!: string;

  @Column({ type: 'varchar', length: 64 })
  hash!: string;
}

@Entity('audit_head')
export class AuditHead {
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  seq!: number;

  @Column({ type: 'varchar', length: 64 })
  hash!: string;
}
