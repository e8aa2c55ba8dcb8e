import { Column, Entity, PrimaryColumn } from 'typeorm';

export const RELATIONSHIPS = [
  'none',
  'reseller',
  'advisor',
  'syndication',
  'microsoft_support',
] as const;
export type RelationshipToPartner = (typeof RELATIONSHIPS)[number];

@Entity({ name: 'customers' })
export class CustomerEntity {
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'pk_customers' })
  id!: string;

  @Column({ name: 'partner_tenant_id', type: 'varchar', length: 36 })
  partnerTenantId!: string;

  @Column({ name: 'commerce_id', type: 'varchar', length: 36 })
  commerceId!: string;

  @Column({ type: 'varchar', length: 255 })
  domain!: string;

  @Column({ name: 'company_name', type: 'varchar', length: 255 })
  companyName!: string;

  @Column({ name: 'company_name_key', type: 'varchar', length: 255 })
  companyNameKey!: string;

  @Column({
    name: 'organization_registration_number',
    type: 'varchar',
    length: 64,
    nullable: true,
  })
  organizationRegistrationNumber!: string | null;

  @Column({ name: 'relationship_to_partner', type: 'varchar', length: 32 })
  relationshipToPartner!: RelationshipToPartner;

  @Column({ name: 'associated_partner_id', type: 'varchar', length: 36, nullable: true })
  associatedPartnerId!: string | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}
