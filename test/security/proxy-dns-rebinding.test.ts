/**
 * Attack: DNS rebinding against the HTTP proxy (issue 9, item 5). A web page the user visits
 * at `evil.example:PORT` rebinds that name to the machine the proxy runs on; the browser then
 * sends the page's requests to the proxy with `Host` (and `Origin`) `evil.example:PORT`, and
 * whoever gets through calls the remote as the proxy's Google identity. With `--host 0.0.0.0`
 * such a request used to get a session: the Host check only ran for loopback binds. Now
 * `Host` must name a loopback host, the bound address or an `--allowed-host`, on every bind;
 * and on machines with other users a shared token (`--require-token`) keeps them out too.
 *
 * No test listens beyond loopback: binds beyond it are checked on the guard itself (the
 * same object every request passes), and end to end on loopback.
 */
import {request} from 'node:http';
import {spawn} from 'node:child_process';
import {afterAll, afterEach, beforeAll, describe, expect, it, vi} from 'vitest';
import {startHttpProxy} from '../../src/cli/proxy/http-proxy.js';
import type {HttpProxy, HttpProxyOptions} from '../../src/cli/proxy/http-proxy.js';
import {RequestGuard} from '../../src/cli/proxy/request-guard.js';
import {startDemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import type {DemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import {BUILD_TIMEOUT_MS, CLI, cleanEnv, ensureBuilt} from '../cli/cli-harness.js';
import {recordingLogger} from '../cli/support/proxy-stack.js';
import {startRawRemote} from '../cli/support/raw-remote.js';

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: {name: 'page', version: '1'},
  },
});

/** One POST with the headers a rebinding browser page sends (fetch cannot set Host). */
function post(
  url: string,
  headers: Record<string, string>,
): Promise<{status: number; body: string; sessionId: string | undefined}> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          const id = res.headers['mcp-session-id'];
          resolve({
            status: res.statusCode ?? 0,
            body,
            sessionId: typeof id === 'string' ? id : undefined,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(INITIALIZE);
  });
}

describe('attack: DNS rebinding and other local users against the HTTP proxy', () => {
  let demo: DemoMcpServer;
  const proxies: HttpProxy[] = [];

  beforeAll(async () => {
    demo = await startDemoMcpServer();
  });

  afterAll(async () => {
    await demo.close();
  });

  afterEach(async () => {
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  async function proxy(options: Partial<HttpProxyOptions> = {}): Promise<HttpProxy> {
    const started = await startHttpProxy({
      remoteUrl: demo.url,
      fetch: (input, init) => fetch(input, init),
      ...options,
    });
    proxies.push(started);
    return started;
  }

  it('refuses a rebound page (Host and Origin evil.example:PORT) on every bind address', () => {
    for (const boundHost of ['0.0.0.0', '::', '192.168.1.10', '127.0.0.1']) {
      const guard = new RequestGuard({boundHost});
      expect(
        guard.check({host: 'evil.example:3000', origin: 'http://evil.example:3000'}),
        `bound to ${boundHost}`,
      ).toMatch(/Host "evil\.example:3000" is not an allowed name/);
      expect(guard.check({host: 'evil.example:3000'}), `bound to ${boundHost}`).toBeDefined();
    }
  });

  it('refuses it end to end: 403, nothing reaches the remote, the refusal is logged', async () => {
    const logger = recordingLogger();
    const local = await proxy({logger});
    const port = new URL(local.url).port;
    const before = demo.stats.sessions;
    const rebound = await post(local.url, {
      host: `evil.example:${port}`,
      origin: `http://evil.example:${port}`,
    });
    expect(rebound.status).toBe(403);
    expect(rebound.sessionId).toBeUndefined();
    expect(JSON.parse(rebound.body)).toMatchObject({error: {code: -32000}});
    expect(demo.stats.sessions).toBe(before);
    expect(local.sessions).toBe(0);
    expect(local.stats.refusedRequests).toBe(1);
    expect(logger.lines.join('\n')).toContain('Refused a request to the proxy: Host "evil.example');
  });

  it('serves the names the user allowed (--allowed-host), and only those', async () => {
    const local = await proxy({allowedHosts: ['dev-box.lan']});
    const port = new URL(local.url).port;
    const allowed = await post(local.url, {
      host: `dev-box.lan:${port}`,
      origin: `http://dev-box.lan:${port}`,
    });
    expect(allowed.status).toBe(200);
    expect(allowed.sessionId).toBeDefined();
    const other = await post(local.url, {host: `other-box.lan:${port}`});
    expect(other.status).toBe(403);
  });

  it('with a required token, refuses requests without it or with a wrong one, and never forwards it', async () => {
    const secret = 'proxy-secret-0123456789';
    const raw = await startRawRemote(() => ({
      status: 200,
      headers: {'content-type': 'application/json', 'mcp-session-id': 'r-1'},
      chunks: [
        '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"r","version":"1"}}}',
      ],
    }));
    const logger = recordingLogger();
    try {
      const local = await proxy({remoteUrl: raw.url, requireToken: secret, logger});
      const host = new URL(local.url).host;
      expect((await post(local.url, {host})).status).toBe(403);
      expect(
        (await post(local.url, {host, authorization: 'Bearer proxy-secret-0123456780'})).status,
      ).toBe(403);
      expect(raw.requests).toHaveLength(0);
      const ok = await post(local.url, {host, authorization: `Bearer ${secret}`});
      expect(ok.status).toBe(200);
      expect(raw.requests).toHaveLength(1);
      expect(raw.requests[0]?.headers.authorization).toBeUndefined();
      expect(JSON.stringify(raw.requests)).not.toContain(secret);
      expect(logger.lines.join('\n')).not.toContain(secret);
    } finally {
      await raw.close();
    }
  });
});

describe('attack: other users of the machine, and the generated token (--require-token)', () => {
  it(
    'is shown once, on stdout only, and works; requests without it are refused',
    async () => {
      ensureBuilt();
      const raw = await startRawRemote(() => ({
        status: 200,
        headers: {'content-type': 'application/json', 'mcp-session-id': 'r-1'},
        chunks: [
          '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"r","version":"1"}}}',
        ],
      }));
      const {startGoogleEmulator} = await import('../../src/emulator/google-emulator.js');
      const emu = await startGoogleEmulator();
      const key = await emu.createServiceAccountKey(
        'token-cli@emulator-project.iam.gserviceaccount.com',
      );
      const child = spawn(
        process.execPath,
        [CLI, 'proxy', raw.url, '--port', '0', '--require-token', '--key-file', key.path],
        {env: cleanEnv(emu.env()) as Record<string, string>, stdio: ['ignore', 'pipe', 'pipe']},
      );
      try {
        let stdout = '';
        let stderr = '';
        child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        await vi.waitFor(() => expect(stdout).toMatch(/Proxy token .*: \S+\n/), {timeout: 15_000});
        const url = /Proxy ready: (http:\/\/\S+) /.exec(stdout)?.[1] as string;
        const token = /Proxy token .*: (\S+)\n/.exec(stdout)?.[1] as string;
        expect(token).toMatch(/^[\w-]{32}$/);
        expect(stdout.split(token).length - 1).toBe(1);
        expect(stderr).not.toContain(token);
        const host = new URL(url).host;
        expect((await post(url, {host})).status).toBe(403);
        expect((await post(url, {host, authorization: `Bearer ${token}`})).status).toBe(200);
      } finally {
        child.kill('SIGKILL');
        await raw.close();
        await emu.close();
      }
    },
    BUILD_TIMEOUT_MS,
  );
});
