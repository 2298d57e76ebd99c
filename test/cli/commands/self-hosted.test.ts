/**
 * `tools`, `call` and `doctor` against a server that verifies Google ID tokens itself with
 * this package's `requireGoogleIdToken` (no Cloud Run front): its refusals are explained as
 * that server's policy, from the verification code in its `WWW-Authenticate`, never as a
 * missing `roles/run.invoker`. One server also names the audience it wants in its challenge
 * (the `audience` param that requireGoogleIdToken adds with `announceAudience`), and the CLI quotes it.
 */
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js';
import {StreamableHTTPServerTransport} from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startGoogleEmulator} from '../../../src/emulator/google-emulator.js';
import type {
  EmulatorServiceAccountKey,
  GoogleEmulator,
} from '../../../src/emulator/google-emulator.js';
import {requireGoogleIdToken} from '../../../src/verify/require-google-id-token.js';
import {BUILD_TIMEOUT_MS, ensureBuilt, runCli, stderrBeyondEmulatorNotice} from '../cli-harness.js';

/** The audience the servers check: a custom one, not their loopback origin. */
const AUDIENCE = 'https://mcp.example.com';

interface SelfHosted {
  url: string;
  close(): Promise<void>;
}

/** Answers one MCP request with a fresh stateless server offering `whoami`. */
async function answerMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const server = new McpServer({name: 'self-hosted', version: '1.0.0'});
  server.registerTool('whoami', {description: 'The verified caller'}, async (extra) => ({
    content: [{type: 'text', text: String(extra.authInfo?.clientId)}],
  }));
  const transport = new StreamableHTTPServerTransport({sessionIdGenerator: undefined});
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res);
}

/**
 * An MCP server guarded by `requireGoogleIdToken`. With `statesAudience` (its
 * `announceAudience`), a refusal for `bad_audience` also names the audience in the challenge.
 */
async function startSelfHosted(
  jwksUrl: string,
  allowedEmails: string[],
  statesAudience = false,
): Promise<SelfHosted> {
  const guard = requireGoogleIdToken({
    audience: AUDIENCE,
    jwksUrl,
    allowedEmails,
    announceAudience: statesAudience,
  });
  const server = createServer(async (req, res) => {
    if (!(await guard(req, res))) return;
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    await answerMcp(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe.concurrent('against a server that verifies tokens itself', () => {
  let emu: GoogleEmulator;
  let allowed: EmulatorServiceAccountKey;
  let stranger: EmulatorServiceAccountKey;
  let quiet: SelfHosted;
  let saying: SelfHosted;
  let env: Record<string, string>;

  beforeAll(async () => {
    ensureBuilt();
    emu = await startGoogleEmulator();
    allowed = await emu.createServiceAccountKey('allowed@emulator-project.iam.gserviceaccount.com');
    stranger = await emu.createServiceAccountKey(
      'stranger@emulator-project.iam.gserviceaccount.com',
    );
    quiet = await startSelfHosted(emu.jwksUrl, [allowed.email]);
    saying = await startSelfHosted(emu.jwksUrl, [allowed.email], true);
    env = emu.env();
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all([quiet?.close(), saying?.close()]);
    await emu?.close();
  });

  it('works with the audience the server checks and an allowed principal', async () => {
    const result = await runCli(
      ['call', quiet.url, 'whoami', '--key-file', allowed.path, '--audience', AUDIENCE],
      env,
    );
    expect(result.stdout).toBe(`${allowed.email}\n`);
    expect(result.code).toBe(0);
  });

  it('forbidden_principal: the server policy refuses the principal, not a missing invoker role, exit 3', async () => {
    const result = await runCli(
      ['tools', quiet.url, '--key-file', stranger.path, '--audience', AUDIENCE],
      env,
    );
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    const stderr = stderrBeyondEmulatorNotice(result.stderr);
    expect(stderr).toContain(
      `error: HTTP 403 from ${new URL(quiet.url).origin}: The server at ${new URL(quiet.url).origin} verifies Google ID tokens itself (it answered "forbidden_principal"`,
    );
    expect(stderr).toContain(`does not admit ${stranger.email}`);
    expect(stderr).toContain("Ask the server's operator to allow it");
    expect(stderr).not.toContain('add-iam-policy-binding');
    expect(stderr).toContain(
      `Run mcp-google-auth doctor ${quiet.url} --key-file ${stranger.path} --audience ${AUDIENCE} to see why.`,
    );
  });

  it('bad_audience: says the audience is the server’s to choose, and asks which when it does not say', async () => {
    const result = await runCli(['call', quiet.url, 'whoami', '--key-file', allowed.path], env);
    expect(result.code).toBe(3);
    const stderr = stderrBeyondEmulatorNotice(result.stderr);
    expect(stderr).toContain('(it answered "bad_audience"');
    expect(stderr).toContain(`(the token was for "${new URL(quiet.url).origin}")`);
    expect(stderr).toContain("Ask the server's operator which audience it checks");
  });

  it('keys_unavailable: the server could not load its keys; exit 1, a new token will not help', async () => {
    // Its key URL points at a port nothing listens on: it fails closed with 503.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const keyless = await startSelfHosted(`http://127.0.0.1:${port}/certs`, [allowed.email]);
    try {
      const result = await runCli(
        ['call', keyless.url, 'whoami', '--key-file', allowed.path, '--audience', AUDIENCE],
        env,
      );
      expect(result.code).toBe(1);
      const stderr = stderrBeyondEmulatorNotice(result.stderr);
      expect(stderr).toContain(
        `error: HTTP 503 from ${new URL(keyless.url).origin}: The server at ${new URL(keyless.url).origin} verifies Google ID tokens itself (it answered "keys_unavailable"`,
      );
      expect(stderr).toContain('a new token will not help');
      expect(stderr).toContain('Try again in 5 s (Retry-After)');
      expect(stderr).not.toContain('add-iam-policy-binding');
    } finally {
      await keyless.close();
    }
  });

  it('bad_audience: quotes the audience the server says it wants', async () => {
    const result = await runCli(['tools', saying.url, '--key-file', allowed.path], env);
    expect(result.code).toBe(3);
    expect(stderrBeyondEmulatorNotice(result.stderr)).toContain(
      `it says it wants "${AUDIENCE}". Mint the token for that audience`,
    );
  });

  it('doctor explains forbidden_principal as the server policy, exit 3', async () => {
    const result = await runCli(
      ['doctor', quiet.url, '--key-file', stranger.path, '--audience', AUDIENCE, '--json'],
      env,
    );
    expect(result.code).toBe(3);
    const report = JSON.parse(result.stdout) as {
      command: string;
      findings: {code: string; message: string}[];
    };
    expect(report.command).toBe(
      `mcp-google-auth doctor ${quiet.url} --key-file ${stranger.path} --audience ${AUDIENCE}`,
    );
    expect(report.findings.map((f) => f.code)).toEqual(['verifier_forbidden_principal']);
    expect(report.findings[0]?.message).toContain(`does not admit ${stranger.email}`);
  });

  it('doctor tries the audience the server says it wants, and names it', async () => {
    const result = await runCli(['doctor', saying.url, '--key-file', allowed.path, '--json'], env);
    expect(result.code).toBe(3);
    const report = JSON.parse(result.stdout) as {
      findings: {code: string; message: string}[];
      steps: {id: string; details: string[]}[];
    };
    const finding = report.findings.find((f) => f.code === 'wrong_audience');
    expect(finding?.message).toContain(
      `accepted one for ${AUDIENCE}, the audience it says it wants. Pass --audience ${AUDIENCE}.`,
    );
    expect(report.steps.find((s) => s.id === 'probe_id_token')?.details).toContain(
      `an ID token for ${AUDIENCE} instead: HTTP 200 OK`,
    );
  });

  it('a token in a header the server does not read: tools and doctor say so (header_not_read)', async () => {
    const flags = ['--key-file', allowed.path, '--audience', AUDIENCE];
    const [tools, doctor] = await Promise.all([
      runCli(['tools', quiet.url, ...flags, '--header', 'proxy-authorization'], env),
      runCli(['doctor', quiet.url, ...flags, '--header', 'proxy-authorization', '--json'], env),
    ]);
    expect(tools.code).toBe(3);
    expect(stderrBeyondEmulatorNotice(tools.stderr)).toContain(
      'the server answered as if no token had been sent (a bare WWW-Authenticate: Bearer challenge); it does not read proxy-authorization.',
    );
    expect(doctor.code).toBe(3);
    const report = JSON.parse(doctor.stdout) as {findings: {code: string}[]};
    expect(report.findings.map((f) => f.code)).toEqual(['header_not_read']);
  });

  it('doctor without a stated audience says it is the server’s choice (verifier_bad_audience)', async () => {
    const result = await runCli(['doctor', quiet.url, '--key-file', allowed.path, '--json'], env);
    expect(result.code).toBe(3);
    const report = JSON.parse(result.stdout) as {findings: {code: string; message: string}[]};
    expect(report.findings.map((f) => f.code)).toContain('verifier_bad_audience');
  });
});
