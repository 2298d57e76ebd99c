/**
 * What operators see, through the OpenTelemetry SDK with in-memory exporters: metrics for
 * token fetches (by source kind and outcome), retries, cache hits, refreshes ahead, stale
 * tokens served, 401 retries, verifications and proxy sessions; spans around token fetches
 * and 401 retries. And what they never see: a token, a key or an email in any attribute.
 */
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {startDemoMcpServer, startGoogleEmulator} from '../../src/emulator/index.js';
import type {DemoMcpServer, GoogleEmulator} from '../../src/emulator/index.js';
import {googleAuthFetch} from '../../src/http/google-auth-fetch.js';
import {McpToolset} from '../../src/mcp/mcp-toolset.js';
import {METRIC, SPAN} from '../../src/telemetry/metric-names.js';
import {exchangeFailure} from '../../src/tokens/sources/exchange-failure.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import type {Token, TokenRequest, TokenSource} from '../../src/tokens/token-source.js';
import {createIdTokenVerifier} from '../../src/verify/index.js';
import {startHttpProxy} from '../../src/cli/proxy/http-proxy.js';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {FakeTokenSource, fakeJwt, startLoopback} from '../http/support/loopback.js';
import {keyCredential} from '../tokens/sources/support.js';
import {installTelemetry} from './support/otel.js';
import type {Telemetry} from './support/otel.js';

const AUDIENCE = 'https://svc-otel.a.run.app';
const ID: TokenRequest = {kind: 'id', audience: AUDIENCE};
const FAST = {initialDelayMs: 1, maxDelayMs: 2};

let otel: Telemetry;
let emulator: GoogleEmulator;

beforeAll(async () => {
  otel = installTelemetry();
  emulator = await startGoogleEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  otel.resetSpans();
});

/** Fails with a 503 `failures` times, then mints a JWT-shaped token. */
class FlakySource implements TokenSource {
  readonly id = 'custom:flaky@p.iam.gserviceaccount.com';
  calls = 0;
  constructor(private failures: number) {}
  async getToken(request: TokenRequest): Promise<Token> {
    this.calls++;
    if (this.failures-- > 0) {
      throw exchangeFailure(
        {request, subject: 'flaky'},
        Object.assign(new Error('Request failed with status code 503'), {
          config: {url: 'https://oauth2.googleapis.com/token'},
          response: {status: 503, headers: new Headers(), data: {error: 'unavailable'}},
        }),
      );
    }
    return {value: fakeJwt({aud: AUDIENCE, n: this.calls}), expiresAt: Date.now() + 3_600_000};
  }
  async describe() {
    return {kind: 'unknown' as const, origin: 'test', canMintIdTokens: true};
  }
}

describe('token fetches', () => {
  it('count fetches by source kind and outcome, retries by failure kind, and trace each fetch', async () => {
    const before = await otel.total(METRIC.tokenFetches, {
      outcome: 'success',
      'source.kind': 'custom',
    });
    const cache = new TokenCache({retry: FAST});
    const token = await cache.get(new FlakySource(2), ID);
    expect(
      await otel.total(METRIC.tokenFetches, {outcome: 'success', 'source.kind': 'custom'}),
    ).toBe(before + 1);
    expect(
      await otel.total(METRIC.tokenRetries, {'failure.kind': 'http_5xx', 'token.kind': 'id'}),
    ).toBeGreaterThanOrEqual(2);
    expect(
      await otel.total(METRIC.tokenFetchDuration, {outcome: 'success'}),
    ).toBeGreaterThanOrEqual(1);
    const [span] = otel.spans().filter((s) => s.name === SPAN.tokenFetch);
    expect(span?.attributes).toMatchObject({
      'source.kind': 'custom',
      'token.kind': 'id',
      outcome: 'success',
      attempts: 3,
      'token.fingerprint': expect.stringMatching(/^sha256:[0-9a-f]{8}$/),
    });
    expect(span?.events.map((e) => [e.name, e.attributes?.['failure.kind']])).toEqual([
      ['retry', 'http_5xx'],
      ['retry', 'http_5xx'],
    ]);
    expect(JSON.stringify(span?.attributes)).not.toContain(token.value);
  });

  it('a failed fetch is counted as a failure with its kind, and its span is an error', async () => {
    const cache = new TokenCache({retry: {...FAST, budgetMs: 20}});
    const before = await otel.total(METRIC.tokenFetches, {
      outcome: 'failure',
      'failure.kind': 'http_5xx',
    });
    await expect(cache.get(new FlakySource(1000), ID)).rejects.toThrow(/Gave up after/);
    expect(
      await otel.total(METRIC.tokenFetches, {outcome: 'failure', 'failure.kind': 'http_5xx'}),
    ).toBe(before + 1);
    const [span] = otel.spans().filter((s) => s.name === SPAN.tokenFetch);
    expect(span?.status.code).toBe(2);
    expect(span?.attributes['failure.kind']).toBe('http_5xx');
  });

  it('count cache hits, refreshes ahead of expiry and stale tokens served', async () => {
    const clock = {now: 1_700_000_000_000};
    const source = new FakeTokenSource();
    source.now = () => clock.now;
    source.delayMs = 0;
    const cache = new TokenCache({now: () => clock.now, retry: FAST});
    const hits = await otel.total(METRIC.cacheHits, {'token.kind': 'id'});
    const ahead = await otel.total(METRIC.refreshAhead);
    const stale = await otel.total(METRIC.staleServed);
    await cache.get(source, ID);
    await cache.get(source, ID);
    await cache.get(source, ID);
    expect(await otel.total(METRIC.cacheHits, {'token.kind': 'id'})).toBe(hits + 2);
    clock.now += 56 * 60_000; // past the refresh point
    const failing: TokenSource = {
      id: source.id,
      getToken: () => Promise.reject(new Error('refresh failed for good')),
      describe: () => source.describe(),
    };
    await cache.get(failing, ID); // starts the refresh ahead, which fails
    await new Promise((resolve) => setTimeout(resolve, 5));
    await cache.get(failing, ID); // the valid token is served although its refresh failed
    expect(await otel.total(METRIC.refreshAhead)).toBe(ahead + 1);
    expect(await otel.total(METRIC.staleServed)).toBe(stale + 1);
  });
});

describe('401 retries', () => {
  it('recovered, refused, then suppressed during the cooldown: a counter and a span each', async () => {
    let refuse = 1;
    const server = await startLoopback((_req, res) => {
      if (refuse-- > 0) res.writeHead(401).end();
      else res.end('ok');
    });
    try {
      const authFetch = googleAuthFetch({
        authCredential: {
          authType: 'serviceAccount',
          serviceAccount: {useDefaultCredential: true, useIdToken: true},
        },
        tokenSource: new FakeTokenSource({jwt: true}),
        cache: new TokenCache(),
      });
      expect((await authFetch(`${server.origin}/a`)).status).toBe(200);
      expect(await otel.total(METRIC.unauthorizedRetries, {outcome: 'recovered'})).toBe(1);
      refuse = 2;
      expect((await authFetch(`${server.origin}/b`)).status).toBe(401);
      expect(await otel.total(METRIC.unauthorizedRetries, {outcome: 'refused'})).toBe(1);
      refuse = 1;
      expect((await authFetch(`${server.origin}/c`)).status).toBe(401);
      expect(await otel.total(METRIC.unauthorizedRetries, {outcome: 'suppressed'})).toBe(1);
      const spans = otel.spans().filter((s) => s.name === SPAN.unauthorizedRetry);
      expect(spans.map((s) => s.attributes.outcome)).toEqual(['recovered', 'refused']);
      expect(spans[1]?.attributes['http.response.status_code']).toBe(401);
    } finally {
      await server.close();
    }
  });
});

describe('verifier', () => {
  it('counts accepted tokens and rejected ones by code', async () => {
    const verify = createIdTokenVerifier({audience: AUDIENCE, jwksUrl: emulator.jwksUrl});
    const good = await emulator.mintIdToken({audience: AUDIENCE});
    const other = await emulator.mintIdToken({audience: 'https://elsewhere.a.run.app'});
    await verify(good);
    await expect(verify(other)).rejects.toThrow();
    await expect(verify('not a token')).rejects.toThrow();
    expect(await otel.total(METRIC.verifications, {result: 'accept'})).toBe(1);
    expect(await otel.total(METRIC.verifications, {result: 'reject', code: 'bad_audience'})).toBe(
      1,
    );
    expect(await otel.total(METRIC.verifications, {result: 'reject', code: 'malformed'})).toBe(1);
  });
});

describe('proxy sessions', () => {
  let demo: DemoMcpServer;
  beforeAll(async () => {
    demo = await startDemoMcpServer();
  });
  afterAll(async () => {
    await demo.close();
  });

  it('count sessions opened and open now, by mode', async () => {
    const proxy = await startHttpProxy({remoteUrl: demo.url, fetch: (i, init) => fetch(i, init)});
    const client = new Client({name: 'otel-test', version: '1.0.0'});
    const transport = new StreamableHTTPClientTransport(new URL(proxy.url));
    await client.connect(transport);
    expect(await otel.total(METRIC.proxySessionsOpened, {'proxy.mode': 'http'})).toBe(1);
    expect(await otel.total(METRIC.proxySessionsActive, {'proxy.mode': 'http'})).toBe(1);
    await transport.terminateSession();
    await client.close();
    await proxy.close();
    expect(await otel.total(METRIC.proxySessionsActive, {'proxy.mode': 'http'})).toBe(0);
  });
});

describe('no secrets in telemetry', () => {
  it('a whole flow records kinds, outcomes, codes and fingerprints only', async () => {
    const key = await emulator.createServiceAccountKey();
    const demo = await startDemoMcpServer();
    const toolset = new McpToolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url: demo.url},
      authCredential: {
        authType: 'serviceAccount',
        serviceAccount: {serviceAccountCredential: keyCredential(key.json), useIdToken: true},
      },
      cache: new TokenCache({retry: FAST}),
      tokenSourceOptions: {emulatorHost: emulator.host},
    });
    const secrets: string[] = [
      key.email,
      key.json.private_key!,
      key.json.private_key_id!,
      demo.url,
    ];
    try {
      emulator.fault({endpoint: 'token', status: 503, count: 2});
      const tools = await toolset.getTools();
      const whoami = tools.find((tool) => tool.name === 'whoami')!;
      await whoami.runAsync({});
      const minted = await emulator.mintIdToken({
        audience: new URL(demo.url).origin,
        email: key.email,
      });
      secrets.push(minted);
      await createIdTokenVerifier({audience: new URL(demo.url).origin, jwksUrl: emulator.jwksUrl})(
        minted,
      );
    } finally {
      await toolset.close();
      await demo.close();
    }
    const values: unknown[] = [];
    for (const point of await otel.points()) values.push(...Object.values(point.attributes));
    for (const span of otel.spans()) {
      values.push(...Object.values(span.attributes));
      for (const event of span.events) values.push(...Object.values(event.attributes ?? {}));
    }
    expect(values.length).toBeGreaterThan(10);
    const text = values.map(String).join('\n');
    for (const secret of secrets) expect(text).not.toContain(secret.slice(0, 24));
    expect(text).not.toMatch(/@|eyJ|BEGIN|https?:/);
    const allowed = /^(sha256:[0-9a-f]{8}|[a-z_0-9.]{1,40}|\d+(\.\d+)?|true|false)$/;
    expect(values.map(String).filter((value) => !allowed.test(value))).toEqual([]);
  });
});
