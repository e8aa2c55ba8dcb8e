import { Column, Entity, PrimaryColumn } from 'typeorm';

const optional = (name: string, length: number) =>
  Column({ name, type: 'varchar', length, nullable: true });

@Entity({ name: 'billing_profiles' })
export class BillingProfileEntity {
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'pk_billing_profiles' })
  id!: string;

  @Column({ name: 'customer_id', type: 'varchar', length: 36 })
  customerId!: string;

  @Column({ name: 'partner_tenant_id', type: 'varchar', length: 36 })
  partnerTenantId!: string;

  @optional('first_name', 50)
  firstName!: string | null;

  @optional('last_name', 50)
  lastName!: string | null;

  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ type: 'varchar', length: 16 })
  culture!: string;

  @Column({ type: 'varchar', length: 8 })
  language!: string;

  @Column({ name: 'company_name', type: 'varchar', length: 255 })
  companyName!: string;

  @Column({ name: 'address_country', type: 'varchar', length: 2 })
  addressCountry!: string;

  @optional('address_region', 100)
  addressRegion!: string | null;

  @optional('address_city', 100)
  addressCity!: string | null;

  @optional('address_state', 100)
  addressState!: string | null;

  @Column({ name: 'address_line1', type: 'varchar', length: 200 })
  addressLine1!: string;

  @optional('address_line2', 200)
  addressLine2!: string | null;

  @optional('address_line3', 200)
  addressLine3!: string | null;

  @optional('address_postal_code', 20)
  addressPostalCode!: string | null;

  @optional('address_first_name', 50)
  addressFirstName!: string | null;

  @optional('address_middle_name', 50)
  addressMiddleName!: string | null;

  @optional('address_last_name', 50)
  addressLastName!: string | null;

  @optional('address_phone_number', 32)
  addressPhoneNumber!: string | null;

  /** Opaque, unguessable, replaced on every change: the optimistic-concurrency token. */
  @Column({ type: 'varchar', length: 64 })
  etag!: string;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;
}
