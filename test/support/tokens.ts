import { createSigner } from 'fast-jwt';
import { randomUUID } from 'node:crypto';

export const TEST_JWT_SECRET = 'e2e-test-secret-0123456789abcdef';

const sign = createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256', expiresIn: 3_600_000 });

/** A valid token whose `tid` is the tenant. */
export function tokenFor(tenantId: string, claims: Record<string, unknown> = {}): string {
  return sign({ tid: tenantId, ...claims });
}

export function bearer(tenantId: string): { Authorization: string } {
  return { Authorization: `Bearer ${tokenFor(tenantId)}` };
}

export function newTenant(): string {
  return randomUUID();
}
