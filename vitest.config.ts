import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    // integration/ holds the suites that need the heavy or conflicting packages (agent
    // frameworks, third-party MCP clients); `npm test` installs its own lockfile first.
    include: ['test/**/*.test.ts', 'integration/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Two files at once even on two cores: most suites wait on child processes and sockets
    // (CLI runs, proxies, the emulator), so one worker left a core idle much of the time.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
