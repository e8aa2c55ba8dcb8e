import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { dropTableIfPresent, ensureCheck, ensureTable } from '../migration-steps';

const STATUS_CHECK = "status IN ('pending', 'accepted', 'expired')";

/**
 * Relationship requests (CONTRACT section 11). Every query reads one request by its id, so the
 * primary key is the only index. No foreign key to customers: an accepted request stays as the
 * record of an invitation after its customer is deleted.
 */
export class CreateRelationshipRequests1764000002000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await ensureTable(
      queryRunner,
      new Table({
        name: 'relationship_requests',
        columns: [
          {
            name: 'id',
            type: 'varchar',
            length: '36',
            isPrimary: true,
            primaryKeyConstraintName: 'pk_relationship_requests',
          },
          { name: 'partner_tenant_id', type: 'varchar', length: '36' },
          { name: 'indirect_reseller_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'created_at', type: 'datetime', precision: 3 },
          { name: 'expires_at', type: 'datetime', precision: 3 },
          { name: 'accepted_at', type: 'datetime', precision: 3, isNullable: true },
          { name: 'customer_id', type: 'varchar', length: '36', isNullable: true },
        ],
      }),
    );
    await ensureCheck(
      queryRunner,
      'relationship_requests',
      'chk_relationship_requests_status',
      STATUS_CHECK,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropTableIfPresent(queryRunner, 'relationship_requests');
  }
}
