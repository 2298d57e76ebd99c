/**
 * The verifier under key rotation and key-set outages (issue 14, server side), with a fake
 * clock: a valid token is never refused while valid key material exists, and verification
 * fails closed when none does.
 */
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {createIdTokenVerifier, IdTokenVerificationError} from '../../src/verify/index.js';
import type {IdTokenVerifier} from '../../src/verify/index.js';
import {idTokenClaims, pregenerateKeys, startKeyServer} from './support/key-server.js';
import type {FixtureKey, KeyServer} from './support/key-server.js';

const AUD = 'https://svc.example.com';
const START = 1_900_000_000_000;
const MAX_AGE_S = 300;
const TOKEN_LIFETIME_S = 3600;

let server: KeyServer;
let clock: number;
let serial = 0;
const nowS = (): number => Math.floor(clock / 1000);

beforeAll(async () => {
  pregenerateKeys(8);
  server = await startKeyServer();
});
beforeEach(() => {
  server.reset();
  server.cacheControl = `public, max-age=${MAX_AGE_S}`;
  clock = START;
});
afterAll(async () => {
  await server.close();
});

function verifier(): IdTokenVerifier {
  // Each verifier keeps its own key set (injected clock) and no verified-token cache, so every
  // call goes through the key set.
  return createIdTokenVerifier({
    audience: AUD,
    jwksUrl: server.jwksUrl,
    now: () => clock,
    verifiedCacheMaxEntries: 0,
  });
}

/** A token signed now (fake clock) by `key`. */
function tokenBy(key: FixtureKey): Promise<string> {
  return server.sign(idTokenClaims(nowS(), {jti: `t${++serial}`}), {key});
}

async function outcome(verify: IdTokenVerifier, token: string): Promise<string> {
  try {
    await verify(token);
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(IdTokenVerificationError);
    return (error as IdTokenVerificationError).code;
  }
}

/**
 * Advances the fake clock by `seconds` in steps of `step`, running `each` with the elapsed
 * seconds at every step.
 */
async function run(
  seconds: number,
  step: number,
  each: (elapsed: number) => Promise<void>,
): Promise<void> {
  for (let elapsed = step; elapsed <= seconds; elapsed += step) {
    clock += step * 1000;
    await each(elapsed);
  }
}

describe('signing-key rotation', () => {
  it("Google's way (publish, sign, retire after the old tokens expire): 0 false rejects over 3 hours", async () => {
    const verify = verifier();
    // Tokens issued so far and still valid, by signing key; each is re-presented until it expires.
    const live: Array<{token: string; exp: number}> = [];
    const refused: string[] = [];
    let rotations = 0;
    await run(3 * 3600, 60, async (elapsed) => {
      if (elapsed % 3600 === 0) {
        // Every hour: a new key is published and signs from now on; the key before the
        // previous one (whose tokens have all expired) is retired.
        await server.rotate();
        rotations++;
        const retiring = server.keys[2];
        if (retiring) server.retire(retiring.kid);
      }
      const current = server.keys[0] as FixtureKey;
      live.push({token: await tokenBy(current), exp: nowS() + TOKEN_LIFETIME_S});
      for (let i = live.length - 1; i >= 0; i--) {
        const entry = live[i] as {token: string; exp: number};
        if (entry.exp <= nowS()) {
          live.splice(i, 1);
          continue;
        }
        if (i % 5 !== live.length % 5) continue; // a sample of the live tokens each step
        const result = await outcome(verify, entry.token);
        if (result !== 'accepted') refused.push(result);
      }
    });
    expect(rotations).toBe(3);
    expect(refused).toEqual([]);
    // Bounded: one request per max-age window, plus at most one per rotation.
    expect(server.requests).toBeLessThanOrEqual((3 * 3600) / MAX_AGE_S + 1 + rotations);
  });

  it('a swap (new key in, old key out at once): tokens of the old key verify while its last listing is fresh', async () => {
    const verify = verifier();
    const old = server.keys[0] as FixtureKey;
    expect(await outcome(verify, await tokenBy(old))).toBe('accepted');
    clock += 100_000;
    const signedBeforeSwap = await tokenBy(old);
    const next = await server.rotate();
    server.retire(old.kid);
    // The new kid causes one refetch; the old key is no longer listed but was vouched for until START + 300 s.
    expect(await outcome(verify, await tokenBy(next))).toBe('accepted');
    expect(server.requests).toBe(2);
    expect(await outcome(verify, signedBeforeSwap)).toBe('accepted');
    clock = START + 299_000;
    expect(await outcome(verify, signedBeforeSwap)).toBe('accepted');
    // Past the max-age of the last response that listed it, the publisher's withdrawal holds.
    clock = START + 301_000;
    expect(await outcome(verify, signedBeforeSwap)).toBe('unknown_key');
    expect(await outcome(verify, await tokenBy(next))).toBe('accepted');
  });

  it('many concurrent tokens of a new key share one refetch', async () => {
    const verify = verifier();
    await outcome(verify, await tokenBy(server.keys[0] as FixtureKey));
    const next = await server.rotate();
    const tokens = await Promise.all(Array.from({length: 50}, () => tokenBy(next)));
    const results = await Promise.all(tokens.map((token) => outcome(verify, token)));
    expect(results).toEqual(Array(50).fill('accepted'));
    expect(server.requests).toBe(2);
  });
});

describe('key-set outages', () => {
  it('an outage shorter than max-age causes no rejects and at most one attempt per 5 seconds', async () => {
    const verify = verifier();
    const key = server.keys[0] as FixtureKey;
    expect(await outcome(verify, await tokenBy(key))).toBe('accepted');
    // Down from just before the keys go stale until 0.95 x max-age later.
    clock += (MAX_AGE_S - 10) * 1000;
    server.failStatus = 503;
    const refused: string[] = [];
    const outageSeconds = Math.floor(MAX_AGE_S * 0.95);
    await run(outageSeconds, 2, async () => {
      const result = await outcome(verify, await tokenBy(key));
      if (result !== 'accepted') refused.push(result);
    });
    expect(refused).toEqual([]);
    expect(server.requests - 1).toBeLessThanOrEqual(Math.ceil(outageSeconds / 5) + 1);
    // Back up, with a key it has not seen: the token waits for the refresh, which succeeds.
    server.failStatus = undefined;
    clock += 5_000;
    const next = await server.rotate();
    expect(await outcome(verify, await tokenBy(next))).toBe('accepted');
    const afterRecovery = server.requests;
    clock += 60_000;
    expect(await outcome(verify, await tokenBy(next))).toBe('accepted');
    expect(await outcome(verify, await tokenBy(key))).toBe('accepted');
    expect(server.requests).toBe(afterRecovery);
  });

  it('fails closed once no valid key material remains, and recovers with the endpoint', async () => {
    const verify = verifier();
    const key = server.keys[0] as FixtureKey;
    expect(await outcome(verify, await tokenBy(key))).toBe('accepted');
    server.failStatus = 500;
    clock += (2 * MAX_AGE_S - 1) * 1000;
    expect(await outcome(verify, await tokenBy(key))).toBe('accepted');
    clock += 2_000;
    expect(await outcome(verify, await tokenBy(key))).toBe('keys_unavailable');
    server.failStatus = undefined;
    clock += 5_000;
    expect(await outcome(verify, await tokenBy(key))).toBe('accepted');
  });

  it('a key the publisher withdrew gets no outage grace', async () => {
    const verify = verifier();
    const old = server.keys[0] as FixtureKey;
    expect(await outcome(verify, await tokenBy(old))).toBe('accepted');
    const next = await server.rotate();
    server.retire(old.kid);
    expect(await outcome(verify, await tokenBy(next))).toBe('accepted');
    server.failStatus = 503;
    clock += (MAX_AGE_S + 10) * 1000;
    expect(await outcome(verify, await tokenBy(old))).toBe('unknown_key');
    expect(await outcome(verify, await tokenBy(next))).toBe('accepted');
  });

  it('a cold verifier with the endpoint down fails closed with keys_unavailable', async () => {
    server.failStatus = 503;
    expect(await outcome(verifier(), await tokenBy(server.keys[0] as FixtureKey))).toBe(
      'keys_unavailable',
    );
  });
});
