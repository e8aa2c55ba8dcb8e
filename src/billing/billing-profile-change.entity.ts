import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One successful change of a billing profile (CONTRACT 7.3). */
@Entity({ name: 'billing_profile_changes' })
export class BillingProfileChangeEntity {
  @PrimaryGeneratedColumn('increment', { primaryKeyConstraintName: 'pk_billing_profile_changes' })
  id!: number;

  @Column({ name: 'customer_id', type: 'varchar', length: 36 })
  customerId!: string;

  @Column({ name: 'changed_by', type: 'varchar', length: 36 })
  changedBy!: string;

  @Column({ name: 'changed_at', type: 'datetime', precision: 3 })
  changedAt!: Date;

  @Column({ name: 'before_values', type: 'text' })
  beforeValues!: string;

  @Column({ name: 'after_values', type: 'text' })
  afterValues!: string;
}
