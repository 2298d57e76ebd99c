/**
 * googleAuthFetch end to end: ID tokens from the emulator, checked by the Cloud Run front
 * emulation, in front of a container that records what reaches it. Header modes, the
 * origin rule, redirects and the 401 retry.
 */
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import type {AuthCredential} from '../../src/credentials/types.js';
import {startCloudRunGateway, startGoogleEmulator} from '../../src/emulator/index.js';
import type {
  CloudRunGateway,
  EmulatorServiceAccountKey,
  GoogleEmulator,
} from '../../src/emulator/index.js';
import {explainAuthFailure} from '../../src/http/explain-auth-failure.js';
import {googleAuthFetch} from '../../src/http/google-auth-fetch.js';
import type {GoogleAuthFetchOptions} from '../../src/http/google-auth-fetch.js';
import {googleAuthProvider} from '../../src/http/google-auth-provider.js';
import {decodeJwtPayload} from '../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {startLoopback} from '../http/support/loopback.js';
import type {Loopback} from '../http/support/loopback.js';
import {testClock, useEmulatorEnv} from '../mcp/support/cloud-run-stack.js';

const clock = testClock();
const IAP_CLIENT_ID = '1234567890-iap.apps.googleusercontent.com';
let emulator: GoogleEmulator;
let container: Loopback;
let spy: Loopback;
let front: CloudRunGateway;
let iap: CloudRunGateway;
let key: EmulatorServiceAccountKey;
let credential: AuthCredential;
let restoreEnv: () => void;

beforeAll(async () => {
  emulator = await startGoogleEmulator({now: clock.now});
  container = await startLoopback();
  spy = await startLoopback();
  front = await startCloudRunGateway({
    upstream: container.origin,
    jwksUrl: emulator.jwksUrl,
    now: clock.now,
  });
  iap = await startCloudRunGateway({
    upstream: container.origin,
    jwksUrl: emulator.jwksUrl,
    now: clock.now,
    mode: 'iap',
    audiences: [IAP_CLIENT_ID],
  });
  restoreEnv = useEmulatorEnv(emulator);
  key = await emulator.createServiceAccountKey('caller@emulator-project.iam.gserviceaccount.com');
  credential = {
    authType: 'serviceAccount',
    serviceAccount: {
      useIdToken: true,
      serviceAccountCredential: {
        type: 'service_account',
        clientEmail: key.json.client_email!,
        privateKey: key.json.private_key!,
      },
    },
  };
});
afterAll(async () => {
  restoreEnv();
  await Promise.all([front.close(), iap.close()]);
  await Promise.all([container.close(), spy.close(), emulator.close()]);
});
beforeEach(() => {
  emulator.resetCounts();
  front.resetStats();
});
afterEach(() => {
  container.seen.length = 0;
  spy.seen.length = 0;
  container.handler = (_req, res) => void res.end('ok');
});

function authFetch(options: Partial<GoogleAuthFetchOptions> = {}) {
  return googleAuthFetch({authCredential: credential, cache: new TokenCache(), ...options});
}

function claimsOf(header: string | string[] | undefined) {
  return decodeJwtPayload(String(header).replace(/^Bearer /, ''));
}

describe('header modes through the front', () => {
  it('authorization: the front checks it and the container gets it with the signature removed', async () => {
    const res = await authFetch()(`${front.url}/mcp`, {method: 'POST', body: '{}'});
    expect(res.status).toBe(200);
    const forwarded = String(container.seen[0]?.headers.authorization);
    expect(forwarded).toMatch(/\.SIGNATURE_REMOVED_BY_GOOGLE$/);
    expect(claimsOf(forwarded)).toMatchObject({aud: front.url, email: key.email});
  });

  it("x-serverless-authorization: the caller's own Authorization reaches the container untouched", async () => {
    const res = await authFetch({header: 'x-serverless-authorization'})(`${front.url}/api`, {
      headers: {authorization: 'Bearer app-level-token'},
    });
    expect(res.status).toBe(200);
    const seen = container.seen[0]!;
    expect(seen.headers.authorization).toBe('Bearer app-level-token');
    expect(String(seen.headers['x-serverless-authorization'])).toMatch(
      /\.SIGNATURE_REMOVED_BY_GOOGLE$/,
    );
    expect(claimsOf(seen.headers['x-serverless-authorization'])?.email).toBe(key.email);
  });

  it('proxy-authorization: IAP accepts an ID token for its OAuth client id', async () => {
    const res = await authFetch({header: 'proxy-authorization', audience: IAP_CLIENT_ID})(
      `${iap.url}/`,
    );
    expect(res.status).toBe(200);
    expect(container.seen[0]?.headers['x-goog-authenticated-user-email']).toBe(
      `accounts.google.com:${key.email}`,
    );
    expect(iap.stats.forwarded).toBe(1);
  });

  it("IAP refuses the default audience (the URL's origin): it wants the client id", async () => {
    const res = await authFetch({header: 'proxy-authorization'})(`${iap.url}/`);
    expect(res.status).toBe(401);
    expect(explainAuthFailure(res)).toContain('IAP wants its OAuth client id');
  });

  it('without a token the front answers 403 and the explanation says none reached it', async () => {
    const res = await fetch(`${front.url}/mcp`);
    expect(res.status).toBe(403);
    expect(
      explainAuthFailure(res, {
        url: front.url,
        credentialSent: false,
        withheldReason: 'plain fetch',
      }),
    ).toContain('No token reached the front');
  });
});

describe('the token goes only to the target origin', () => {
  it('sends nothing to another origin', async () => {
    const f = authFetch({targetUrl: `${front.url}/mcp`});
    await f(`${spy.origin}/collect`, {headers: {'x-kept': '1'}});
    expect(spy.seen[0]?.headers.authorization).toBeUndefined();
    expect(spy.seen[0]?.headers['x-kept']).toBe('1');
    expect(emulator.requests.byEndpoint.token).toBe(0);
  });

  it('follows a same-origin redirect with the token, through the front twice', async () => {
    container.handler = (req, res) => {
      if (req.path === '/old') res.writeHead(308, {location: '/new'}).end();
      else res.end(`${req.method} ${req.path} ${req.body}`);
    };
    const res = await authFetch()(`${front.url}/old`, {method: 'POST', body: 'payload'});
    expect(await res.text()).toBe('POST /new payload');
    expect(front.stats.forwarded).toBe(2);
    expect(emulator.requests.byEndpoint.token).toBe(1);
  });

  it('drops the token on a redirect to another origin', async () => {
    container.handler = (_req, res) =>
      void res.writeHead(302, {location: `${spy.origin}/landing`}).end();
    const res = await authFetch({header: 'x-serverless-authorization'})(`${front.url}/go`, {
      headers: {authorization: 'Bearer app-level-token'},
    });
    expect(res.status).toBe(200);
    const landed = spy.seen[0]!;
    expect(landed.path).toBe('/landing');
    expect(landed.headers.authorization).toBeUndefined();
    expect(landed.headers['x-serverless-authorization']).toBeUndefined();
  });
});

describe('401 and 403 from the front', () => {
  it('a revoked token is refetched once and the request succeeds', async () => {
    let sent = '';
    const f = authFetch({
      fetch: (input, init) => {
        sent = new Headers(init?.headers).get('authorization') ?? '';
        return fetch(input, init);
      },
    });
    expect((await f(`${front.url}/a`)).status).toBe(200);
    front.revoke(sent.replace('Bearer ', ''));
    clock.advance(1000); // a token minted in the same second with the same claims would be the same text
    const res = await f(`${front.url}/b`, {method: 'POST', body: 'replayed'});
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(front.stats.revoked).toBe(1);
    expect(emulator.requests.byEndpoint.token).toBe(2);
    expect(container.seen.map((s) => s.body)).toEqual(['', 'replayed']);
  });

  it('a non-invoker gets the 403 once, not retried, with the role to grant', async () => {
    const strict = await startCloudRunGateway({
      upstream: container.origin,
      jwksUrl: emulator.jwksUrl,
      now: clock.now,
      invokers: ['someone-else@emulator-project.iam.gserviceaccount.com'],
    });
    try {
      const res = await authFetch()(`${strict.url}/mcp`);
      expect(res.status).toBe(403);
      expect(strict.stats.requests).toBe(1);
      expect(strict.stats.forbidden).toBe(1);
      expect(explainAuthFailure(res)).toContain(`${key.email} lacks roles/run.invoker`);
    } finally {
      await strict.close();
    }
  });
});

describe('googleAuthProvider against the front', () => {
  it('hands out a token the front accepts, and a fresh one after onUnauthorized', async () => {
    const provider = googleAuthProvider({
      authCredential: credential,
      targetUrl: `${front.url}/mcp`,
      cache: new TokenCache(),
    });
    const first = await provider.token();
    const call = async (token: string) =>
      (await fetch(`${front.url}/x`, {headers: {authorization: `Bearer ${token}`}})).status;
    expect(await call(first)).toBe(200);
    front.revoke(first);
    expect(await call(await provider.token())).toBe(401);
    clock.advance(1000);
    await provider.onUnauthorized();
    const second = await provider.token();
    expect(second).not.toBe(first);
    expect(await call(second)).toBe(200);
  });
});
