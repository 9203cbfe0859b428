// Mutation testing of the safety core (`npm run mutation`, not in CI: minutes, not seconds).
// Each mutant changes one rule by one character; a mutant that survives is a behaviour no test
// pins. docs/testing.md lists the score per file and why each survivor is equivalent.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: ['lib/sync/plan.ts', 'lib/sync/overlap.ts', 'lib/sync/members.ts', 'lib/sync/reads.ts', 'lib/sync/heartbeat.ts', 'lib/accept/decide.ts', 'lib/ip.ts', 'lib/dns.ts'],
  coverageAnalysis: 'perTest',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false },
  thresholds: { high: 95, low: 90, break: null },
  concurrency: 2,
  timeoutMS: 10_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
