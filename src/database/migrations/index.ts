import { CreateCustomers1764000000000 } from './1764000000000-CreateCustomers';

/** Every migration, in order. Listed explicitly so the same list works from ts and compiled js. */
export const MIGRATIONS = [CreateCustomers1764000000000];
