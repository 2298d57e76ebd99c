/**
 * `proxy URL --gcloud`: the BUILT command as a desktop MCP client runs it, over stdio and over
 * HTTP (`--port`), with the fake gcloud first on its PATH minting through the Google emulator,
 * and the Cloud Run front letting in only the developer listed as invoker. The emulator and
 * the front share one clock, moved to make tokens old or expired.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {
  startCloudRunGateway,
  startDemoMcpServer,
  startGoogleEmulator,
  type CloudRunGateway,
  type DemoMcpServer,
  type GoogleEmulator,
} from '../../src/emulator/index.js';
import {createFakeGcloud, type FakeGcloud} from '../support/fake-gcloud/index.js';
import {BUILD_TIMEOUT_MS, CLI, cleanEnv, ensureBuilt} from './cli-harness.js';

const DEV = 'dev@example.com';
const STRANGER = 'stranger@example.com';
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

function textOf(result: unknown): string {
  const content = (result as {content: {type: string; text?: string}[]}).content;
  return content.map((item) => item.text ?? '').join('');
}

describe('proxy --gcloud (built command)', {timeout: 60_000}, () => {
  let emu: GoogleEmulator;
  let demo: DemoMcpServer;
  let front: CloudRunGateway;
  let gcloud: FakeGcloud;
  /** The clock of Google and of the front: real time plus this. */
  let offsetMs = 0;
  const now = (): number => Date.now() + offsetMs;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    ensureBuilt();
    emu = await startGoogleEmulator({now});
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await emu?.close();
  });

  beforeEach(async () => {
    offsetMs = 0;
    demo = await startDemoMcpServer();
    front = await startCloudRunGateway({
      upstream: demo.origin,
      jwksUrl: emu.jwksUrl,
      invokers: [`user:${DEV}`],
      now,
    });
    gcloud = createFakeGcloud(emu);
    await gcloud.login({email: DEV});
    await gcloud.login({email: STRANGER, active: false});
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    gcloud.remove();
    await front.close();
    await demo.close();
  });

  /** The child's environment: a clean one, the emulator, the fake gcloud first on PATH. */
  function childEnv(): Record<string, string> {
    return cleanEnv({
      ...emu.env(),
      ...(gcloud.env({base: {PATH: process.env.PATH ?? ''}}) as Record<string, string>),
    }) as Record<string, string>;
  }

  /** `proxy <front>/mcp --gcloud ...` on stdio, with an SDK client connected to it. */
  async function stdioClient(args: string[] = []): Promise<{client: Client; stderr: () => string}> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'proxy', `${front.url}/mcp`, '--gcloud', ...args],
      env: childEnv(),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const client = new Client({name: 'gcloud-proxy-e2e', version: '1.0.0'});
    cleanups.push(() => client.close());
    await client.connect(transport);
    return {client, stderr: () => stderr};
  }

  /** `proxy <front>/mcp --gcloud --port 0`, and the local URL it serves. */
  async function httpProxy(): Promise<{url: string; output: () => string}> {
    const child: ChildProcess = spawn(
      process.execPath,
      [CLI, 'proxy', `${front.url}/mcp`, '--gcloud', '--port', '0'],
      {env: childEnv(), stdio: ['ignore', 'pipe', 'pipe']},
    );
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const seen = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /Proxy ready: (http:\/\/\S+?)(?: ->| as |\s)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      };
      child.stdout?.on('data', seen);
      child.stderr?.on('data', seen);
      child.once('exit', (code) => reject(new Error(`proxy exited (${String(code)}): ${output}`)));
    });
    return {url, output: () => output};
  }

  async function httpClient(url: string): Promise<Client> {
    const client = new Client({name: 'gcloud-proxy-http', version: '1.0.0'});
    cleanups.push(() => client.close());
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    return client;
  }

  it('stdio: works for an invoker, one gcloud run for 20 concurrent calls', async () => {
    const {client, stderr} = await stdioClient();
    expect(textOf(await client.callTool({name: 'whoami', arguments: {}}))).toBe(DEV);
    const sums = await Promise.all(
      Array.from({length: 20}, (_, i) => client.callTool({name: 'add', arguments: {a: i, b: 1}})),
    );
    expect(sums.map(textOf)).toEqual(Array.from({length: 20}, (_, i) => String(i + 1)));
    expect(gcloud.runs()).toBe(1);
    expect(gcloud.runArgs()[0]).toEqual(['auth', 'print-identity-token']);
    expect(stderr()).not.toMatch(JWT);
  });

  it('stdio: a developer who is not an invoker gets an error naming the user:EMAIL binding', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'proxy', `${front.url}/mcp`, `--gcloud=${STRANGER}`],
      env: childEnv(),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const client = new Client({name: 'gcloud-proxy-stranger', version: '1.0.0'});
    cleanups.push(() => client.close());
    const error = await client.connect(transport).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error?.message).toContain('403');
    expect(`${error?.message}\n${stderr}`).toContain(
      `--member=user:${STRANGER} --role=roles/run.invoker`,
    );
    expect(gcloud.runArgs()[0]).toEqual(['auth', 'print-identity-token', `--account=${STRANGER}`]);
    expect(stderr).not.toMatch(JWT);
  });

  it('HTTP: 10 clients at once, one gcloud run', async () => {
    const {url, output} = await httpProxy();
    const clients = await Promise.all(Array.from({length: 10}, () => httpClient(url)));
    const names = await Promise.all(
      clients.map((client) => client.callTool({name: 'whoami', arguments: {}})),
    );
    expect(names.map(textOf)).toEqual(Array.from({length: 10}, () => DEV));
    expect(gcloud.runs()).toBe(1);
    expect(output()).toContain(`Proxy ready: ${url} as ${DEV} (gcloud CLI's active account)`);
    expect(output()).not.toMatch(JWT);
  });

  it('without gcloud installed: stops at once, exit 2, saying how to install it', async () => {
    const env = cleanEnv({
      ...emu.env(),
      ...(gcloud.env({installed: false, base: {}}) as Record<string, string>),
    }) as Record<string, string>;
    const child = spawn(process.execPath, [CLI, 'proxy', `${front.url}/mcp`, '--gcloud'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('no "gcloud" executable was found on PATH');
    expect(stderr).toContain('https://cloud.google.com/sdk/docs/install');
  });

  it('HTTP: runs gcloud again once a token has passed its exp, and keeps a fresh one', async () => {
    // Google's clock an hour and a minute behind: the proxy receives tokens that, by its own
    // clock, expired a minute ago (the front, on Google's clock, still takes them).
    offsetMs = -(3600 + 60) * 1000;
    const {url} = await httpProxy();
    const client = await httpClient(url);
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'a'}}))).toBe('a');
    const afterFirst = gcloud.runs();
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'b'}}))).toBe('b');
    expect(gcloud.runs()).toBeGreaterThan(afterFirst);
    // Clocks agree again: the next token is fresh for an hour and is kept.
    offsetMs = 0;
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'c'}}))).toBe('c');
    const fresh = gcloud.runs();
    await Promise.all(
      Array.from({length: 10}, (_, i) =>
        client.callTool({name: 'echo', arguments: {text: String(i)}}),
      ),
    );
    expect(gcloud.runs()).toBe(fresh);
  });

  it('stdio: a token the front stops accepting (expired on its clock) is replaced, with one gcloud run', async () => {
    const {client} = await stdioClient();
    expect(textOf(await client.callTool({name: 'whoami', arguments: {}}))).toBe(DEV);
    expect(gcloud.runs()).toBe(1);
    // Two hours on for Google and the front: the proxy's token is refused with 401.
    offsetMs = 2 * 3600 * 1000;
    const results = await Promise.all(
      Array.from({length: 5}, () => client.callTool({name: 'whoami', arguments: {}})),
    );
    expect(results.map(textOf)).toEqual(Array.from({length: 5}, () => DEV));
    expect(front.stats.rejections.expired).toBeGreaterThan(0);
    expect(gcloud.runs()).toBe(2);
  });
});
