import { Column, Entity, PrimaryColumn } from 'typeorm';

export const DELEGATIONS = ['IN', 'US'] as const;
export type DelegationCode = (typeof DELEGATIONS)[number];

export const DEFAULT_TIMEZONE: Record<DelegationCode, string> = {
  IN: 'Asia/Kolkata',
  US: 'America/New_York',
};

@Entity('delegations')
export class Delegation {
  @PrimaryColumn({ type: 'varchar', length: 2 })
  code!: DelegationCode;

  @Column({ type: 'varchar', length: 200 })
  name!: string;
}
