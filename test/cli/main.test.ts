import {beforeAll, describe, expect, it} from 'vitest';
import {BUILD_TIMEOUT_MS, ensureBuilt, runCli} from './cli-harness.js';

describe.concurrent('mcp-google-auth (program)', () => {
  beforeAll(() => ensureBuilt(), BUILD_TIMEOUT_MS);

  it('--help lists every subcommand and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const name of ['token', 'tools', 'call', 'proxy', 'doctor', 'emulator', 'demo']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    }
  });

  it('--version prints the version and exits 0', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 for an unknown subcommand, an unknown option, a missing argument, a bad --header', async () => {
    const [command, option, argument, header] = await Promise.all([
      runCli(['frobnicate']),
      runCli(['token', '--nope']),
      runCli(['tools']),
      runCli(['tools', 'http://127.0.0.1:9/mcp', '--header', 'cookie']),
    ]);
    for (const result of [command, option, argument, header]) {
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/error/);
    }
  });
});
