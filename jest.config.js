// Jest runs the TypeScript sources directly (swc, CommonJS). `got` and its
// dependencies ship as ESM and are transformed too. Workspace packages resolve
// to their src/ through the private `@leadrouter/source` export condition.
'use strict';

const esmPackages = [
  'got',
  '@sindresorhus/is',
  '@sec-ant/readable-stream',
  'byte-counter',
  'cacheable-lookup',
  'cacheable-request',
  'decompress-response',
  'form-data-encoder',
  'get-stream',
  'is-stream',
  'lowercase-keys',
  'mimic-response',
  'normalize-url',
  'p-cancelable',
  'responselike',
  'keyv',
  '@keyv/serialize',
  'http-cache-semantics',
  'type-fest',
  // TypeBox 1 ships as ESM only (ADR 0019).
  'typebox',
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.[cm]?[tj]s$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironmentOptions: {
    customExportConditions: ['@leadrouter/source', 'node', 'node-addons'],
  },
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 30000,
  // Two cores: integration tests start servers and worker processes.
  maxWorkers: 2,
  // A Jest worker exits once its event loop is empty. The last file's clean-ups leave short timers
  // behind for a moment (ioredis waits up to 2 s for a disconnected socket to close), which Jest's
  // default of 500 ms reported as "a worker process has failed to exit gracefully". A real leak (a timer
  // that re-arms, a client reconnecting for ever) still outlasts 5 s and is still reported;
  // test/ops/worker-stop-redis-gone.test.ts holds the one that was found.
  workerGracefulExitTimeout: 5000,
};
