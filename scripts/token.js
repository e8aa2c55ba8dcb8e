#!/usr/bin/env node
// Prints a development bearer token for a partner tenant: npm run token -- <tenant-guid>
// Signed with AUTH_JWT_SECRET when set, else with the service's fixed development secret.
'use strict';
const { randomUUID } = require('node:crypto');
const { createSigner } = require('fast-jwt');

const DEVELOPMENT_JWT_SECRET = 'customer-service-development-secret-do-not-use-in-production';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const tenantId = process.argv[2] ?? randomUUID();
if (!GUID.test(tenantId)) {
  console.error('Usage: npm run token -- <tenant-guid>');
  process.exit(2);
}
const sign = createSigner({
  key: process.env.AUTH_JWT_SECRET || DEVELOPMENT_JWT_SECRET,
  algorithm: 'HS256',
  expiresIn: 24 * 60 * 60 * 1000,
  ...(process.env.AUTH_ISSUER ? { iss: process.env.AUTH_ISSUER } : {}),
  ...(process.env.AUTH_AUDIENCE ? { aud: process.env.AUTH_AUDIENCE } : {}),
});
if (process.argv[2] === undefined) console.error(`tenant: ${tenantId}`);
console.log(sign({ tid: tenantId, sub: 'development' }));
