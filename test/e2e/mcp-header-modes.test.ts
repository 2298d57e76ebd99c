/**
 * McpToolset's three header modes, through the Cloud Run front and the IAP front, to the
 * demo MCP server (whose `whoami` reads the identity the front forwarded).
 */
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import type {CloudRunGateway} from '../../src/emulator/index.js';
import type {AuthHeaderMode} from '../../src/http/auth-header-mode.js';
import {McpConnectionError} from '../../src/mcp/mcp-errors.js';
import {McpToolset} from '../../src/mcp/mcp-toolset.js';
import type {McpHeaderProvider} from '../../src/mcp/mcp-toolset.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {resultText, startCloudRunStack, useEmulatorEnv} from '../mcp/support/cloud-run-stack.js';
import type {CloudRunStack} from '../mcp/support/cloud-run-stack.js';

const IAP_CLIENT_ID = '987654321-iap.apps.googleusercontent.com';
let stack: CloudRunStack;
let iap: CloudRunGateway;
let email: string;
let restoreEnv: () => void;
const toolsets: McpToolset[] = [];

beforeAll(async () => {
  stack = await startCloudRunStack();
  iap = await stack.addGateway({mode: 'iap', audiences: [IAP_CLIENT_ID]});
  const key = await stack.emulator.createServiceAccountKey();
  email = key.email;
  restoreEnv = useEmulatorEnv(stack.emulator, key.path);
});
afterAll(async () => {
  restoreEnv();
  await stack.close();
});
afterEach(async () => {
  await Promise.all(toolsets.splice(0).map((t) => t.close().catch(() => undefined)));
});

async function whoami(
  url: string,
  authHeader: AuthHeaderMode,
  extra: {audience?: string; headerProvider?: McpHeaderProvider} = {},
) {
  const toolset = new McpToolset({
    connectionParams: {type: 'StreamableHTTPConnectionParams', url},
    authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
    authCredential: {
      authType: 'serviceAccount',
      serviceAccount: {
        useDefaultCredential: true,
        useIdToken: true,
        ...(extra.audience ? {audience: extra.audience} : {}),
      },
    },
    authHeader,
    cache: new TokenCache(),
    ...(extra.headerProvider ? {headerProvider: extra.headerProvider} : {}),
  });
  toolsets.push(toolset);
  const tool = (await toolset.getTools()).find((candidate) => candidate.name === 'whoami')!;
  return resultText(await tool.runAsync());
}

describe('McpToolset header modes', () => {
  it('authorization (default)', async () => {
    expect(await whoami(stack.mcpUrl, 'authorization')).toBe(email);
  });

  it("x-serverless-authorization, with the caller's own Authorization passed through to the server", async () => {
    const before = stack.gateway.stats.invalidToken;
    expect(
      await whoami(stack.mcpUrl, 'x-serverless-authorization', {
        headerProvider: () => ({authorization: 'Bearer end-user-token'}),
      }),
    ).toBe(email);
    expect(stack.gateway.stats.invalidToken).toBe(before);
  });

  it('proxy-authorization, to IAP with its OAuth client id as the audience', async () => {
    expect(await whoami(`${iap.url}/mcp`, 'proxy-authorization', {audience: IAP_CLIENT_ID})).toBe(
      email,
    );
    expect(iap.stats.forwarded).toBeGreaterThanOrEqual(2);
  });

  it('IAP refuses an ID token whose audience is the URL', async () => {
    const error = await whoami(`${iap.url}/mcp`, 'proxy-authorization').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpConnectionError);
    expect((error as McpConnectionError).status).toBe(401);
    expect((error as McpConnectionError).message).toContain('in proxy-authorization');
  });
});
