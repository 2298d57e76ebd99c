import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {createIdTokenVerifier, IdTokenVerificationError} from '../../src/verify/index.js';
import type {VerifyGoogleIdTokenOptions} from '../../src/verify/index.js';
import {idTokenClaims, pregenerateKeys, startKeyServer} from './support/key-server.js';
import type {KeyServer} from './support/key-server.js';

const AUD = 'https://svc.example.com';
const START = 1_900_000_000_000;

let server: KeyServer;
let clock: number;
let serial = 0;
const nowS = (): number => Math.floor(clock / 1000);

beforeAll(async () => {
  pregenerateKeys(3);
  server = await startKeyServer();
});
beforeEach(() => {
  server.reset();
  clock = START;
});
afterAll(async () => {
  await server.close();
});

function verifier(options: Partial<VerifyGoogleIdTokenOptions> = {}) {
  return createIdTokenVerifier({
    audience: AUD,
    jwksUrl: server.jwksUrl,
    now: () => clock,
    ...options,
  });
}

/** A distinct valid token (the verified-token cache never answers for it). */
function freshToken(options: Parameters<KeyServer['sign']>[1] = {}): Promise<string> {
  return server.sign(idTokenClaims(nowS(), {jti: `t${++serial}`}), options);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(IdTokenVerificationError);
    return (error as IdTokenVerificationError).code;
  }
  return 'accepted';
}

describe('JWKS caching', () => {
  it('fetches the keys once and reuses them while max-age lasts', async () => {
    server.cacheControl = 'public, max-age=60';
    const verify = verifier();
    await verify(await freshToken());
    clock += 59_000;
    await verify(await freshToken());
    expect(server.requests).toBe(1);
    clock += 2_000;
    await verify(await freshToken());
    expect(server.requests).toBe(2);
  });

  it('subtracts Age from max-age', async () => {
    server.cacheControl = 'public, max-age=120';
    server.extraHeaders = {age: '60'};
    const verify = verifier();
    await verify(await freshToken());
    clock += 59_000;
    await verify(await freshToken());
    expect(server.requests).toBe(1);
    clock += 2_000;
    await verify(await freshToken());
    expect(server.requests).toBe(2);
  });

  it('falls back to 5 minutes without Cache-Control', async () => {
    server.cacheControl = undefined;
    const verify = verifier();
    await verify(await freshToken());
    clock += 299_000;
    await verify(await freshToken());
    expect(server.requests).toBe(1);
    clock += 2_000;
    await verify(await freshToken());
    expect(server.requests).toBe(2);
  });

  it('shares one request among concurrent cold verifications', async () => {
    const verify = verifier();
    const tokens = await Promise.all(Array.from({length: 10}, () => freshToken()));
    const codes = await Promise.all(tokens.map((token) => codeOf(verify(token))));
    expect(codes.every((code) => code === 'accepted')).toBe(true);
    expect(server.requests).toBe(1);
  });

  it('shares the key set per jwksUrl between verifiers of a process', async () => {
    const real = {iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600};
    const first = createIdTokenVerifier({audience: AUD, jwksUrl: server.jwksUrl});
    const second = createIdTokenVerifier({
      audience: [AUD, 'https://b.example.com'],
      jwksUrl: server.jwksUrl,
    });
    await first(await server.sign(idTokenClaims(real.iat, {...real, jti: 'a'})));
    await second(await server.sign(idTokenClaims(real.iat, {...real, jti: 'b'})));
    expect(server.requests).toBe(1);
  });
});

describe('key rotation and unknown kid', () => {
  it('refetches at once for a new kid, then verifies old and new tokens', async () => {
    const verify = verifier();
    const old = await freshToken();
    await verify(old);
    const next = await server.rotate();
    const rotated = await freshToken({key: next});
    // Right after the regular fetch: the rotation still costs one refetch, and no reject.
    expect(await codeOf(verify(rotated))).toBe('accepted');
    expect(server.requests).toBe(2);
    expect(await codeOf(verify(await freshToken({key: server.keys[1]})))).toBe('accepted');
    expect(await codeOf(verify(await freshToken({key: next})))).toBe('accepted');
    expect(server.requests).toBe(2);
  });

  it('refetches for unknown kids at most once per 30 seconds', async () => {
    const verify = verifier();
    await verify(await freshToken());
    expect(await codeOf(verify(await freshToken({kid: 'made-up-1'})))).toBe('unknown_key');
    expect(server.requests).toBe(2);
    const next = await server.rotate();
    clock += 29_000;
    expect(await codeOf(verify(await freshToken({key: next})))).toBe('unknown_key');
    expect(server.requests).toBe(2);
    clock += 1_000;
    expect(await codeOf(verify(await freshToken({key: next})))).toBe('accepted');
    expect(server.requests).toBe(3);
  });

  it('does not let unknown kids hammer the endpoint', async () => {
    const verify = verifier();
    await verify(await freshToken());
    clock += 30_000;
    for (let i = 0; i < 20; i++) {
      expect(await codeOf(verify(await freshToken({kid: `forged-${i}`})))).toBe('unknown_key');
    }
    expect(server.requests).toBe(2);
  });

  it('shares one refetch among concurrent tokens with the new kid', async () => {
    const verify = verifier();
    await verify(await freshToken());
    const next = await server.rotate();
    clock += 30_000;
    const tokens = await Promise.all(Array.from({length: 8}, () => freshToken({key: next})));
    const codes = await Promise.all(tokens.map((token) => codeOf(verify(token))));
    expect(codes).toEqual(Array(8).fill('accepted'));
    expect(server.requests).toBe(2);
  });
});

describe('JWKS endpoint failures', () => {
  it('keeps verifying with cached keys when the endpoint is down (warm)', async () => {
    const verify = verifier();
    await verify(await freshToken());
    server.failStatus = 503;
    clock += 301_000;
    expect(await codeOf(verify(await freshToken()))).toBe('accepted');
    expect(server.requests).toBe(2);
    clock += 1_000;
    expect(await codeOf(verify(await freshToken()))).toBe('accepted');
    expect(server.requests).toBe(2);
  });

  it('fails closed with keys_unavailable when nothing is cached (cold), backs off, then recovers', async () => {
    const verify = verifier();
    server.failStatus = 500;
    const token = await freshToken();
    expect(await codeOf(verify(token))).toBe('keys_unavailable');
    expect(await codeOf(verify(token))).toBe('keys_unavailable');
    expect(server.requests).toBe(1);
    server.failStatus = undefined;
    clock += 5_000;
    expect(await codeOf(verify(token))).toBe('accepted');
    expect(server.requests).toBe(2);
  });

  it('keeps the lower error as cause and names the status, never a token', async () => {
    server.failStatus = 502;
    const token = await freshToken();
    const error = await verifier()(token).catch(
      (caught: unknown) => caught as IdTokenVerificationError,
    );
    expect(error).toBeInstanceOf(IdTokenVerificationError);
    expect(error.code).toBe('keys_unavailable');
    expect(String((error.cause as Error).message)).toContain('502');
  });

  it('does not follow redirects', async () => {
    server.failStatus = 302;
    expect(await codeOf(verifier()(await freshToken()))).toBe('keys_unavailable');
    expect(server.requests).toBe(1);
  });

  it('treats a body without usable RS256 keys as a failure', async () => {
    const bodies = [
      'not json',
      JSON.stringify({keys: []}),
      JSON.stringify({keys: [{kty: 'EC', kid: 'x', crv: 'P-256'}]}),
    ];
    for (const body of bodies) {
      const verify = verifier({fetch: async () => new Response(body, {status: 200})});
      expect(await codeOf(verify(await freshToken()))).toBe('keys_unavailable');
    }
  });

  it('aborts a request that takes longer than jwksTimeoutMs, with redirect: manual', async () => {
    const seen: RequestInit[] = [];
    const hanging = (_input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      seen.push(init ?? {});
      return new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    };
    const error = await verifier({fetch: hanging, jwksTimeoutMs: 20})(await freshToken()).catch(
      (caught: unknown) => caught as IdTokenVerificationError,
    );
    expect(error.code).toBe('keys_unavailable');
    expect((error.cause as Error).name).toBe('TimeoutError');
    expect(seen[0]?.redirect).toBe('manual');
  });
});
