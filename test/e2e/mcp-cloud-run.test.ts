/**
 * McpToolset end to end: the real MCP SDK client and server over loopback, through the
 * Cloud Run front emulation, with tokens minted by the Google auth emulator.
 */
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {parseAuthCredential} from '../../src/credentials/parse.js';
import type {AuthCredential} from '../../src/credentials/types.js';
import {AuthCredentialTypes} from '../../src/credentials/types.js';
import type {EmulatorServiceAccountKey} from '../../src/emulator/index.js';
import {McpConnectionError, McpToolError} from '../../src/mcp/mcp-errors.js';
import {McpToolset} from '../../src/mcp/mcp-toolset.js';
import type {McpToolsetOptions} from '../../src/mcp/mcp-toolset.js';
import type {FetchLike} from '../../src/tokens/google-routing.js';
import {decodeJwtPayload} from '../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {startLoopback} from '../http/support/loopback.js';
import {resultText, startCloudRunStack, useEmulatorEnv} from '../mcp/support/cloud-run-stack.js';
import type {CloudRunStack} from '../mcp/support/cloud-run-stack.js';

let stack: CloudRunStack;
let key: EmulatorServiceAccountKey;
let restoreEnv: () => void;
let keyCredential: AuthCredential;
const toolsets: McpToolset[] = [];

beforeAll(async () => {
  stack = await startCloudRunStack();
  key = await stack.emulator.createServiceAccountKey(
    'agent@emulator-project.iam.gserviceaccount.com',
  );
  restoreEnv = useEmulatorEnv(stack.emulator, key.path);
  // The key file exactly as Google writes it (snake_case), as an ADK user would load it.
  keyCredential = parseAuthCredential(
    {
      auth_type: 'serviceAccount',
      service_account: {service_account_credential: key.json, use_id_token: true},
    },
    {requireAudience: false},
  );
});
afterAll(async () => {
  restoreEnv();
  await stack.close();
});
beforeEach(() => {
  stack.emulator.resetCounts();
  stack.gateway.resetStats();
});
afterEach(async () => {
  await Promise.all(toolsets.splice(0).map((t) => t.close().catch(() => undefined)));
});

/** A toolset on the front with the explicit key, its own cache, and a record of the tokens sent. */
function toolset(options: Partial<McpToolsetOptions> = {}) {
  const sent: string[] = [];
  const recording: FetchLike = (input, init) => {
    const auth = new Headers(init?.headers).get('authorization');
    if (auth) sent.push(auth.replace(/^Bearer /, ''));
    return fetch(input, init);
  };
  const t = new McpToolset({
    connectionParams: {type: 'StreamableHTTPConnectionParams', url: stack.mcpUrl},
    authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
    authCredential: keyCredential,
    cache: new TokenCache(),
    fetch: recording,
    ...options,
  });
  toolsets.push(t);
  return {toolset: t, sent};
}

async function tool(t: McpToolset, name: string) {
  const found = (await t.getTools()).find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no tool ${name}`);
  return found;
}

describe('the ADK usage, in TypeScript', () => {
  it('lists the tools of a Cloud Run MCP server with useDefaultCredential + useIdToken and calls them', async () => {
    const toolset = new McpToolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url: stack.mcpUrl},
      authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
      authCredential: {
        authType: AuthCredentialTypes.SERVICE_ACCOUNT,
        serviceAccount: {useDefaultCredential: true, useIdToken: true}, // audience defaults to the URL's origin
      },
    });
    toolsets.push(toolset);
    const tools = await toolset.getTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'add', 'whoami']));
    const add = tools.find((t) => t.name === 'add')!;
    const whoami = tools.find((t) => t.name === 'whoami')!;
    expect(resultText(await add.runAsync({args: {a: 2, b: 3}, toolContext: {}}))).toBe('5');
    expect(resultText(await whoami.runAsync({}))).toBe(key.email);
    expect(stack.gateway.stats.forwarded).toBeGreaterThanOrEqual(3);
    expect(stack.gateway.stats.invalidToken + stack.gateway.stats.missingToken).toBe(0);
  });
});

describe('audience', () => {
  it("defaults to the front's origin (Cloud Run's service URL rule)", async () => {
    const {toolset: t, sent} = toolset();
    expect(resultText(await (await tool(t, 'whoami')).runAsync())).toBe(key.email);
    const claims = decodeJwtPayload(sent[0]!);
    expect(claims?.aud).toBe(stack.gateway.url);
    expect(claims?.email).toBe(key.email);
  });

  it('with a path is refused by Cloud Run with 401, after a one-time warning and one retry', async () => {
    const warnings: string[] = [];
    const {toolset: t} = toolset({
      authCredential: {
        ...keyCredential,
        serviceAccount: {...keyCredential.serviceAccount, audience: stack.mcpUrl},
      },
      onWarning: (_message, code) => warnings.push(code),
    });
    const error = await t.getTools().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpConnectionError);
    const connectionError = error as McpConnectionError;
    expect(connectionError.status).toBe(401);
    expect(connectionError.url).toBe(stack.mcpUrl);
    expect(connectionError.message).toContain(`with audience "${stack.mcpUrl}"`);
    expect(connectionError.message).toContain('A fresh token was fetched and refused as well');
    expect(warnings).toEqual(['MCP_GOOGLE_AUTH_AUDIENCE_PATH']);
    expect(stack.gateway.stats.rejections.bad_audience).toBe(2);
  });

  it('an access token (the original bug) gets a 401 that says to use an ID token', async () => {
    const {toolset: t} = toolset({
      authCredential: {
        ...keyCredential,
        serviceAccount: {...keyCredential.serviceAccount, useIdToken: false},
      },
    });
    const error = (await t.getTools().catch((e: unknown) => e)) as McpConnectionError;
    expect(error.status).toBe(401);
    expect(error.message).toContain('An OAuth2 access token was sent');
    expect(error.message).toContain('useIdToken: true');
  });
});

describe('one token and one session', () => {
  it('serves 200 concurrent tool calls with 1 token request and 1 MCP session, from a cold start', async () => {
    const cache = new TokenCache();
    const {toolset: t} = toolset({cache});
    const sessionsBefore = stack.demo.stats.sessions;
    const callsBefore = stack.demo.stats.toolCalls;
    // Cold start: 20 concurrent getTools race to connect: one token, one session.
    const lists = await Promise.all(Array.from({length: 20}, () => t.getTools()));
    expect(stack.emulator.requests.byEndpoint.token).toBe(1);
    expect(stack.demo.stats.sessions - sessionsBefore).toBe(1);
    // Then 200 calls run at once on an emptied token cache: they share one token request.
    cache.clear();
    stack.emulator.resetCounts();
    const adds = lists.map((tools) => tools.find((candidate) => candidate.name === 'add')!);
    const results = await Promise.all(
      Array.from({length: 200}, async (_, i) =>
        resultText(await adds[i % 20]!.runAsync({a: i, b: 1})),
      ),
    );
    expect(results).toEqual(Array.from({length: 200}, (_, i) => String(i + 1)));
    expect(stack.emulator.requests.byEndpoint.token).toBe(1);
    expect(stack.demo.stats.sessions - sessionsBefore).toBe(1);
    expect(stack.demo.stats.toolCalls - callsBefore).toBe(200);
    expect(t.sessionsOpened).toBe(1);
    expect(stack.gateway.stats.invalidToken + stack.gateway.stats.missingToken).toBe(0);
  });

  it('keeps one session across 20 token rotations with short lifetimes, without a failed call', async () => {
    stack.emulator.setTokenLifetime(60);
    try {
      const cache = new TokenCache({refreshMarginSeconds: 0, now: stack.clock.now});
      const {toolset: t, sent} = toolset({cache});
      const echo = await tool(t, 'echo');
      const sessionsBefore = stack.demo.stats.sessions;
      for (let round = 0; round < 20; round++) {
        stack.clock.advance(61_000);
        const results = await Promise.all(
          Array.from({length: 5}, (_, i) => echo.runAsync({text: `${round}.${i}`})),
        );
        expect(results.map(resultText)).toEqual(Array.from({length: 5}, (_, i) => `${round}.${i}`));
      }
      expect(stack.emulator.requests.byEndpoint.token).toBe(21);
      expect(new Set(sent).size).toBe(21);
      expect(stack.demo.stats.sessions).toBe(sessionsBefore);
      expect(t.sessionsOpened).toBe(1);
      expect(stack.gateway.stats.invalidToken).toBe(0);
    } finally {
      stack.emulator.setTokenLifetime(3600);
    }
  });
});

describe('refused tokens', () => {
  it('refetches a revoked token once and succeeds, in the same session', async () => {
    const {toolset: t, sent} = toolset();
    const add = await tool(t, 'add');
    stack.gateway.revoke(sent.at(-1)!);
    // A token minted in the same second with the same claims would be the same text; move on a second.
    stack.clock.advance(1000);
    expect(resultText(await add.runAsync({a: 40, b: 2}))).toBe('42');
    expect(stack.gateway.stats.revoked).toBe(1);
    expect(stack.emulator.requests.byEndpoint.token).toBe(2);
    expect(t.sessionsOpened).toBe(1);
  });

  it('gives a caller who is not an invoker a clear 403, with no retry loop', async () => {
    const strict = await stack.addGateway({
      invokers: ['serviceAccount:someone-else@emulator-project.iam.gserviceaccount.com'],
    });
    const {toolset: t} = toolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url: `${strict.url}/mcp`},
    });
    const error = await t.getTools().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpConnectionError);
    const connectionError = error as McpConnectionError;
    expect(connectionError.code).toBe('http_error');
    expect(connectionError.status).toBe(403);
    expect(connectionError.message).toContain(`${key.email} lacks roles/run.invoker`);
    expect(connectionError.message).toContain(`--member=serviceAccount:${key.email}`);
    expect(strict.stats.requests).toBe(1);
    expect(strict.stats.forbidden).toBe(1);
    await expect(t.getTools()).rejects.toThrow(McpConnectionError);
    expect(strict.stats.requests).toBe(2);
    expect(stack.emulator.requests.byEndpoint.token).toBe(1);
  });
});

describe('the token stays on its origin', () => {
  it('a redirect to another origin is not followed: the token reached only the configured origin', async () => {
    // The configured URL answers 307 to the front. The MCP SDK follows redirects only within
    // the origin, and googleAuthFetch sends the token (audience: the configured origin) only
    // there: the front never sees the request.
    const redirector = await startLoopback(
      (_req, res) => void res.writeHead(307, {location: stack.mcpUrl}).end(),
    );
    try {
      const {toolset: t} = toolset({
        connectionParams: {type: 'StreamableHTTPConnectionParams', url: `${redirector.origin}/mcp`},
      });
      const error = await t.getTools().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(McpConnectionError);
      const connectionError = error as McpConnectionError;
      expect(connectionError.status).toBe(307);
      expect(connectionError.url).toBe(`${redirector.origin}/mcp`);
      expect(connectionError.message).toContain(`Redirect to ${stack.mcpUrl} not followed`);
      expect(redirector.seen).toHaveLength(1);
      const sent = String(redirector.seen[0]!.headers.authorization).replace(/^Bearer /, '');
      expect(decodeJwtPayload(sent)?.aud).toBe(redirector.origin);
      expect(stack.gateway.stats.requests).toBe(0);
    } finally {
      await redirector.close();
    }
  });
});

describe('sessions, transports and headers', () => {
  it('re-opens a session the server forgot (a restarted container) and retries the call once', async () => {
    const {toolset: t} = toolset();
    const echo = await tool(t, 'echo');
    const before = stack.demo.stats.sessions;
    stack.demo.forgetSessions();
    expect(resultText(await echo.runAsync({text: 'after restart'}))).toBe('after restart');
    expect(stack.demo.stats.sessions - before).toBe(1);
    expect(t.sessionsOpened).toBe(2);
    expect(stack.demo.stats.unknownSessionRequests).toBeGreaterThanOrEqual(1);
  });

  it('speaks the SSE transport through the front', async () => {
    const {toolset: t} = toolset({
      connectionParams: {type: 'SseConnectionParams', url: stack.sseUrl},
    });
    const sseBefore = stack.demo.stats.sseSessions;
    const whoami = await tool(t, 'whoami');
    expect(resultText(await whoami.runAsync())).toBe(key.email);
    const add = await tool(t, 'add');
    expect(resultText(await add.runAsync({a: 1, b: 2}))).toBe('3');
    expect(stack.demo.stats.sseSessions - sseBefore).toBe(1);
    expect(stack.emulator.requests.byEndpoint.token).toBe(1);
  });

  it('merges headerProvider headers under the auth header: the credential wins', async () => {
    const contexts: unknown[] = [];
    const {toolset: t} = toolset({
      headerProvider: (context) => {
        contexts.push(context);
        return {authorization: 'Bearer not-a-google-token', 'x-tenant': 'acme'};
      },
    });
    const whoami = await tool(t, 'whoami');
    expect(
      resultText(await whoami.runAsync({args: {}, toolContext: {invocationId: 'inv-1'}})),
    ).toBe(key.email);
    expect(contexts).toContainEqual({invocationId: 'inv-1'});
    expect(stack.gateway.stats.invalidToken).toBe(0);
  });

  it('with X-Serverless-Authorization, lets the headerProvider Authorization reach the container untouched', async () => {
    const {toolset: t} = toolset({
      authHeader: 'x-serverless-authorization',
      headerProvider: async () => ({authorization: 'Bearer app-level-token'}),
    });
    const whoami = await tool(t, 'whoami');
    expect(resultText(await whoami.runAsync())).toBe(key.email);
    expect(stack.gateway.stats.invalidToken).toBe(0);
  });

  it('a McpToolError names the tool, the URL and the HTTP status, and a 403 is not retried', async () => {
    // The service's IAM policy changes after the session opened: from then on requests reach a
    // front that accepts the token but lets no one in.
    const locked = await stack.addGateway({audiences: [stack.gateway.url], invokers: []});
    let lockedOut = false;
    const t = new McpToolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url: stack.mcpUrl},
      authCredential: keyCredential,
      cache: new TokenCache(),
      fetch: (input, init) =>
        fetch(lockedOut ? String(input).replace(stack.gateway.url, locked.url) : input, init),
    });
    toolsets.push(t);
    const echo = await tool(t, 'echo');
    lockedOut = true;
    const error = await echo.runAsync({text: 'x'}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpToolError);
    const toolError = error as McpToolError;
    expect(toolError.toolName).toBe('echo');
    expect(toolError.url).toBe(stack.mcpUrl);
    expect(toolError.status).toBe(403);
    expect(toolError.code).toBe('http_error');
    expect(toolError.message).toMatch(
      /^MCP tool "echo" at http:\/\/127\.0\.0\.1:\d+\/mcp failed: HTTP 403/,
    );
    expect(toolError.message).toContain('roles/run.invoker');
    expect(locked.stats.forbidden).toBe(1);
    expect(locked.stats.requests).toBe(1);
    lockedOut = false;
  });
});
