// The safety core's unit tests only, for `npm run mutation` (stryker.config.mjs): Stryker runs
// these once per mutant, so nothing here may need moto, a build or the network.
import { defineConfig } from 'vitest/config';

export const MUTATION_TESTS = [
  'test/sync/plan.test.ts',
  'test/sync/overlap*.test.ts',
  'test/sync/members.test.ts',
  'test/sync/reads.test.ts',
  'test/sync/heartbeat.test.ts',
  'test/accept/decide.test.ts',
  'test/ip.test.ts',
  'test/dns.test.ts',
];

export default defineConfig({
  test: {
    include: MUTATION_TESTS,
    exclude: ['test/sync/overlapping-runs.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 20_000,
  },
});
