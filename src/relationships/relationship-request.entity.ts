import { Column, Entity, PrimaryColumn } from 'typeorm';

export const REQUEST_STATUSES = ['pending', 'accepted', 'expired'] as const;
export type RelationshipRequestStatus = (typeof REQUEST_STATUSES)[number];

/** An invitation a partner handed out (CONTRACT section 11); its id is in the invitation URL. */
@Entity({ name: 'relationship_requests' })
export class RelationshipRequestEntity {
  @PrimaryColumn({
    type: 'varchar',
    length: 36,
    primaryKeyConstraintName: 'pk_relationship_requests',
  })
  id!: string;

  /** The inviting partner: the accepting customer becomes its customer. */
  @Column({ name: 'partner_tenant_id', type: 'varchar', length: 36 })
  partnerTenantId!: string;

  /** The indirect reseller the customer will be associated with, when the partner named one. */
  @Column({ name: 'indirect_reseller_id', type: 'varchar', length: 36, nullable: true })
  indirectResellerId!: string | null;

  @Column({ type: 'varchar', length: 16 })
  status!: RelationshipRequestStatus;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt!: Date;

  @Column({ name: 'accepted_at', type: 'datetime', precision: 3, nullable: true })
  acceptedAt!: Date | null;

  /** The tenant that accepted: the customer's id. */
  @Column({ name: 'customer_id', type: 'varchar', length: 36, nullable: true })
  customerId!: string | null;
}
