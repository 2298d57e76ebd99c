/** Injected faults, latency and request counts. */
import {JWT, gaxios} from 'google-auth-library';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {startGoogleEmulator} from '../../../src/emulator/index.js';
import type {EmulatorServiceAccountKey, GoogleEmulator} from '../../../src/emulator/index.js';
import {createGoogleFetch} from '../../../src/tokens/google-routing.js';
import {CLOUD_PLATFORM, JWT_BEARER, postForm, signAssertion} from './helpers.js';

let emu: GoogleEmulator;
let key: EmulatorServiceAccountKey;

beforeAll(async () => {
  emu = await startGoogleEmulator();
  key = await emu.createServiceAccountKey();
});

afterEach(() => {
  emu.clearFaults();
  emu.setLatency(0);
});

afterAll(async () => {
  await emu.close();
});

async function tokenRequest(): Promise<Response> {
  const assertion = await signAssertion(key, {scope: CLOUD_PLATFORM});
  return fetch(`${emu.url}/token`, {
    method: 'POST',
    headers: {'content-type': 'application/x-www-form-urlencoded'},
    body: new URLSearchParams({grant_type: JWT_BEARER, assertion}),
  });
}

describe('fault', () => {
  it('answers the injected status for the next matching request only (count defaults to 1)', async () => {
    emu.fault({endpoint: 'token', status: 503});
    const faulted = await tokenRequest();
    expect(faulted.status).toBe(503);
    expect(await faulted.json()).toMatchObject({
      error: expect.any(String),
      error_description: expect.any(String),
    });
    expect((await tokenRequest()).status).toBe(200);
  });

  it('applies to `count` requests and only to its endpoint', async () => {
    emu.fault({endpoint: 'jwks', status: 500, count: 2});
    expect((await tokenRequest()).status).toBe(200);
    expect((await fetch(emu.jwksUrl)).status).toBe(500);
    expect((await fetch(emu.jwksUrl)).status).toBe(500);
    expect((await fetch(emu.jwksUrl)).status).toBe(200);
  });

  it('answers a malformed body that does not parse', async () => {
    emu.fault({endpoint: 'all', malformed: true});
    const res = await fetch(emu.jwksUrl);
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow();
  });

  it('answers a custom status and body, keeping Metadata-Flavor on metadata endpoints', async () => {
    emu.fault({endpoint: 'metadata.identity', status: 429, body: 'slow down'});
    const res = await fetch(
      `${emu.url}/computeMetadata/v1/instance/service-accounts/default/identity?audience=a`,
      {headers: {'Metadata-Flavor': 'Google'}},
    );
    expect(res.status).toBe(429);
    expect(await res.text()).toBe('slow down');
    expect(res.headers.get('metadata-flavor')).toBe('Google');
  });

  it('delays the faulted endpoint only, without changing its answer, when only latencyMs is set', async () => {
    emu.fault({endpoint: 'jwks', latencyMs: 300});
    const order: string[] = [];
    const delayed = fetch(emu.jwksUrl).then((res) => {
      order.push('jwks');
      return res;
    });
    const prompt = fetch(`${emu.url}/.well-known/openid-configuration`).then((res) => {
      order.push('openid-configuration');
      return res;
    });
    const [slow, fast] = await Promise.all([delayed, prompt]);
    expect(order).toEqual(['openid-configuration', 'jwks']);
    expect(slow.status).toBe(200);
    expect(((await slow.json()) as {keys: unknown[]}).keys.length).toBeGreaterThan(0);
    expect(fast.status).toBe(200);
  });

  it('setLatency delays every answer', async () => {
    emu.setLatency(300);
    // The emulator's timer starts after this one, so with the latency in force it fires later.
    const probe = new Promise<string>((resolve) => setTimeout(() => resolve('pending'), 50));
    const answer = fetch(emu.jwksUrl).then((res) => {
      void res.body?.cancel();
      return `answered ${res.status}`;
    });
    expect(await Promise.race([answer, probe])).toBe('pending');
    expect(await answer).toBe('answered 200');
  });

  it('clearFaults drops pending faults', async () => {
    emu.fault({status: 500, count: 5});
    emu.clearFaults();
    expect((await fetch(emu.jwksUrl)).status).toBe(200);
  });

  it('is survived by google-auth-library, which retries a 503 from the token endpoint', async () => {
    const transporter = new gaxios.Gaxios({
      fetchImplementation: createGoogleFetch({emulatorHost: emu.host}) as typeof fetch,
    });
    const client = new JWT({
      email: key.email,
      key: key.json.private_key,
      scopes: [CLOUD_PLATFORM],
      transporter,
    });
    emu.resetCounts();
    emu.fault({endpoint: 'token', status: 503});
    const {token} = await client.getAccessToken();
    expect(token).toMatch(/^ya29\.emu-/);
    expect(emu.requests.byEndpoint.token).toBe(2);
  });

  it('adds headers to an injected answer (Retry-After on a 429)', async () => {
    emu.fault({endpoint: 'token', status: 429, headers: {'retry-after': '2'}});
    const res = await tokenRequest();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    emu.fault({endpoint: 'metadata.token', status: 503, headers: {'retry-after': '1'}});
    const metadata = await fetch(
      `${emu.url}/computeMetadata/v1/instance/service-accounts/default/token`,
      {headers: {'Metadata-Flavor': 'Google'}},
    );
    expect(metadata.status).toBe(503);
    expect(metadata.headers.get('retry-after')).toBe('1');
    expect(metadata.headers.get('metadata-flavor')).toBe('Google');
  });

  it('stalls: no answer until the client gives up, then the next request is answered', async () => {
    emu.fault({endpoint: 'jwks', stall: true});
    const error = await fetch(emu.jwksUrl, {signal: AbortSignal.timeout(200)}).catch(
      (e: unknown) => e,
    );
    expect((error as Error).name).toBe('TimeoutError');
    expect((await fetch(emu.jwksUrl)).status).toBe(200);
  });

  it('resets: the connection drops without an answer', async () => {
    emu.fault({endpoint: 'iam.generateIdToken', reset: true});
    const error = await fetch(
      `${emu.url}/v1/projects/-/serviceAccounts/${key.email}:generateIdToken`,
      {method: 'POST', body: '{}'},
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(String((error as {cause?: {code?: string}}).cause?.code)).toMatch(
      /ECONNRESET|UND_ERR_SOCKET/,
    );
  });

  it('rejects bad fault options with a TypeError naming the option', () => {
    expect(() => emu.fault({headers: {'bad name': 'x'}})).toThrow(/fault\.headers/);
    expect(() => emu.fault({stall: true, reset: true})).toThrow(/fault\.stall/);
    expect(() => emu.fault({reset: 'yes' as unknown as boolean})).toThrow(/fault\.reset/);
    expect(() => emu.fault({endpoint: 'nope' as 'token'})).toThrow(/fault\.endpoint/);
    expect(() => emu.fault({status: 42})).toThrow(/fault\.status/);
    expect(() => emu.fault({count: 0})).toThrow(/fault\.count/);
    expect(() => emu.fault({latencyMs: -1})).toThrow(/fault\.latencyMs/);
    expect(() => emu.setLatency(Number.NaN)).toThrow(TypeError);
  });
});

describe('requests', () => {
  it('counts every request, faulted and unknown ones included, until resetCounts', async () => {
    emu.resetCounts();
    emu.fault({endpoint: 'token', status: 500});
    await tokenRequest();
    await tokenRequest();
    await fetch(emu.jwksUrl);
    await fetch(`${emu.url}/.well-known/openid-configuration`);
    await fetch(`${emu.url}/no/such/path`);
    await postForm(`${emu.url}/v1/token`, {grant_type: 'x'});
    expect(emu.requests.total).toBe(6);
    expect(emu.requests.byEndpoint).toMatchObject({
      token: 2,
      jwks: 1,
      'openid-configuration': 1,
      sts: 1,
      'iam.generateIdToken': 0,
    });
    emu.resetCounts();
    expect(emu.requests.total).toBe(0);
    expect(Object.values(emu.requests.byEndpoint).every((n) => n === 0)).toBe(true);
  });
});
