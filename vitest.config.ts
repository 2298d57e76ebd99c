import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    // integration/ holds the suites that need the heavy or conflicting packages (agent
    // frameworks, third-party MCP clients); `npm test` installs its own lockfile first.
    include: ['test/**/*.test.ts', 'integration/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
