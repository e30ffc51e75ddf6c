import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/lan/global-setup.ts'],
    reporters: ['default', './test/lan/summary-reporter.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Suites that build network namespaces share the host's netns namespace list; files run in
    // parallel, so every helper names its namespaces uniquely (see test/lan/netns.ts).
    pool: 'forks',
  },
});
