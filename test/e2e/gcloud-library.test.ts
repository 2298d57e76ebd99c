/**
 * Run as yourself, through the library: `serviceAccount: {useGcloudCredential: true,
 * useIdToken: true}` in McpToolset, googleAuthFetch and the exchanger, with the fake gcloud
 * minting through the Google emulator and the Cloud Run front checking invokers, all on one
 * adjustable clock.
 */
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {GCLOUD_OAUTH_CLIENT_ID} from '../../src/credentials/gcloud-identity.js';
import type {AuthCredential} from '../../src/credentials/types.js';
import {ServiceAccountCredentialExchanger} from '../../src/exchange/service-account-exchanger.js';
import {explainAuthFailure} from '../../src/http/explain-auth-failure.js';
import {googleAuthFetch} from '../../src/http/google-auth-fetch.js';
import {McpConnectionError} from '../../src/mcp/mcp-errors.js';
import {McpToolset} from '../../src/mcp/mcp-toolset.js';
import type {McpToolsetOptions} from '../../src/mcp/mcp-toolset.js';
import type {FetchLike} from '../../src/tokens/google-routing.js';
import {decodeJwtPayload} from '../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {resultText, startCloudRunStack} from '../mcp/support/cloud-run-stack.js';
import type {CloudRunStack} from '../mcp/support/cloud-run-stack.js';
import {createFakeGcloud, type FakeGcloud} from '../support/fake-gcloud/index.js';

const DEV = 'dev@example.com';
const MCP_INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {protocolVersion: '2025-06-18', capabilities: {}, clientInfo: {name: 't', version: '1'}},
};

/** As a developer writes it: snake_case, no key, no audience. */
const ME: AuthCredential = {
  authType: 'serviceAccount',
  serviceAccount: {useGcloudCredential: true, useIdToken: true},
};

let stack: CloudRunStack;
let gcloud: FakeGcloud;
let cache: TokenCache;
const toolsets: McpToolset[] = [];

beforeAll(async () => {
  stack = await startCloudRunStack({invokers: [`user:${DEV}`]});
});

afterAll(async () => {
  await stack.close();
});

beforeEach(async () => {
  gcloud = createFakeGcloud(stack.emulator);
  await gcloud.login({email: DEV});
  cache = new TokenCache({now: stack.clock.now});
});

afterEach(async () => {
  await Promise.all(toolsets.splice(0).map((t) => t.close().catch(() => undefined)));
  gcloud.remove();
});

/** A toolset on `url` running as the fake gcloud's account, recording the tokens it sent. */
function toolset(url = stack.mcpUrl, options: Partial<McpToolsetOptions> = {}) {
  const sent: string[] = [];
  const recording: FetchLike = (input, init) => {
    const auth = new Headers(init?.headers).get('authorization');
    if (auth) sent.push(auth.replace(/^Bearer /, ''));
    return fetch(input, init);
  };
  const t = new McpToolset({
    connectionParams: {type: 'StreamableHTTPConnectionParams', url},
    authCredential: ME,
    cache,
    tokenSourceOptions: {env: gcloud.env()},
    fetch: recording,
    ...options,
  });
  toolsets.push(t);
  return {toolset: t, sent};
}

async function whoami(t: McpToolset): Promise<string> {
  const tool = (await t.getTools()).find((candidate) => candidate.name === 'whoami');
  if (!tool) throw new Error('no whoami tool');
  return resultText(await tool.runAsync({}));
}

describe('McpToolset with useGcloudCredential', () => {
  it("reaches the service as the developer, with gcloud's identity token, gcloud run once", async () => {
    const {toolset: t, sent} = toolset();
    expect(await whoami(t)).toBe(DEV);
    expect(await whoami(t)).toBe(DEV);
    expect(decodeJwtPayload(sent[0] as string)).toMatchObject({
      aud: GCLOUD_OAUTH_CLIENT_ID,
      email: DEV,
    });
    expect(new Set(sent).size).toBe(1);
    expect(gcloud.runs()).toBe(1);
  });

  it('is refused for a developer who is not an invoker, with the binding command for user:EMAIL', async () => {
    const stranger = await gcloud.login({email: 'stranger@example.com'});
    const {toolset: t} = toolset();
    const error = (await t.getTools().catch((e: unknown) => e)) as McpConnectionError;
    expect(error).toBeInstanceOf(McpConnectionError);
    expect(error.message).toContain('HTTP 403');
    expect(error.message).toContain(`--member=user:${stranger.email} --role=roles/run.invoker`);
  });

  it('refreshes as the token nears exp: one gcloud run for any number of concurrent calls', async () => {
    const {toolset: t, sent} = toolset();
    const tools = await t.getTools();
    const add = tools.find((tool) => tool.name === 'add');
    if (!add) throw new Error('no add tool');
    const first = sent[0] as string;
    const exp = (decodeJwtPayload(first)?.exp as number) * 1000;
    // 4 minutes before exp, inside the cache's 5-minute margin.
    stack.clock.advance(exp - 4 * 60_000 - stack.clock.now());
    const sums = await Promise.all(
      Array.from({length: 20}, (_, i) => add.runAsync({args: {a: i, b: 1}})),
    );
    expect(sums.map(resultText)).toEqual(Array.from({length: 20}, (_, i) => String(i + 1)));
    await expect.poll(() => gcloud.runs()).toBe(2);
    await expect
      .poll(async () => {
        await add.runAsync({args: {a: 1, b: 1}});
        return sent.at(-1);
      })
      .not.toBe(first);
    expect((decodeJwtPayload(sent.at(-1) as string)?.exp as number) * 1000).toBeGreaterThan(exp);
    expect(gcloud.runs()).toBe(2);
  });

  it('impersonates through gcloud: a token for the service URL, as the service account', async () => {
    const runner = `runner@${stack.emulator.projectId}.iam.gserviceaccount.com`;
    const asRunner: AuthCredential = {
      authType: 'serviceAccount',
      serviceAccount: {
        useGcloudCredential: true,
        useIdToken: true,
        impersonateServiceAccount: runner,
      },
    };
    const open = await stack.addGateway({invokers: [`serviceAccount:${runner}`]});
    const {toolset: t, sent} = toolset(`${open.url}/mcp`, {authCredential: asRunner});
    expect(await whoami(t)).toBe(runner);
    expect(decodeJwtPayload(sent[0] as string)).toMatchObject({aud: open.url, email: runner});
    // The developer's own front does not list the service account.
    const {toolset: refused} = toolset(stack.mcpUrl, {authCredential: asRunner});
    await expect(refused.getTools()).rejects.toThrow(/HTTP 403/);
  });
});

describe('one token for every client of the library', () => {
  it('McpToolset on two services, googleAuthFetch and the exchanger share one gcloud run', async () => {
    const second = await stack.addGateway({invokers: [`user:${DEV}`]});
    const {toolset: a} = toolset();
    const {toolset: b} = toolset(`${second.url}/mcp`);
    expect(await whoami(a)).toBe(DEV);
    expect(await whoami(b)).toBe(DEV);
    const authFetch = googleAuthFetch({
      authCredential: ME,
      cache,
      tokenSourceOptions: {env: gcloud.env()},
    });
    const response = await authFetch(stack.mcpUrl, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'application/json, text/event-stream'},
      body: JSON.stringify(MCP_INIT),
    });
    expect(response.status).toBe(200);
    await response.body?.cancel();
    const exchanger = new ServiceAccountCredentialExchanger({
      cache,
      tokenSourceOptions: {env: gcloud.env()},
    });
    const {credential} = await exchanger.exchange({
      authCredential: {
        authType: 'serviceAccount',
        // ADK Python's snake_case, as parsed by the exchanger.
        serviceAccount: {use_gcloud_credential: true, use_id_token: true} as never,
      },
    });
    expect(decodeJwtPayload(credential.http?.credentials.token as string)?.email).toBe(DEV);
    expect(gcloud.runs()).toBe(1);
  });

  it('googleAuthFetch refuses an audience a gcloud user account cannot honour', () => {
    expect(() =>
      googleAuthFetch({
        authCredential: ME,
        audience: 'https://svc-abc.a.run.app',
        tokenSourceOptions: {env: gcloud.env()},
      }),
    ).toThrow(/audience does not apply to a gcloud user account/);
  });

  it("googleAuthFetch explains a 403 with the developer's user:EMAIL binding", async () => {
    await gcloud.login({email: 'visitor@example.com'});
    const authFetch = googleAuthFetch({
      authCredential: ME,
      cache,
      tokenSourceOptions: {env: gcloud.env()},
    });
    const response = await authFetch(stack.mcpUrl, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'application/json, text/event-stream'},
      body: JSON.stringify(MCP_INIT),
    });
    expect(response.status).toBe(403);
    expect(explainAuthFailure(response)).toContain('--member=user:visitor@example.com');
  });
});
