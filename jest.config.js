/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  testMatch: ['**/?(*.)+(test).ts'],
  testPathIgnorePatterns: ['/node_modules/', '/.data/'],
  // 2-core machines: keep parallelism modest, every suite starts real servers.
  maxWorkers: 2,
  testTimeout: 60000,
  setupFiles: ['<rootDir>/test/setup-env.ts'],
};
