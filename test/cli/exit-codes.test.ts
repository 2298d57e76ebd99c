/**
 * Same cause, same exit code, same words, in every command: each cause of the one table
 * (src/cli/run-action.ts) is met by `token`, `tools`, `call` and `doctor` for real, against
 * the emulator on 127.0.0.1, and the codes must agree.
 */
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ExitCode} from '../../src/cli/exit-codes.js';
import {FAILURE_CAUSES} from '../../src/cli/run-action.js';
import {startCloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import type {CloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import {startDemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import type {DemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import {startGoogleEmulator} from '../../src/emulator/google-emulator.js';
import type {
  EmulatorServiceAccountKey,
  GoogleEmulator,
} from '../../src/emulator/google-emulator.js';
import {
  BUILD_TIMEOUT_MS,
  closedPort,
  ensureBuilt,
  runCli,
  stderrBeyondEmulatorNotice,
  type CliResult,
} from './cli-harness.js';

const codeOf = (cause: string) => FAILURE_CAUSES.find((r) => r.cause === cause)?.exitCode;

// The cases run one after another (each runs its commands side by side): four children at a
// time is what two shared cores take without timing out.
describe('one exit code per cause, in every command', {timeout: 60_000}, () => {
  let emu: GoogleEmulator;
  let demo: DemoMcpServer;
  let gateway: CloudRunGateway;
  let key: EmulatorServiceAccountKey;
  let target: EmulatorServiceAccountKey;
  let userPath: string;
  let notJson: string;
  let mcpUrl: string;

  beforeAll(async () => {
    ensureBuilt();
    emu = await startGoogleEmulator();
    demo = await startDemoMcpServer();
    gateway = await startCloudRunGateway({upstream: demo.origin, jwksUrl: emu.jwksUrl});
    mcpUrl = `${gateway.url}/mcp`;
    key = await emu.createServiceAccountKey('exit-codes@emulator-project.iam.gserviceaccount.com');
    target = await emu.createServiceAccountKey('guarded@emulator-project.iam.gserviceaccount.com');
    emu.denyImpersonation(key.email, target.email);
    userPath = (await emu.createAuthorizedUserFile()).path;
    notJson = join(emu.directory, 'not-json.json');
    writeFileSync(notJson, 'this is not JSON');
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await gateway?.close();
    await demo?.close();
    await emu?.close();
  });

  /** Runs token (when it applies), tools, call and doctor with the same flags. */
  async function everyCommand(
    url: string,
    flags: string[],
    env: Record<string, string>,
    withToken = true,
  ): Promise<Record<string, CliResult>> {
    const runs: [string, string[]][] = [
      ['tools', ['tools', url, ...flags]],
      ['call', ['call', url, 'add', ...flags]],
      ['doctor', ['doctor', url, ...flags]],
    ];
    if (withToken) runs.push(['token', ['token', '--audience', new URL(url).origin, ...flags]]);
    const results = await Promise.all(runs.map(([, args]) => runCli(args, env)));
    return Object.fromEntries(runs.map(([name], i) => [name, results[i] as CliResult]));
  }

  /** The first line of stderr; the retry policy's count and time (they vary with its jitter) become N and T. */
  const firstLine = (result: CliResult | undefined) =>
    stderrBeyondEmulatorNotice(result?.stderr ?? '')
      .split('\n')[0]
      ?.replace(/Gave up after \d+ attempts? over [\d.]+ s/, 'Gave up after N attempts over T s');

  it('credential_cannot_mint: user credentials, exit 2 everywhere, the whole reason in each', async () => {
    const results = await everyCommand(mcpUrl, ['--key-file', userPath], emu.env());
    for (const [name, result] of Object.entries(results)) {
      expect(result.code, name).toBe(codeOf('credential_cannot_mint'));
      expect(result.code, name).toBe(ExitCode.USAGE);
    }
    // tools and call say what token says, word for word, and none cuts it short.
    const line = firstLine(results.token);
    expect(line).toMatch(
      /^error: Could not get an ID token .* so that ADC mints as that service account\.$/,
    );
    expect(firstLine(results.tools)).toBe(line);
    expect(firstLine(results.call)).toBe(line);
    expect(results.tools?.stderr).toContain(
      `run mcp-google-auth doctor ${mcpUrl} --key-file ${userPath} for the details`,
    );
    expect(results.doctor?.stdout).toContain('--impersonate SA_EMAIL');
  });

  it('google_refused: impersonation denied, exit 3 everywhere', async () => {
    const results = await everyCommand(
      mcpUrl,
      ['--key-file', key.path, '--impersonate', target.email],
      emu.env(),
    );
    for (const [name, result] of Object.entries(results)) {
      expect(result.code, `${name}: ${result.stderr}`).toBe(codeOf('google_refused'));
    }
    expect(firstLine(results.tools)).toBe(firstLine(results.token));
  });

  it('google_unreachable: the token endpoint does not answer, exit 1 everywhere', async () => {
    const down = `127.0.0.1:${await closedPort()}`;
    const results = await everyCommand(mcpUrl, ['--key-file', key.path], {
      ...emu.env(),
      GOOGLE_AUTH_EMULATOR_HOST: down,
    });
    for (const [name, result] of Object.entries(results)) {
      expect(result.code, `${name}: ${result.stderr}`).toBe(codeOf('google_unreachable'));
    }
    expect(firstLine(results.tools)).toBe(firstLine(results.token));
  });

  it('a key file that is not JSON: exit 2 everywhere, before any request', async () => {
    const results = await everyCommand(mcpUrl, ['--key-file', notJson], emu.env());
    for (const [name, result] of Object.entries(results)) {
      expect(result.code, name).toBe(ExitCode.USAGE);
      expect(result.stdout, name).toBe('');
      expect(firstLine(result), name).toBe(`error: The key file ${notJson} is not JSON.`);
    }
  });

  it('server_refused: the front refuses the audience, exit 3 in tools, call and doctor', async () => {
    const results = await everyCommand(
      mcpUrl,
      ['--key-file', key.path, '--audience', 'https://other.a.run.app'],
      emu.env(),
      false,
    );
    for (const [name, result] of Object.entries(results)) {
      expect(result.code, name).toBe(codeOf('server_refused'));
    }
  });

  it('server_unreachable: nothing listens, exit 1 in tools, call and doctor', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/mcp`;
    const results = await everyCommand(url, ['--key-file', key.path], emu.env(), false);
    for (const [name, result] of Object.entries(results)) {
      expect(result.code, name).toBe(codeOf('server_unreachable'));
    }
  });
});
