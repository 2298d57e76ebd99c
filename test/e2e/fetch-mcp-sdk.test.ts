/**
 * The MCP SDK 1.x client, unchanged, with `fetch: googleAuthFetch(...)` on its Streamable
 * HTTP and SSE transports, through the Cloud Run front to the demo server.
 */
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {SSEClientTransport} from '@modelcontextprotocol/sdk/client/sse.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {googleAuthFetch} from '../../src/http/google-auth-fetch.js';
import {decodeJwtPayload} from '../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {startLoopback} from '../http/support/loopback.js';
import {resultText, startCloudRunStack, useEmulatorEnv} from '../mcp/support/cloud-run-stack.js';
import type {CloudRunStack} from '../mcp/support/cloud-run-stack.js';

let stack: CloudRunStack;
let restoreEnv: () => void;
let email: string;

beforeAll(async () => {
  stack = await startCloudRunStack();
  const key = await stack.emulator.createServiceAccountKey();
  email = key.email;
  restoreEnv = useEmulatorEnv(stack.emulator, key.path);
});
afterAll(async () => {
  restoreEnv();
  await stack.close();
});
beforeEach(() => {
  stack.emulator.resetCounts();
  stack.gateway.resetStats();
});

const credential = {
  authType: 'serviceAccount',
  serviceAccount: {useDefaultCredential: true, useIdToken: true},
} as const;

describe('MCP SDK client with googleAuthFetch', () => {
  it('Streamable HTTP: one session across token rotations', async () => {
    stack.emulator.setTokenLifetime(60);
    const cache = new TokenCache({refreshMarginSeconds: 0, now: stack.clock.now});
    const client = new Client({name: 'sdk-e2e', version: '1.0.0'});
    const transport = new StreamableHTTPClientTransport(new URL(stack.mcpUrl), {
      fetch: googleAuthFetch({authCredential: credential, cache}),
    });
    try {
      await client.connect(transport);
      const sessionsBefore = stack.demo.stats.sessions;
      const sessionId = transport.sessionId;
      for (let round = 0; round < 5; round++) {
        stack.clock.advance(61_000);
        const result = await client.callTool({name: 'whoami', arguments: {}});
        expect(resultText(result as {content: unknown})).toBe(email);
      }
      expect(transport.sessionId).toBe(sessionId);
      expect(stack.demo.stats.sessions).toBe(sessionsBefore);
      expect(stack.emulator.requests.byEndpoint.token).toBe(6);
    } finally {
      stack.emulator.setTokenLifetime(3600);
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
  });

  it('SSE: the event stream and every posted message carry the token', async () => {
    const client = new Client({name: 'sdk-e2e', version: '1.0.0'});
    const transport = new SSEClientTransport(new URL(stack.sseUrl), {
      fetch: googleAuthFetch({authCredential: credential, cache: new TokenCache()}),
    });
    const before = stack.gateway.stats.forwarded;
    try {
      await client.connect(transport);
      const result = await client.callTool({name: 'add', arguments: {a: 20, b: 22}});
      expect(resultText(result as {content: unknown})).toBe('42');
      expect(stack.gateway.stats.forwarded - before).toBeGreaterThanOrEqual(4);
      expect(stack.gateway.stats.missingToken).toBe(0);
      expect(stack.emulator.requests.byEndpoint.token).toBe(1);
    } finally {
      await client.close();
    }
  });

  it("redirectPolicy 'follow': a redirect to the front (another origin) arrives there without the token", async () => {
    const redirector = await startLoopback(
      (_req, res) => void res.writeHead(307, {location: stack.mcpUrl}).end(),
    );
    const client = new Client({name: 'sdk-e2e', version: '1.0.0'});
    const transport = new StreamableHTTPClientTransport(new URL(`${redirector.origin}/mcp`), {
      fetch: googleAuthFetch({authCredential: credential, cache: new TokenCache()}),
      redirectPolicy: 'follow',
    });
    try {
      await expect(client.connect(transport)).rejects.toThrow(/403/);
      const sent = String(redirector.seen[0]?.headers.authorization).replace(/^Bearer /, '');
      expect(decodeJwtPayload(sent)?.aud).toBe(redirector.origin);
      // The front found no token in any header it reads, answered 403, and was asked once.
      expect(stack.gateway.stats).toMatchObject({requests: 1, missingToken: 1, forwarded: 0});
    } finally {
      await client.close();
      await redirector.close();
    }
  });
});
