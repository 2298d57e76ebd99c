/**
 * `mcp-google-auth proxy` options parsed in process (no child process): `--idle-timeout`.
 */
import {Command} from 'commander';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {parseIdleTimeout, registerProxyCommand} from '../../src/cli/commands/proxy.js';
import {CliError, ExitCode} from '../../src/cli/common.js';

function program(): Command {
  const root = new Command('mcp-google-auth').exitOverride();
  registerProxyCommand(root);
  return root;
}

/** Runs `mcp-google-auth ...args` in process; returns what it wrote to stderr and its exit code. */
async function run(args: string[]): Promise<{stderr: string; exitCode: number | undefined}> {
  const written: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    written.push(String(chunk));
    return true;
  });
  const before = process.exitCode;
  try {
    await program().parseAsync(args, {from: 'user'});
    return {stderr: written.join(''), exitCode: process.exitCode as number | undefined};
  } finally {
    spy.mockRestore();
    process.exitCode = before;
  }
}

describe('proxy --idle-timeout', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is documented in the help, with its default and 0 = never', () => {
    const help =
      program()
        .commands.find((c) => c.name() === 'proxy')
        ?.helpInformation() ?? '';
    expect(help).toContain('--idle-timeout <seconds>');
    expect(help).toContain('default 1800, 0 = never');
  });

  it('parses whole seconds from 0 (never) into milliseconds', () => {
    expect(parseIdleTimeout(undefined)).toBeUndefined();
    expect(parseIdleTimeout('0')).toBe(0);
    expect(parseIdleTimeout('90')).toBe(90_000);
    expect(parseIdleTimeout('2147483')).toBe(2_147_483_000);
  });

  it('rejects a negative, fractional, non-numeric or too large value (exit 2)', () => {
    for (const value of ['-1', '1.5', 'abc', '', 'NaN', '2147484']) {
      let error: unknown;
      try {
        parseIdleTimeout(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode).toBe(ExitCode.USAGE);
      expect((error as Error).message).toContain('--idle-timeout');
    }
  });

  it('the command exits 2 naming --idle-timeout for a bad value, or without --port', async () => {
    const bad = await run([
      'proxy',
      'https://svc-abc.a.run.app/mcp',
      '--port',
      '0',
      '--idle-timeout=-5',
    ]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(
      'error: --idle-timeout must be a whole number of seconds from 0 (never) to 2147483, got "-5".',
    );
    const stdio = await run(['proxy', 'https://svc-abc.a.run.app/mcp', '--idle-timeout', '60']);
    expect(stdio.exitCode).toBe(2);
    expect(stdio.stderr).toContain('error: --idle-timeout applies only with --port.');
  });
});
