import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DelegationCode } from '../delegations/delegation.entity.js';
import type { MeetingKind, MeetingStatus } from './meeting-status.js';
import type { MinutesStatus } from './minutes.js';

@Entity('meetings')
export class Meeting {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'integer' })
  number!: number;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: MeetingKind;

  @Column({ name: 'starts_on', type: 'varchar', length: 10 })
  startsOn!: string;

  @Column({ name: 'ends_on', type: 'varchar', length: 10 })
  endsOn!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  location!: string | null;

  @Column({ name: 'host_delegation', type: 'varchar', length: 2 })
  hostDelegation!: DelegationCode;

  @Column({ type: 'varchar', length: 16 })
  status!: MeetingStatus;

  @Column({ name: 'minutes_status', type: 'varchar', length: 16 })
  minutesStatus!: MinutesStatus;

  @Column({ name: 'minutes_text', type: 'text', nullable: true })
  minutesText!: string | null;

  /** When the minutes were last circulated: one approval reminder per circulation. */
  @Column({ name: 'minutes_circulated_at', type: 'varchar', length: 24, nullable: true })
  minutesCirculatedAt!: string | null;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'created_at', type: 'varchar', length: 24 })
  createdAt!: string;

  @Column({ name: 'updated_at', type: 'varchar', length: 24 })
  updatedAt!: string;
}

@Entity('meeting_attendees')
export class MeetingAttendee {
  @PrimaryColumn({ name: 'meeting_id', type: 'varchar', length: 36 })
  meetingId!: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;
}

@Entity('meeting_decisions')
export class MeetingDecision {
  @PrimaryColumn({ name: 'meeting_id', type: 'varchar', length: 36 })
  meetingId!: string;

  /** The n of the decision's code D-n, counted per meeting. */
  @PrimaryColumn({ type: 'integer' })
  seq!: number;

  @Column({ type: 'text' })
  text!: string;

  @Column({ name: 'created_at', type: 'varchar', length: 24 })
  createdAt!: string;
}

@Entity('minutes_approvals')
export class MinutesApproval {
  @PrimaryColumn({ name: 'meeting_id', type: 'varchar', length: 36 })
  meetingId!: string;

  @PrimaryColumn({ type: 'varchar', length: 2 })
  delegation!: DelegationCode;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  @Column({ type: 'varchar', length: 24 })
  at!: string;
}
