/**
 * One token cache per process: the exchanger, every googleAuthFetch and every McpToolset built
 * without a `cache` option share `defaultTokenCache()`, and credentials that name the same
 * principal share one token however they were built. The environment is this file's own
 * (vitest runs each file in its own process, so the process-wide cache starts empty).
 */
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {parseAuthCredential} from '../../src/credentials/parse.js';
import type {AuthCredential} from '../../src/credentials/types.js';
import type {EmulatorServiceAccountKey} from '../../src/emulator/index.js';
import {ServiceAccountCredentialExchanger} from '../../src/exchange/service-account-exchanger.js';
import {googleAuthFetch} from '../../src/http/google-auth-fetch.js';
import {McpToolset} from '../../src/mcp/mcp-toolset.js';
import type {FetchLike} from '../../src/tokens/google-routing.js';
import {defaultTokenCache} from '../../src/tokens/token-cache.js';
import {setEnv, startCloudRunStack} from '../mcp/support/cloud-run-stack.js';
import type {CloudRunStack} from '../mcp/support/cloud-run-stack.js';

let stack: CloudRunStack;
let restoreEnv: () => void;
let key: EmulatorServiceAccountKey;

beforeAll(async () => {
  stack = await startCloudRunStack();
  key = await stack.emulator.createServiceAccountKey();
  restoreEnv = setEnv({
    ...stack.emulator.env(),
    GOOGLE_APPLICATION_CREDENTIALS: undefined,
    CLOUDSDK_CONFIG: stack.emulator.directory,
  });
});
afterAll(async () => {
  restoreEnv();
  await stack.close();
});
beforeEach(() => {
  defaultTokenCache().clear();
  stack.emulator.resetCounts();
  stack.gateway.resetStats();
});

/** The same key, parsed afresh each time (equal content, a new object). */
function keyCredential(): AuthCredential {
  return parseAuthCredential(
    {
      auth_type: 'serviceAccount',
      service_account: {service_account_credential: {...key.json}, use_id_token: true},
    },
    {requireAudience: false},
  );
}

/** A fetch that remembers the bearer token of every request it carries. */
function capturing(): {fetch: FetchLike; tokens: string[]} {
  const tokens: string[] = [];
  return {
    tokens,
    fetch: (input, init) => {
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : {}));
      const auth = headers.get('authorization');
      if (auth?.startsWith('Bearer ')) tokens.push(auth.slice(7));
      return fetch(input, init);
    },
  };
}

describe('the process-wide token cache', () => {
  it('serves the exchanger, two googleAuthFetch and an McpToolset with one token request', async () => {
    const audience = stack.gateway.url;
    const exchanged = await new ServiceAccountCredentialExchanger().exchange({
      authCredential: {
        ...keyCredential(),
        serviceAccount: {...keyCredential().serviceAccount, audience},
      },
    });
    const token = exchanged.credential.http?.credentials.token;
    expect(token).toBeDefined();

    const wire = capturing();
    const first = googleAuthFetch({authCredential: keyCredential(), fetch: wire.fetch});
    const second = googleAuthFetch({authCredential: keyCredential(), fetch: wire.fetch});
    await Promise.all([
      first(`${stack.gateway.url}/healthz`).then((res) => res.body?.cancel()),
      second(`${stack.gateway.url}/healthz`).then((res) => res.body?.cancel()),
    ]);

    const toolset = new McpToolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url: stack.mcpUrl},
      authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
      authCredential: keyCredential(),
      fetch: wire.fetch,
    });
    try {
      expect((await toolset.getTools()).length).toBeGreaterThan(0);
    } finally {
      await toolset.close();
    }

    expect(wire.tokens.length).toBeGreaterThanOrEqual(3);
    expect(new Set(wire.tokens)).toEqual(new Set([token]));
    expect(stack.gateway.stats).toMatchObject({invalidToken: 0, missingToken: 0});
    expect(stack.emulator.requests.byEndpoint.token).toBe(1);
    expect(defaultTokenCache().stats()).toMatchObject({fetches: 1, size: 1});
  });

  it('gives googleAuthFetch instances over Application Default Credentials one token', async () => {
    const adc = (): AuthCredential => ({
      authType: 'serviceAccount',
      serviceAccount: {useDefaultCredential: true, useIdToken: true},
    });
    const wire = capturing();
    const fetches = Array.from({length: 5}, () =>
      googleAuthFetch({authCredential: adc(), fetch: wire.fetch}),
    );
    stack.gateway.resetStats();
    await Promise.all(
      fetches.map((f) => f(`${stack.gateway.url}/healthz`).then((res) => res.body?.cancel())),
    );
    expect(stack.gateway.stats).toMatchObject({forwarded: 5, invalidToken: 0});
    expect(new Set(wire.tokens).size).toBe(1);
    expect(stack.emulator.requests.byEndpoint['metadata.identity']).toBe(1);
  });
});
