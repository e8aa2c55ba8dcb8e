import { MigrationInterface, QueryRunner, Table, TableForeignKey } from 'typeorm';
import { dropTableIfPresent, ensureForeignKey, ensureTable } from '../migration-steps';

/**
 * The history of billing-profile changes (CONTRACT 7.3). The auto-increment id is the order of the
 * changes, so the history is seek-paged on one column, newest first.
 */
export class CreateBillingProfileChanges1764000001000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await ensureTable(
      queryRunner,
      new Table({
        name: 'billing_profile_changes',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
            primaryKeyConstraintName: 'pk_billing_profile_changes',
          },
          { name: 'customer_id', type: 'varchar', length: '36' },
          // The partner tenant that made the change (it owned the customer then).
          { name: 'changed_by', type: 'varchar', length: '36' },
          { name: 'changed_at', type: 'datetime', precision: 3 },
          // The profile's fields before and after, as JSON.
          { name: 'before_values', type: 'text' },
          { name: 'after_values', type: 'text' },
        ],
        indices: [
          {
            name: 'idx_billing_profile_changes_customer',
            columnNames: ['customer_id', 'changed_by', 'id'],
          },
        ],
      }),
    );
    await ensureForeignKey(
      queryRunner,
      'billing_profile_changes',
      new TableForeignKey({
        name: 'fk_billing_profile_changes_customer',
        columnNames: ['customer_id'],
        referencedTableName: 'customers',
        referencedColumnNames: ['id'],
        onDelete: 'CASCADE',
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropTableIfPresent(queryRunner, 'billing_profile_changes');
  }
}
