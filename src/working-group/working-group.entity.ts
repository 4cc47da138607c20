import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('working_group')
export class WorkingGroup {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'text' })
  mandate!: string;

  @Column({ name: 'cadence_months', type: 'integer' })
  cadenceMonths!: number;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'created_at', type: 'varchar', length: 24 })
  createdAt!: string;

  @Column({ name: 'updated_at', type: 'varchar', length: 24 })
  updatedAt!: string;
}
