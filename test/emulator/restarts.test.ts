/**
 * The emulator's restarts and revocations used by the soak: a demo MCP server and a Cloud
 * Run front that restart without a gap (same URL, no refused or cut request, old connections
 * retired), and a front that revokes every token issued before a moment.
 */
import {Agent, request} from 'node:http';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {
  startCloudRunGateway,
  startDemoMcpServer,
  startGoogleEmulator,
} from '../../src/emulator/index.js';
import type {CloudRunGateway, DemoMcpServer, GoogleEmulator} from '../../src/emulator/index.js';

let emulator: GoogleEmulator;
let demo: DemoMcpServer;
let front: CloudRunGateway;

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  demo = await startDemoMcpServer();
  front = await startCloudRunGateway({upstream: demo.origin, jwksUrl: emulator.jwksUrl});
});
afterAll(async () => {
  await front.close();
  await demo.close();
  await emulator.close();
});

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {protocolVersion: '2025-06-18', capabilities: {}, clientInfo: {name: 't', version: '1'}},
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  socket: unknown;
}

/** A POST over `agent` (keep-alive), so that connection reuse is visible. */
function post(
  url: string,
  body: string,
  agent: Agent,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({status: res.statusCode ?? 0, headers: res.headers, socket: req.socket}),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('demo MCP server restart', () => {
  it('drops the sessions, answers on, and retires the old connections', async () => {
    const agent = new Agent({keepAlive: true, maxSockets: 1});
    try {
      const opened = await post(demo.url, INIT, agent);
      expect(opened.status).toBe(200);
      const sessionId = String(opened.headers['mcp-session-id']);
      const before = demo.stats.sessions;
      expect(demo.restart()).toBeGreaterThanOrEqual(1);
      // The old connection serves one more answer, and says it closes.
      const stale = await post(demo.url, '{}', agent, {'mcp-session-id': sessionId});
      expect(stale.status).toBe(404);
      expect(stale.headers.connection).toBe('close');
      expect(stale.socket).toBe(opened.socket);
      // A new connection reaches the new instance, which opens new sessions.
      const again = await post(demo.url, INIT, agent);
      expect(again.status).toBe(200);
      expect(again.socket).not.toBe(opened.socket);
      expect(again.headers.connection).not.toBe('close');
      expect(demo.stats.sessions).toBe(before + 1);
    } finally {
      agent.destroy();
    }
  });
});

describe('Cloud Run front', () => {
  it('restarts without refusing a request: old connections are retired, tokens still pass', async () => {
    const agent = new Agent({keepAlive: true, maxSockets: 1});
    const token = await emulator.mintIdToken({audience: front.url});
    const auth = {authorization: `Bearer ${token}`};
    try {
      const first = await post(`${front.url}/mcp`, INIT, agent, auth);
      expect(first.status).toBe(200);
      front.restart();
      const retired = await post(`${front.url}/mcp`, INIT, agent, auth);
      expect(retired.status).toBe(200);
      expect(retired.headers.connection).toBe('close');
      const fresh = await post(`${front.url}/mcp`, INIT, agent, auth);
      expect(fresh.status).toBe(200);
      expect(fresh.socket).not.toBe(first.socket);
    } finally {
      agent.destroy();
    }
  });

  it('revokeIssuedBefore refuses tokens issued in an earlier second, and new ones pass', async () => {
    const agent = new Agent({keepAlive: false});
    const now = Date.now();
    const old = await emulator.mintIdToken({
      audience: front.url,
      issuedAt: Math.floor(now / 1000) - 5,
    });
    const newer = await emulator.mintIdToken({
      audience: front.url,
      issuedAt: Math.floor(now / 1000),
    });
    const revokedBefore = front.stats.revoked;
    front.revokeIssuedBefore(now);
    expect(
      (await post(`${front.url}/mcp`, INIT, agent, {authorization: `Bearer ${old}`})).status,
    ).toBe(401);
    expect(
      (await post(`${front.url}/mcp`, INIT, agent, {authorization: `Bearer ${newer}`})).status,
    ).toBe(200);
    expect(front.stats.revoked).toBe(revokedBefore + 1);
    expect(() => front.revokeIssuedBefore(Number.NaN)).toThrow(TypeError);
  });
});
