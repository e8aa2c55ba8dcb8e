// The cluster checks of issue #12 (`npm run test:cluster`): a 3-node MariaDB Galera cluster and
// a Redis Cluster on loopback, started by the specs themselves from the Debian packages. Kept out
// of `npm test` (its e2e project matches *.e2e-spec.ts only); the same transforms as jest.config.js.
const base = require('./jest.config.js');

const e2e = base.projects.find((project) => project.displayName === 'e2e');

module.exports = {
  displayName: 'cluster',
  testEnvironment: 'node',
  rootDir: __dirname,
  testMatch: ['<rootDir>/test/cluster/**/*.cluster-spec.ts'],
  transform: e2e.transform,
  transformIgnorePatterns: e2e.transformIgnorePatterns,
  testTimeout: 180000,
  verbose: true,
};
