import { CreateCustomers1764000000000 } from './1764000000000-CreateCustomers';
import { CreateBillingProfileChanges1764000001000 } from './1764000001000-CreateBillingProfileChanges';
import { CreateRelationshipRequests1764000002000 } from './1764000002000-CreateRelationshipRequests';

/** Every migration, in order. Listed explicitly so the same list works from ts and compiled js. */
export const MIGRATIONS = [
  CreateCustomers1764000000000,
  CreateBillingProfileChanges1764000001000,
  CreateRelationshipRequests1764000002000,
];
