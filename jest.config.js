// Two projects: fast unit specs beside the code, and e2e specs that boot the real app against
// SQLite and MariaDB (see test/support/databases.ts).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
  },
];

// NestJS 12 ships ES modules only. Node 20 lets the compiled app require() them, but Jest's module
// runtime cannot (before Node 24.9), so Jest compiles those packages to CommonJS like our own code.
const esmOnlyPackages = [
  '@nestjs',
  '@borewit',
  '@tokenizer',
  'content-disposition',
  'cookie',
  'file-type',
  'jose',
  'load-esm',
  'strtok3',
  'token-types',
  'uint8array-extras',
];
const esm = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } },
];
const transform = { '^.+\\.ts$': swc, '^.+\\.m?js$': esm };
const transformIgnorePatterns = [`/node_modules/(?!(${esmOnlyPackages.join('|')})/)`];

module.exports = {
  // Per-project testTimeout is ignored by Jest; the e2e suites boot apps and walk large pages.
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/support/global-setup.js',
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform,
      transformIgnorePatterns,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      transform,
      transformIgnorePatterns,
    },
  ],
};
