import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startCloudRunGateway} from '../../../src/emulator/cloud-run-gateway.js';
import type {CloudRunGateway} from '../../../src/emulator/cloud-run-gateway.js';
import {startDemoMcpServer} from '../../../src/emulator/demo-mcp-server.js';
import type {DemoMcpServer} from '../../../src/emulator/demo-mcp-server.js';
import {startGoogleEmulator} from '../../../src/emulator/google-emulator.js';
import type {
  EmulatorServiceAccountKey,
  GoogleEmulator,
} from '../../../src/emulator/google-emulator.js';
import {
  BUILD_TIMEOUT_MS,
  closedPort,
  ensureBuilt,
  runCli,
  stderrBeyondEmulatorNotice,
} from '../cli-harness.js';

const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

describe.concurrent('mcp-google-auth tools and call', () => {
  let emu: GoogleEmulator;
  let demo: DemoMcpServer;
  let gateway: CloudRunGateway;
  let strict: CloudRunGateway;
  let key: EmulatorServiceAccountKey;
  let env: Record<string, string>;
  let mcpUrl: string;

  beforeAll(async () => {
    ensureBuilt();
    emu = await startGoogleEmulator();
    demo = await startDemoMcpServer();
    gateway = await startCloudRunGateway({upstream: demo.origin, jwksUrl: emu.jwksUrl});
    strict = await startCloudRunGateway({
      upstream: demo.origin,
      jwksUrl: emu.jwksUrl,
      invokers: ['someone-else@emulator-project.iam.gserviceaccount.com'],
    });
    key = await emu.createServiceAccountKey('cli-tools@emulator-project.iam.gserviceaccount.com');
    env = {...emu.env(), GOOGLE_APPLICATION_CREDENTIALS: key.path};
    mcpUrl = `${gateway.url}/mcp`;
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all([gateway?.close(), strict?.close()]);
    await demo?.close();
    await emu?.close();
  });

  it('tools lists names and first description lines; --verbose logs requests with token fingerprints only', async () => {
    const result = await runCli(['tools', mcpUrl, '--verbose'], env);
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(4);
    expect(result.stdout).toMatch(/^add\s+Adds two numbers/m);
    expect(result.stdout).toMatch(/^whoami\s+Answers the email/m);
    expect(result.stdout).toMatch(/^echo\s/m);
    expect(result.stderr).toMatch(
      new RegExp(`^POST ${mcpUrl} with authorization sha256:[0-9a-f]{8} -> 200$`, 'm'),
    );
    expect(result.stderr).not.toMatch(JWT);
  });

  it('tools --json gives the full schemas', async () => {
    const result = await runCli(['tools', mcpUrl, '--json'], env);
    expect(result.code).toBe(0);
    const {tools} = JSON.parse(result.stdout) as {
      tools: {name: string; inputSchema: {properties?: Record<string, unknown>}}[];
    };
    const add = tools.find((t) => t.name === 'add');
    expect(Object.keys(add?.inputSchema.properties ?? {})).toEqual(['a', 'b']);
  });

  it('call converts --arg values by the schema and prints the text', async () => {
    const result = await runCli(['call', mcpUrl, 'add', '--arg', 'a=2', '--arg', 'b=40'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('42\n');
  });

  it('call takes --args JSON, and whoami names the service account', async () => {
    const echo = await runCli(['call', mcpUrl, 'echo', '--args', '{"text":"hello there"}'], env);
    expect(echo.stdout).toBe('hello there\n');
    const who = await runCli(
      ['call', mcpUrl, 'whoami', '--header', 'x-serverless-authorization', '--json'],
      env,
    );
    expect(who.code).toBe(0);
    const result = JSON.parse(who.stdout) as {content: {text: string}[]};
    expect(result.content[0]?.text).toBe(key.email);
  });

  it('call exits 1 when the tool result has isError', async () => {
    const result = await runCli(['call', mcpUrl, 'add', '--args', '{"a":"two","b":1}'], env);
    expect(result.code).toBe(1);
    // The tool's own error text is its result (stdout); the verdict goes to stderr.
    expect(result.stdout).not.toBe('');
    expect(stderrBeyondEmulatorNotice(result.stderr)).toBe(
      'error: The tool "add" reported an error (isError).\n',
    );
  });

  it('call exits 2 for an argument the schema refuses and an unknown tool', async () => {
    // Malformed --args JSON is refused before any request (test/cli/commands/call.test.ts).
    const badArg = await runCli(['call', mcpUrl, 'add', '--arg', 'a=two'], env);
    expect(badArg.code).toBe(2);
    expect(badArg.stdout).toBe('');
    expect(stderrBeyondEmulatorNotice(badArg.stderr)).toBe(
      'error: --arg a="two": the tool expects a number.\n',
    );
    const unknown = await runCli(['call', mcpUrl, 'nope'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(stderrBeyondEmulatorNotice(unknown.stderr)).toBe(
      'error: The server has no tool named "nope".\nIts tools: echo, add, whoami, slow_count.\n',
    );
  });

  it('exits 3 with an explanation when the front refuses (wrong audience, non-invoker)', async () => {
    const wrong = await runCli(
      ['tools', mcpUrl, '--audience', 'https://other.a.run.app', '--verbose'],
      env,
    );
    expect(wrong.code).toBe(3);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain(
      `error: HTTP 401 from ${gateway.url}: the front refused the ID token for audience https://other.a.run.app (${key.email})`,
    );
    // The hint repeats the flags that made the request, so doctor checks what failed.
    expect(wrong.stderr).toContain(
      `Run mcp-google-auth doctor ${mcpUrl} --audience https://other.a.run.app to see why`,
    );
    // --verbose: the refused request and the retry, by fingerprint, and the cause chain.
    expect(wrong.stderr).toMatch(/-> 401\n[\s\S]*-> 401\n/);
    expect(wrong.stderr).toMatch(/^ {2}caused by: /m);
    expect(wrong.stderr).not.toMatch(JWT);

    const denied = await runCli(['call', `${strict.url}/mcp`, 'whoami'], env);
    expect(denied.code).toBe(3);
    expect(denied.stdout).toBe('');
    expect(denied.stderr).toContain('403');
    expect(denied.stderr).toContain('roles/run.invoker');
    expect(denied.stderr).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
  });

  it('a token in Proxy-Authorization before a Cloud Run front: says only IAP reads it, and the hint keeps --header', async () => {
    const result = await runCli(['tools', mcpUrl, '--header', 'proxy-authorization'], env);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(stderrBeyondEmulatorNotice(result.stderr)).toBe(
      `error: HTTP 403 from ${gateway.url}: only IAP reads Proxy-Authorization. Behind IAP, ${key.email} lacks roles/iap.httpsResourceAccessor; on Cloud Run without IAP, the front answered as if no token had been sent.\n` +
        `Without IAP, use --header authorization; or run mcp-google-auth doctor ${mcpUrl} --header proxy-authorization to see why.\n`,
    );
  });

  it('a 403 that IAP generated asks for the IAP role and the user:/serviceAccount: binding', async () => {
    const iap = await startCloudRunGateway({
      upstream: demo.origin,
      jwksUrl: emu.jwksUrl,
      mode: 'iap',
      audiences: ['iap-client.apps.googleusercontent.com'],
      invokers: ['someone-else@emulator-project.iam.gserviceaccount.com'],
    });
    try {
      const result = await runCli(
        [
          'tools',
          `${iap.url}/mcp`,
          '--audience',
          'iap-client.apps.googleusercontent.com',
          '--header',
          'proxy-authorization',
        ],
        env,
      );
      expect(result.code).toBe(3);
      expect(stderrBeyondEmulatorNotice(result.stderr)).toContain(
        `error: HTTP 403 from ${iap.url}: IAP refused ${key.email} (it needs roles/iap.httpsResourceAccessor).`,
      );
      expect(result.stderr).toContain(
        `gcloud iap web add-iam-policy-binding --member=serviceAccount:${key.email} --role=roles/iap.httpsResourceAccessor`,
      );
    } finally {
      await iap.close();
    }
  });

  it('exits 1 when the server is unreachable, 2 for a bad URL', async () => {
    const down = await runCli(['tools', `http://127.0.0.1:${await closedPort()}/mcp`], env);
    expect(down.code).toBe(1);
    expect(down.stdout).toBe('');
    expect(down.stderr).toContain('ECONNREFUSED');
    const bad = await runCli(['tools', 'not a url'], env);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
  });
});
