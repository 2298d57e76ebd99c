/**
 * `mcp-google-auth proxy` options parsed in process (no child process): `--idle-timeout`,
 * `--max-sessions`, `--allowed-host`, `--require-token`, and the start-up line's words.
 */
import {Command} from 'commander';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {mkdtempSync, mkdirSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {
  parseAllowedHosts,
  parseIdleTimeout,
  parseMaxSessions,
  parseRequireToken,
  registerProxyCommand,
} from '../../src/cli/commands/proxy.js';
import {CliError, ExitCode} from '../../src/cli/common.js';
import {describeCredentialSource} from '../../src/cli/proxy/credential-source.js';

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

function usageError(fn: () => unknown): CliError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CliError);
  expect((error as CliError).exitCode).toBe(ExitCode.USAGE);
  return error as CliError;
}

describe('proxy --max-sessions, --allowed-host, --require-token', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('are documented in the help', () => {
    const help =
      program()
        .commands.find((c) => c.name() === 'proxy')
        ?.helpInformation() ?? '';
    expect(help).toContain('--max-sessions <n>');
    expect(help).toContain('(default 100)');
    expect(help).toContain('--allowed-host <name>');
    expect(help).toContain('--require-token [token]');
  });

  it('parse their values, and refuse bad ones (exit 2)', () => {
    expect(parseMaxSessions('1')).toBe(1);
    expect(parseMaxSessions('100000')).toBe(100_000);
    for (const value of ['0', '-3', '1.5', 'lots', '', '100001']) {
      expect(usageError(() => parseMaxSessions(value)).message).toContain('--max-sessions');
    }
    expect(parseAllowedHosts(['Dev-Box.LAN', '192.168.1.5:3000', '[fd00::1]'])).toEqual([
      'dev-box.lan',
      '192.168.1.5',
      'fd00::1',
    ]);
    expect(usageError(() => parseAllowedHosts(['http://evil.example/'])).message).toContain(
      '--allowed-host',
    );
    const given = parseRequireToken('0123456789abcdef');
    expect(given).toEqual({token: '0123456789abcdef', generated: false});
    const generated = parseRequireToken(true);
    expect(generated?.generated).toBe(true);
    expect(generated?.token).toMatch(/^[\w-]{32}$/);
    expect(parseRequireToken(true)?.token).not.toBe(generated?.token);
    const short = usageError(() => parseRequireToken('short'));
    expect(short.message).toContain('at least 16 characters');
    expect(short.message).not.toContain('short"');
  });

  it('apply only with --port (exit 2)', async () => {
    for (const flags of [
      ['--max-sessions', '5'],
      ['--allowed-host', 'dev-box.lan'],
      ['--require-token'],
    ]) {
      const result = await run(['proxy', 'https://svc-abc.a.run.app/mcp', ...flags]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(`error: ${flags[0]} applies only with --port.`);
    }
  });
});

describe('the credential source in the start-up line', () => {
  it('names the key file, GOOGLE_APPLICATION_CREDENTIALS, the gcloud file or the metadata server, in ADC order', () => {
    const home = mkdtempSync(join(tmpdir(), 'proxy-source-'));
    const gcloud = join(home, 'gcloud');
    expect(
      describeCredentialSource({keyFile: './key.json', keyFileType: 'service_account'}, {}),
    ).toBe('key file ./key.json');
    expect(
      describeCredentialSource({keyFile: './user.json', keyFileType: 'authorized_user'}, {}),
    ).toBe('authorized_user file ./user.json');
    expect(
      describeCredentialSource(
        {},
        {GOOGLE_APPLICATION_CREDENTIALS: '/k.json', CLOUDSDK_CONFIG: gcloud},
      ),
    ).toBe('GOOGLE_APPLICATION_CREDENTIALS=/k.json');
    expect(
      describeCredentialSource({}, {CLOUDSDK_CONFIG: gcloud, GCE_METADATA_HOST: '127.0.0.1:9'}),
    ).toBe('metadata server 127.0.0.1:9');
    expect(describeCredentialSource({}, {CLOUDSDK_CONFIG: gcloud})).toBe(
      'metadata server 169.254.169.254',
    );
    mkdirSync(gcloud);
    writeFileSync(join(gcloud, 'application_default_credentials.json'), '{}');
    expect(
      describeCredentialSource(
        {impersonate: 'sa@p.iam.gserviceaccount.com'},
        {CLOUDSDK_CONFIG: gcloud},
      ),
    ).toBe(
      `impersonating sa@p.iam.gserviceaccount.com with gcloud application-default credentials ${join(gcloud, 'application_default_credentials.json')}`,
    );
  });
});
