/**
 * `--gcloud [ACCOUNT]` on `token`, `tools`, `call` and `doctor`: the BUILT command as a child
 * process, the fake gcloud first on its PATH minting through the Google emulator, and the
 * Cloud Run front letting in only the developer listed as invoker.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ExitCode} from '../../src/cli/exit-codes.js';
import {FAILURE_CAUSES} from '../../src/cli/run-action.js';
import {GCLOUD_OAUTH_CLIENT_ID} from '../../src/credentials/gcloud-identity.js';
import {
  startCloudRunGateway,
  startDemoMcpServer,
  startGoogleEmulator,
  type CloudRunGateway,
  type DemoMcpServer,
  type GoogleEmulator,
} from '../../src/emulator/index.js';
import {createFakeGcloud, type FakeGcloud} from '../support/fake-gcloud/index.js';
import {
  BUILD_TIMEOUT_MS,
  ensureBuilt,
  runCli,
  stderrBeyondEmulatorNotice,
  type CliResult,
} from './cli-harness.js';

const DEV = 'dev@example.com';
const STRANGER = 'stranger@example.com';
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

const codeOf = (cause: string) => FAILURE_CAUSES.find((r) => r.cause === cause)?.exitCode;
const firstLine = (result: CliResult | undefined) =>
  stderrBeyondEmulatorNotice(result?.stderr ?? '').split('\n')[0] ?? '';

describe('--gcloud on token, tools, call and doctor', {timeout: 60_000}, () => {
  let emu: GoogleEmulator;
  let demo: DemoMcpServer;
  let front: CloudRunGateway;
  let gcloud: FakeGcloud;
  let mcpUrl: string;

  beforeAll(async () => {
    ensureBuilt();
    emu = await startGoogleEmulator();
    demo = await startDemoMcpServer();
    front = await startCloudRunGateway({
      upstream: demo.origin,
      jwksUrl: emu.jwksUrl,
      invokers: [`user:${DEV}`],
    });
    mcpUrl = `${front.url}/mcp`;
    gcloud = createFakeGcloud(emu);
    await gcloud.login({email: DEV});
    await gcloud.login({email: STRANGER, active: false});
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    gcloud?.remove();
    await front?.close();
    await demo?.close();
    await emu?.close();
  });

  /** The child's environment: the fake gcloud on PATH (or none), and the emulator. */
  function env(options: {installed?: boolean; extra?: Record<string, string>} = {}) {
    return {
      ...(gcloud.env({
        installed: options.installed ?? true,
        base: {PATH: process.env.PATH ?? ''},
      }) as Record<string, string>),
      ...emu.env(),
      ...options.extra,
    };
  }

  it('tools and call run as the developer, one gcloud run per command', async () => {
    const before = gcloud.runs();
    const [tools, whoami] = await Promise.all([
      runCli(['tools', mcpUrl, '--gcloud'], env()),
      runCli(['call', mcpUrl, 'whoami', '--gcloud'], env()),
    ]);
    expect(tools.code, tools.stderr).toBe(0);
    expect(tools.stdout).toMatch(/^whoami\s+Answers the email/m);
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(whoami.stdout).toBe(`${DEV}\n`);
    expect(gcloud.runs() - before).toBe(2);
    expect(gcloud.runArgs().at(-1)).toEqual(['auth', 'print-identity-token']);
    expect(`${tools.stderr}${whoami.stderr}`).not.toMatch(JWT);
  });

  it('--gcloud ACCOUNT picks the account (--account), also written --gcloud=ACCOUNT', async () => {
    const [spaced, joined] = await Promise.all([
      runCli(['call', mcpUrl, 'whoami', '--gcloud', STRANGER], env()),
      runCli(['token', `--gcloud=${DEV}`, '--decode', '--json'], env()),
    ]);
    // The stranger is not an invoker: exit 3, and the binding command for user:EMAIL.
    expect(spaced.code).toBe(ExitCode.AUTH);
    expect(spaced.stderr).toContain(`--member=user:${STRANGER} --role=roles/run.invoker`);
    expect(spaced.stderr).toContain(`mcp-google-auth doctor ${mcpUrl} --gcloud=${STRANGER}`);
    expect(joined.code, joined.stderr).toBe(0);
    const decoded = JSON.parse(joined.stdout) as {kind: string; claims: Record<string, unknown>};
    expect(decoded.kind).toBe('id_token');
    expect(decoded.claims).toMatchObject({aud: GCLOUD_OAUTH_CLIENT_ID, email: DEV});
    expect(gcloud.runArgs()).toContainEqual([
      'auth',
      'print-identity-token',
      `--account=${STRANGER}`,
    ]);
  });

  it('refuses --audience with a user account, naming the flag to drop', async () => {
    const result = await runCli(
      ['tools', mcpUrl, '--gcloud', '--audience', 'https://svc-abc.a.run.app'],
      env(),
    );
    expect(result.code).toBe(ExitCode.USAGE);
    expect(firstLine(result)).toContain(
      '--audience does not apply to --gcloud with a user account',
    );
    expect(result.stderr).toContain('Drop --audience');
    expect(result.stderr).toContain('--impersonate SA_EMAIL');
  });

  it('--gcloud --impersonate mints for the audience as the service account, and needs one', async () => {
    const runner = `runner@${emu.projectId}.iam.gserviceaccount.com`;
    const audience = 'https://svc-abc.a.run.app';
    const [minted, missing] = await Promise.all([
      runCli(
        [
          'token',
          '--gcloud',
          '--impersonate',
          runner,
          '--audience',
          audience,
          '--decode',
          '--json',
        ],
        env(),
      ),
      runCli(['token', '--gcloud', '--impersonate', runner], env()),
    ]);
    expect(minted.code, minted.stderr).toBe(0);
    const {claims} = JSON.parse(minted.stdout) as {claims: Record<string, unknown>};
    expect(claims).toMatchObject({aud: audience, email: runner});
    expect(gcloud.runArgs()).toContainEqual([
      'auth',
      'print-identity-token',
      `--impersonate-service-account=${runner}`,
      `--audiences=${audience}`,
      '--include-email',
    ]);
    expect(missing.code).toBe(ExitCode.USAGE);
    expect(missing.stderr).toContain('Give --audience');
  });

  it('says how to fix a URL taken as the account', async () => {
    const result = await runCli(['tools', '--gcloud', mcpUrl], env());
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('put --gcloud after the URL, or write --gcloud=ACCOUNT');
  });

  it('gcloud not installed: exit 2 in every command, with how to install it and what else to use', async () => {
    const results = await Promise.all([
      runCli(['tools', mcpUrl, '--gcloud'], env({installed: false})),
      runCli(['call', mcpUrl, 'add', '--gcloud'], env({installed: false})),
      runCli(['token', '--gcloud'], env({installed: false})),
    ]);
    for (const result of results) {
      expect(result.code, result.stderr).toBe(codeOf('gcloud_not_installed'));
      expect(result.code).toBe(ExitCode.USAGE);
      expect(result.stderr).toContain('https://cloud.google.com/sdk/docs/install');
      expect(result.stderr).toContain('--key-file');
    }
    expect(firstLine(results[0])).toBe(firstLine(results[2]));
    expect(firstLine(results[1])).toBe(firstLine(results[2]));
  });

  it('not logged in: exit 3 in every command, saying gcloud auth login', async () => {
    const nobody = 'nobody@example.com';
    const results = await Promise.all([
      runCli(['tools', mcpUrl, '--gcloud', nobody], env()),
      runCli(['call', mcpUrl, 'add', '--gcloud', nobody], env()),
      runCli(['token', '--gcloud', nobody], env()),
    ]);
    for (const result of results) {
      expect(result.code, result.stderr).toBe(codeOf('gcloud_login_required'));
      expect(result.stderr).toContain(`run \`gcloud auth login ${nobody}\``);
    }
  });

  it('doctor --gcloud: passes for the invoker, and names the user:EMAIL binding for a stranger', async () => {
    const [ok, refused] = await Promise.all([
      runCli(['doctor', mcpUrl, '--gcloud'], env()),
      runCli(['doctor', mcpUrl, '--gcloud', STRANGER, '--json'], env()),
    ]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain("Credential: the gcloud CLI's identity");
    expect(ok.stdout).toContain(`Audience: ${GCLOUD_OAUTH_CLIENT_ID}, gcloud's own client id`);
    expect(ok.stdout).toContain(
      'With an access token: skipped (--gcloud mints identity tokens only)',
    );
    expect(ok.stdout).toContain('useGcloudCredential: true');
    expect(ok.stdout).not.toMatch(JWT);
    expect(refused.code).toBe(ExitCode.AUTH);
    const report = JSON.parse(refused.stdout) as {findings: {code: string; message: string}[]};
    const missing = report.findings.find((f) => f.code === 'missing_invoker');
    expect(missing?.message).toContain(`--member=user:${STRANGER} --role=roles/run.invoker`);
  });

  it('doctor with user credentials (ADC) suggests --gcloud first, then impersonation', async () => {
    const user = await emu.createAuthorizedUserFile();
    const result = await runCli(['doctor', mcpUrl, '--key-file', user.path, '--json'], env());
    expect(result.code).toBe(ExitCode.USAGE);
    const report = JSON.parse(result.stdout) as {findings: {code: string; message: string}[]};
    const finding = report.findings.find((f) => f.code === 'user_credentials');
    const message = finding?.message ?? '';
    expect(message).toContain(`mcp-google-auth doctor ${mcpUrl} --gcloud`);
    expect(message.indexOf('--gcloud')).toBeLessThan(message.indexOf('--impersonate SA_EMAIL'));
  });
});
