import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import {
  dropTableIfPresent,
  ensureForeignKey,
  ensureIndex,
  ensurePrimaryKey,
  ensureTable,
} from '../migration-steps';

const id = (name: string) => ({ name, type: 'varchar', length: '36' });
const text = (name: string, length: number, isNullable = true) => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable,
});
const timestamp = (name: string) => ({ name, type: 'datetime', precision: 3 });

/**
 * Customers, their billing profiles and idempotency records (CONTRACT sections 5, 6 and 8). Every
 * step is safe to run again (migration-steps.ts), and each table gets its character set before the
 * foreign key between them exists.
 */
export class CreateCustomers1764000000000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await ensureTable(
      queryRunner,
      new Table({
        name: 'customers',
        columns: [
          { ...id('id'), isPrimary: true, primaryKeyConstraintName: 'pk_customers' },
          id('partner_tenant_id'),
          id('commerce_id'),
          text('domain', 255, false),
          text('company_name', 255, false),
          // lower(company_name): the list order and the CompanyName filter, served by an index.
          text('company_name_key', 255, false),
          text('organization_registration_number', 64),
          text('relationship_to_partner', 32, false),
          { ...id('associated_partner_id'), isNullable: true },
          timestamp('created_at'),
        ],
        uniques: [{ name: 'uq_customers_domain', columnNames: ['domain'] }],
        indices: [
          {
            name: 'idx_customers_partner_company',
            columnNames: ['partner_tenant_id', 'company_name_key', 'id'],
          },
          { name: 'idx_customers_partner_domain', columnNames: ['partner_tenant_id', 'domain'] },
          {
            name: 'idx_customers_reseller_company',
            columnNames: ['associated_partner_id', 'company_name_key', 'id'],
          },
        ],
      }),
    );

    await ensureTable(
      queryRunner,
      new Table({
        name: 'billing_profiles',
        columns: [
          { ...id('id'), isPrimary: true, primaryKeyConstraintName: 'pk_billing_profiles' },
          id('customer_id'),
          // The owner again, so the billing module checks ownership without the customers table.
          id('partner_tenant_id'),
          text('first_name', 50),
          text('last_name', 50),
          text('email', 254, false),
          text('culture', 16, false),
          text('language', 8, false),
          text('company_name', 255, false),
          text('address_country', 2, false),
          text('address_region', 100),
          text('address_city', 100),
          text('address_state', 100),
          text('address_line1', 200, false),
          text('address_line2', 200),
          text('address_line3', 200),
          text('address_postal_code', 20),
          text('address_first_name', 50),
          text('address_middle_name', 50),
          text('address_last_name', 50),
          text('address_phone_number', 32),
          text('etag', 64, false),
          timestamp('updated_at'),
        ],
        uniques: [{ name: 'uq_billing_profiles_customer', columnNames: ['customer_id'] }],
      }),
    );
    await ensureForeignKey(
      queryRunner,
      'billing_profiles',
      new TableForeignKey({
        name: 'fk_billing_profiles_customer',
        columnNames: ['customer_id'],
        referencedTableName: 'customers',
        referencedColumnNames: ['id'],
        onDelete: 'CASCADE',
      }),
    );

    await ensureTable(
      queryRunner,
      new Table({
        name: 'idempotency_records',
        columns: [
          id('partner_tenant_id'),
          // sha256 of the MS-RequestId: any length of header fits the key.
          text('request_key', 64, false),
          text('request_hash', 64, false),
          { ...id('customer_id'), isNullable: true },
          { name: 'status_code', type: 'int' },
          { name: 'response_body', type: 'text' },
          timestamp('created_at'),
        ],
      }),
    );
    await ensurePrimaryKey(
      queryRunner,
      'idempotency_records',
      ['partner_tenant_id', 'request_key'],
      'pk_idempotency_records',
    );
    await ensureIndex(
      queryRunner,
      'idempotency_records',
      new TableIndex({ name: 'idx_idempotency_records_customer', columnNames: ['customer_id'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropTableIfPresent(queryRunner, 'idempotency_records');
    await dropTableIfPresent(queryRunner, 'billing_profiles');
    await dropTableIfPresent(queryRunner, 'customers');
  }
}
