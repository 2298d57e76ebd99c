/**
 * `mcp-google-auth proxy`, the BUILT command as a child process: driven over stdio by the MCP
 * SDK's StdioClientTransport + Client, and in HTTP mode by its StreamableHTTPClientTransport,
 * against the Google emulator, the Cloud Run front and the demo MCP server.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {McpError} from '@modelcontextprotocol/sdk/types.js';
import type {Progress} from '@modelcontextprotocol/sdk/types.js';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi} from 'vitest';
import {startCloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import type {CloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import {startDemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import type {DemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import {startGoogleEmulator} from '../../src/emulator/google-emulator.js';
import type {GoogleEmulator} from '../../src/emulator/google-emulator.js';
import {
  BUILD_TIMEOUT_MS,
  CLI,
  cleanEnv,
  ensureBuilt,
  runCli,
  spawnCli,
  unassignedAddress,
} from './cli-harness.js';

const SA = 'proxy-cli@emulator-project.iam.gserviceaccount.com';
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

function textOf(result: unknown): string {
  const content = (result as {content: {type: string; text?: string}[]}).content;
  return content.map((item) => item.text ?? '').join('');
}

describe('mcp-google-auth proxy (built command)', () => {
  let emu: GoogleEmulator;
  let keyPath: string;
  let demo: DemoMcpServer;
  let gateway: CloudRunGateway;
  /** One clock for the emulator and the front, moved on to make the child's token expire. */
  let clockOffsetMs = 0;
  const now = (): number => Date.now() + clockOffsetMs;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    ensureBuilt();
    emu = await startGoogleEmulator({now});
    keyPath = (await emu.createServiceAccountKey(SA)).path;
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await emu?.close();
  });

  beforeEach(async () => {
    clockOffsetMs = 0;
    emu.setTokenLifetime(3600);
    demo = await startDemoMcpServer();
    gateway = await startCloudRunGateway({upstream: demo.origin, jwksUrl: emu.jwksUrl, now});
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await gateway.close();
    await demo.close();
  });

  function childEnv(): Record<string, string> {
    return cleanEnv({...emu.env(), GOOGLE_APPLICATION_CREDENTIALS: keyPath}) as Record<
      string,
      string
    >;
  }

  /** An SDK client (not yet connected) for `proxy <front>/mcp` run as an MCP server on stdio. */
  function stdioSetup(args: string[] = []): {
    client: Client;
    transport: StdioClientTransport;
    stderr: () => string;
  } {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'proxy', `${gateway.url}/mcp`, ...args],
      env: childEnv(),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const client = new Client({name: 'proxy-e2e', version: '1.0.0'});
    cleanups.push(() => client.close());
    return {client, transport, stderr: () => stderr};
  }

  /** Starts `proxy <front>/mcp` on stdio and connects an SDK client to it. */
  async function stdioClient(
    args: string[] = [],
  ): Promise<{client: Client; transport: StdioClientTransport; stderr: () => string}> {
    const setup = stdioSetup(args);
    await setup.client.connect(setup.transport);
    return setup;
  }

  describe('stdio', () => {
    it('lists and calls tools, passes progress, and survives token rotation in ONE remote session', async () => {
      emu.setTokenLifetime(60);
      const {client, stderr} = await stdioClient(['--verbose']);
      expect(client.getServerVersion()?.name).toBe('mcp-google-auth-demo');
      const {tools} = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual([
        'add',
        'echo',
        'slow_count',
        'whoami',
      ]);
      expect(textOf(await client.callTool({name: 'add', arguments: {a: 20, b: 22}}))).toBe('42');
      expect(textOf(await client.callTool({name: 'whoami', arguments: {}}))).toBe(SA);

      const seen: Progress[] = [];
      const counted = await client.callTool({name: 'slow_count', arguments: {n: 4}}, undefined, {
        onprogress: (progress) => seen.push(progress),
      });
      expect(textOf(counted)).toBe('counted to 4');
      expect(seen.map((p) => [p.progress, p.total])).toEqual([
        [1, 4],
        [2, 4],
        [3, 4],
        [4, 4],
      ]);

      // Two minutes on for Google and the front: the child's one-minute token is now expired.
      const minted = emu.requests.byEndpoint.token;
      clockOffsetMs = 120_000;
      expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'rotated'}}))).toBe(
        'rotated',
      );
      expect(textOf(await client.callTool({name: 'whoami', arguments: {}}))).toBe(SA);
      expect(gateway.stats.rejections.expired).toBeGreaterThan(0);
      expect(emu.requests.byEndpoint.token).toBeGreaterThan(minted);
      expect(demo.stats.sessions).toBe(1);
      expect(demo.stats.toolCalls).toBe(5);

      expect(stderr()).toContain(
        `Proxy ready: ${gateway.url}/mcp as ${SA} (GOOGLE_APPLICATION_CREDENTIALS=${keyPath})\n`,
      );
      // --verbose shows which token went where, as fingerprints only: the expired one refused,
      // then a fresh one.
      const sent = [...stderr().matchAll(/with authorization (sha256:[0-9a-f]{8}) -> (\d+)/g)];
      const refused = sent.filter(([, , status]) => status === '401').map(([, fp]) => fp);
      const passed = sent.filter(([, , status]) => status === '200').map(([, fp]) => fp);
      expect(refused.length).toBeGreaterThan(0);
      expect(new Set(passed).size).toBeGreaterThanOrEqual(2);
      expect(refused).not.toContain(passed.at(-1));
      expect(stderr()).not.toMatch(JWT);
    });

    it('re-initializes transparently when the remote loses the session', async () => {
      const {client, stderr} = await stdioClient();
      expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'before'}}))).toBe(
        'before',
      );
      demo.forgetSessions();
      expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'after'}}))).toBe(
        'after',
      );
      const {tools} = await client.listTools();
      expect(tools).toHaveLength(4);
      expect(demo.stats.sessions).toBe(2);
      expect(demo.stats.unknownSessionRequests).toBeGreaterThan(0);
      expect(stderr()).toContain('was lost');
      // The start-up line shows without --verbose: which identity, from where.
      expect(stderr()).toMatch(
        new RegExp(
          `^Proxy ready: ${escapeRegExp(gateway.url)}/mcp as ${escapeRegExp(SA)} \\(GOOGLE_APPLICATION_CREDENTIALS=`,
          'm',
        ),
      );
    });

    it('answers with a JSON-RPC error that explains a 403, and says so on stderr', async () => {
      await gateway.close();
      gateway = await startCloudRunGateway({
        upstream: demo.origin,
        jwksUrl: emu.jwksUrl,
        now,
        invokers: ['someone-else@emulator-project.iam.gserviceaccount.com'],
      });
      const {client, transport, stderr} = stdioSetup();
      const error = await client.connect(transport).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(McpError);
      const message = (error as McpError).message;
      expect(message).toContain('HTTP 403');
      expect(message).toContain('roles/run.invoker');
      expect(message).not.toMatch(JWT);
      expect(stderr()).toContain(`mcp-google-auth doctor ${gateway.url}/mcp`);
      expect(stderr()).not.toMatch(JWT);
      expect(gateway.stats.forbidden).toBeGreaterThan(0);
    });

    it('answers a token refused after the retry (401) with a JSON-RPC error naming the audience', async () => {
      const {client, transport, stderr} = stdioSetup([
        '--audience',
        'https://wrong-audience.example',
      ]);
      const error = await client.connect(transport).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(McpError);
      const message = (error as McpError).message;
      expect(message).toContain('HTTP 401');
      expect(message).toContain('"https://wrong-audience.example"');
      expect(message).toContain('A fresh token was fetched and refused as well');
      expect(message).not.toMatch(JWT);
      expect(stderr()).toContain('mcp-google-auth doctor');
      expect(gateway.stats.rejections.bad_audience).toBe(2);
    });

    it('exits 2 before serving when the credential can never mint an ID token', async () => {
      const user = await emu.createAuthorizedUserFile();
      const result = await runCli(
        ['proxy', `${gateway.url}/mcp`, '--key-file', user.path],
        childEnv(),
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/impersonat/i);
      expect(result.stdout).toBe('');
      expect(gateway.stats.requests).toBe(0);
    });

    it('ends the remote session and exits 0 on SIGINT', async () => {
      const child = spawnCliWithStdin(['proxy', `${gateway.url}/mcp`], childEnv());
      cleanups.push(async () => {
        if (child.exitCode === null) child.kill('SIGKILL');
      });
      const answers = readJsonLines(child);
      child.stdin?.write(
        `${JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: {name: 'sig', version: '1'},
          },
        })}\n`,
      );
      await answers.next(1);
      expect(demo.stats.activeSessions).toBe(1);
      child.kill('SIGINT');
      expect(await exitCode(child)).toBe(0);
      expect(demo.stats.activeSessions).toBe(0);
    });

    it('answers pipelined requests after stdin ends, then ends the remote session and exits 0', async () => {
      const child = spawnCliWithStdin(['proxy', `${gateway.url}/mcp`], childEnv());
      const lines = [
        {
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: {name: 'pipe', version: '1'},
          },
        },
        {jsonrpc: '2.0', method: 'notifications/initialized'},
        {
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: {name: 'echo', arguments: {text: 'piped'}},
        },
      ];
      // Pipelined without waiting for the initialize answer, then stdin ends at once.
      const answers = readJsonLines(child);
      child.stdin?.end(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
      const [first, second] = await answers.next(2);
      expect((first as {id: number}).id).toBe(1);
      expect((second as {id: number}).id).toBe(2);
      expect(textOf((second as {result: unknown}).result)).toBe('piped');
      const code = await exitCode(child);
      expect(code).toBe(0);
      expect(demo.stats.activeSessions).toBe(0);
      expect(answers.stdout()).not.toMatch(/Proxy ready/);
    });
    it('starts on the metadata server without GOOGLE_* variables (as under Gemini CLI) without running gcloud, and says whose identity it is', async () => {
      // A gcloud that leaves a mark when run: google-auth-library used to run it at start-up
      // to look up a project id (1 to 3 s), for a value minting never uses.
      const bin = mkdtempSync(join(tmpdir(), 'proxy-gcloud-'));
      const mark = join(bin, 'gcloud-was-run');
      writeFileSync(join(bin, 'gcloud'), `#!/bin/sh\ntouch ${mark}\nsleep 5\n`, {mode: 0o755});
      const env = cleanEnv({
        GCE_METADATA_HOST: emu.host,
        METADATA_SERVER_DETECTION: 'assume-present',
      }) as Record<string, string>;
      env.PATH = `${bin}:${env.PATH ?? ''}`;
      const child = spawn(process.execPath, [CLI, 'proxy', `${gateway.url}/mcp`], {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      cleanups.push(async () => {
        if (child.exitCode === null) child.kill('SIGKILL');
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      await vi.waitFor(() => expect(stderr).toContain('Proxy ready:'), {timeout: 15_000});
      expect(stderr).toContain(
        `Proxy ready: ${gateway.url}/mcp as ${emu.metadataServiceAccount} (metadata server ${emu.host})\n`,
      );
      expect(existsSync(mark)).toBe(false);
      child.stdin?.end();
      expect(await exitCode(child)).toBe(0);
    });
  });

  describe('HTTP (--port)', () => {
    async function startHttp(
      extra: string[] = [],
    ): Promise<{child: ChildProcess; url: string; stderr: () => string; stdout: () => string}> {
      const child = spawnCli(['proxy', `${gateway.url}/mcp`, '--port', '0', ...extra], childEnv());
      let stderr = '';
      let stdout = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        stderr += chunk;
      });
      const url = await new Promise<string>((resolve, reject) => {
        const look = (): void => {
          const match =
            /Proxy ready: (http:\/\/\S+) as /.exec(stdout) ?? /"url":"(http:[^"]+)"/.exec(stdout);
          if (match?.[1]) resolve(match[1]);
        };
        child.stdout?.on('data', look);
        child.once('exit', (code) =>
          reject(new Error(`proxy exited (${String(code)}): ${stderr}`)),
        );
      });
      cleanups.push(async () => {
        if (child.exitCode === null) {
          child.kill('SIGKILL');
          await exitCode(child);
        }
      });
      return {child, url, stderr: () => stderr, stdout: () => stdout};
    }

    it('serves the remote tools on 127.0.0.1 to a Streamable HTTP client, and closes cleanly', async () => {
      emu.setTokenLifetime(60);
      const {child, url, stdout} = await startHttp();
      expect(stdout()).toBe(
        `Proxy ready: ${url} as ${SA} (GOOGLE_APPLICATION_CREDENTIALS=${keyPath})\n`,
      );
      expect(new URL(url).hostname).toBe('127.0.0.1');
      expect(new URL(url).pathname).toBe('/mcp');
      const transport = new StreamableHTTPClientTransport(new URL(url));
      const client = new Client({name: 'proxy-http-e2e', version: '1.0.0'});
      await client.connect(transport);
      expect(textOf(await client.callTool({name: 'whoami', arguments: {}}))).toBe(SA);
      const seen: Progress[] = [];
      const result = await client.callTool({name: 'slow_count', arguments: {n: 3}}, undefined, {
        onprogress: (progress) => seen.push(progress),
      });
      expect(textOf(result)).toBe('counted to 3');
      expect(seen.map((p) => p.progress)).toEqual([1, 2, 3]);
      // The local session id is the proxy's own, never the remote one.
      expect(transport.sessionId).toBeDefined();
      expect(demo.stats.activeSessions).toBe(1);

      // Token rotation and a lost remote session, behind the same local session.
      clockOffsetMs = 120_000;
      expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'rotated'}}))).toBe(
        'rotated',
      );
      expect(demo.stats.sessions).toBe(1);
      demo.forgetSessions();
      expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'again'}}))).toBe(
        'again',
      );
      expect(demo.stats.sessions).toBe(2);

      await transport.terminateSession();
      await client.close();
      expect(demo.stats.activeSessions).toBe(0);
      child.kill('SIGTERM');
      expect(await exitCode(child)).toBe(0);
    });

    it('--json prints the local URL on stdout; SIGTERM ends open remote sessions', async () => {
      const {child, url, stdout} = await startHttp(['--json']);
      await vi.waitFor(() => expect(stdout()).toContain('\n'));
      expect(JSON.parse(stdout())).toEqual({
        url,
        remote: `${gateway.url}/mcp`,
        principal: SA,
        credentialSource: `GOOGLE_APPLICATION_CREDENTIALS=${keyPath}`,
      });
      const client = new Client({name: 'proxy-http-e2e', version: '1.0.0'});
      cleanups.push(() => client.close());
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      expect(demo.stats.activeSessions).toBe(1);
      child.kill('SIGTERM');
      expect(await exitCode(child)).toBe(0);
      expect(demo.stats.activeSessions).toBe(0);
    });

    it('refuses requests whose Host is not loopback (DNS rebinding) and cross-site browsers', async () => {
      const {url} = await startHttp();
      const init = {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: {name: 'x', version: '1'},
          },
        }),
      };
      const rebound = await rawRequest(url, init, 'evil.example:80');
      expect(rebound.status).toBe(403);
      const crossSite = await fetch(url, {
        ...init,
        headers: {...init.headers, origin: 'https://evil.example'},
      });
      expect(crossSite.status).toBe(403);
      await crossSite.body?.cancel();
      expect(demo.stats.sessions).toBe(0);
    });

    it('takes --host beyond loopback only with a warning (checked on an address it cannot bind)', async () => {
      // Nothing may listen beyond loopback in tests: an address no interface has makes the
      // bind fail after the command accepted --host and warned about it.
      const host = unassignedAddress();
      const result = await runCli(
        ['proxy', `${gateway.url}/mcp`, '--port', '0', '--host', host],
        childEnv(),
      );
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(
        `warning: The proxy listens on ${host}, beyond this machine: anyone who can reach its port calls ${gateway.url} as this proxy's Google identity (the service account). Add --require-token on a machine with other users.`,
      );
      expect(result.stderr).toContain(`error: Cannot listen on ${host}:0 (EADDRNOTAVAIL).`);
      expect(demo.stats.sessions).toBe(0);
    });
  });

  describe('usage errors (exit 2)', () => {
    it('rejects --host without --port and a bad --port', async () => {
      const noPort = await runCli(
        ['proxy', `${gateway.url}/mcp`, '--host', '127.0.0.1'],
        childEnv(),
      );
      expect(noPort.code).toBe(2);
      expect(noPort.stderr).toContain('--host applies only with --port');
      const badPort = await runCli(['proxy', `${gateway.url}/mcp`, '--port', 'eighty'], childEnv());
      expect(badPort.code).toBe(2);
      expect(badPort.stderr).toContain('--port must be an integer');
      expect(noPort.stdout + badPort.stdout).toBe('');
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Like the harness's spawnCli, with a writable stdin. */
function spawnCliWithStdin(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    env: cleanEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Reads newline-delimited JSON from the child's stdout. */
function readJsonLines(child: ChildProcess): {
  next(count: number): Promise<unknown[]>;
  stdout(): string;
} {
  let buffer = '';
  let all = '';
  const messages: unknown[] = [];
  const waiters: (() => void)[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    all += chunk;
    buffer += chunk;
    for (let index = buffer.indexOf('\n'); index !== -1; index = buffer.indexOf('\n')) {
      const line = buffer.slice(0, index);
      buffer = buffer.slice(index + 1);
      if (line.trim() !== '') messages.push(JSON.parse(line));
    }
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    async next(count) {
      while (messages.length < count) {
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return messages.slice(0, count);
    },
    stdout: () => all,
  };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** One HTTP request with a chosen Host header (fetch does not let a caller set it). */
async function rawRequest(
  url: string,
  init: {method: string; headers: Record<string, string>; body: string},
  host: string,
): Promise<{status: number}> {
  const {request} = await import('node:http');
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: init.method,
        headers: {...init.headers, host},
      },
      (res) => {
        res.resume();
        resolve({status: res.statusCode ?? 0});
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}
