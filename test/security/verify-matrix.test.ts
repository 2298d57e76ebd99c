/**
 * The verifier against the classic JWT attacks, for Google ID tokens (RS256) and IAP
 * assertions (ES256): each must be refused with the right code, and none may make the verifier
 * reach a URL the token names. Floods are bounded in count and run on a fake clock.
 */
import {randomBytes} from 'node:crypto';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {CompactSign} from 'jose';
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {
  createIapJwtVerifier,
  createIdTokenVerifier,
  googleIdTokenVerifier,
  IdTokenVerificationError,
  requireGoogleIdToken,
  SIGNATURE_REMOVED_BY_GOOGLE,
} from '../../src/verify/index.js';
import type {IdTokenVerificationCode} from '../../src/verify/index.js';
import {
  b64,
  createFixtureKey,
  iapClaims,
  idTokenClaims,
  pregenerateKeys,
  publicKeyPem,
  startKeyServer,
} from '../verify/support/key-server.js';
import type {FixtureKey, KeyServer} from '../verify/support/key-server.js';
import {listen, rawGet} from '../verify/support/http.js';
import {errorText, leakedSecrets} from '../tokens/sources/support.js';

const AUD = 'https://svc.example.com';
const IAP_AUD = '/projects/123456789012/global/backendServices/4242424242424242424';
const START = 1_900_000_000_000;

let google: KeyServer;
let iap: KeyServer;
let attacker: KeyServer;
/** Requests that reached the attacker's URL (the token named it in jku/x5u). */
let attackerHits = 0;
let attackerUrl: string;
let closeAttacker: () => Promise<void>;
let clock: number;
const nowS = (): number => Math.floor(clock / 1000);

beforeAll(async () => {
  pregenerateKeys(3);
  [google, iap, attacker] = await Promise.all([
    startKeyServer('RS256'),
    startKeyServer('ES256'),
    startKeyServer('RS256'),
  ]);
  const server = createServer((_req, res) => {
    attackerHits++;
    res.writeHead(200, {'content-type': 'application/json'}).end('{"keys":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;
  closeAttacker = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
});
beforeEach(() => {
  google.reset();
  iap.reset();
  clock = START;
});
afterAll(async () => {
  await Promise.all([google.close(), iap.close(), attacker.close(), closeAttacker()]);
});

const kinds = [
  {
    name: 'Google ID token (RS256)',
    keys: () => google,
    claims: (overrides: Record<string, unknown> = {}) => idTokenClaims(nowS(), overrides),
    verify: () => createIdTokenVerifier({audience: AUD, jwksUrl: google.jwksUrl, now: () => clock}),
    lifetime: 3600,
    tolerance: 300,
  },
  {
    name: 'IAP assertion (ES256)',
    keys: () => iap,
    claims: (overrides: Record<string, unknown> = {}) =>
      iapClaims(nowS(), {aud: IAP_AUD, ...overrides}),
    verify: () => createIapJwtVerifier({audience: IAP_AUD, jwksUrl: iap.jwksUrl, now: () => clock}),
    lifetime: 600,
    tolerance: 30,
  },
] as const;

async function codeOf(
  verify: (token: string) => Promise<unknown>,
  token: string,
): Promise<IdTokenVerificationCode | 'accepted'> {
  try {
    await verify(token);
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(IdTokenVerificationError);
    expect(leakedSecrets(errorText(error), [token])).toEqual([]);
    return (error as IdTokenVerificationError).code;
  }
}

async function hs256(
  claims: Record<string, unknown>,
  kid: string,
  secret: string,
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({alg: 'HS256', kid})
    .sign(new TextEncoder().encode(secret));
}

describe.each(kinds)('$name', (kind) => {
  const key = (): FixtureKey => kind.keys().keys[0] as FixtureKey;

  it('accepts the genuine article (the baseline for every refusal below)', async () => {
    expect(await codeOf(kind.verify(), await kind.keys().sign(kind.claims()))).toBe('accepted');
  });

  it('refuses alg none, with or without a signature', async () => {
    const claims = b64(kind.claims());
    for (const token of [
      `${b64({alg: 'none', typ: 'JWT'})}.${claims}.`,
      `${b64({alg: 'none', kid: key().kid})}.${claims}.`,
      `${b64({alg: 'none', kid: key().kid})}.${claims}.${b64('x')}`,
      `${b64({alg: 'NONE', kid: key().kid})}.${claims}.`,
    ]) {
      expect(await codeOf(kind.verify(), token)).toBe('bad_signature');
    }
    expect(kind.keys().requests).toBe(0);
  });

  it('refuses HS256 keyed with the public key (PEM, JWK, raw coordinates)', async () => {
    const secrets = [
      await publicKeyPem(key()),
      JSON.stringify(key().publicJwk),
      String(key().publicJwk.n ?? key().publicJwk.x),
    ];
    for (const secret of secrets) {
      expect(await codeOf(kind.verify(), await hs256(kind.claims(), key().kid, secret))).toBe(
        'bad_signature',
      );
    }
    expect(kind.keys().requests).toBe(0);
  });

  it('refuses a token that names or carries its own key (jku, x5u, jwk, x5c), never fetching it', async () => {
    attackerHits = 0;
    const own = attacker.keys[0] as FixtureKey;
    for (const header of [
      {jku: attackerUrl},
      {x5u: attackerUrl},
      {jwk: own.publicJwk},
      {x5c: ['MIIBfake']},
      {jku: attackerUrl, kid: key().kid},
    ]) {
      const token = await kind.keys().sign(kind.claims(), {key: key(), header});
      expect(await codeOf(kind.verify(), token), Object.keys(header).join()).toBe('bad_signature');
    }
    expect(attackerHits).toBe(0);
  });

  it('refuses a crit header, and an algorithm other than the configured one', async () => {
    const critical = await kind.keys().sign(kind.claims(), {header: {crit: ['b64'], b64: false}});
    expect(await codeOf(kind.verify(), critical)).toBe('malformed');
    const other = kind.keys() === google ? iap : google;
    expect(await codeOf(kind.verify(), await other.sign(kind.claims()))).toBe('bad_signature');
  });

  it('refuses an unknown issuer and a wrong audience', async () => {
    const keys = kind.keys();
    for (const iss of ['https://evil.example.com', 'https://accounts.google.com.evil.com', '']) {
      expect(await codeOf(kind.verify(), await keys.sign(kind.claims({iss})))).toMatch(
        /bad_issuer|malformed/,
      );
    }
    for (const aud of [
      'https://other.example.com',
      `${AUD}/`,
      [AUD],
      IAP_AUD.replace('4242', '4243'),
    ]) {
      expect(await codeOf(kind.verify(), await keys.sign(kind.claims({aud})))).toBe('bad_audience');
    }
  });

  it('refuses expired and future tokens beyond the clock tolerance', async () => {
    const keys = kind.keys();
    const past = nowS() - kind.lifetime - kind.tolerance - 1;
    const future = nowS() + kind.tolerance + 1;
    expect(
      await codeOf(
        kind.verify(),
        await keys.sign(kind.claims({iat: past, exp: past + kind.lifetime})),
      ),
    ).toBe('expired');
    expect(
      await codeOf(
        kind.verify(),
        await keys.sign(kind.claims({iat: future, exp: future + kind.lifetime})),
      ),
    ).toBe('not_yet_valid');
    expect(await codeOf(kind.verify(), await keys.sign(kind.claims({nbf: future})))).toBe(
      'not_yet_valid',
    );
  });

  it('refuses a stripped signature without a front that vouches for it', async () => {
    const [header, payload] = (await kind.keys().sign(kind.claims())).split('.');
    const stripped = `${header}.${payload}.${SIGNATURE_REMOVED_BY_GOOGLE}`;
    expect(await codeOf(kind.verify(), stripped)).toBe('bad_signature');
  });

  it('bounds a flood of made-up kids by the 30-second cooldown (1,000 tokens over 60 s)', async () => {
    const verify = kind.verify();
    await verify(await kind.keys().sign(kind.claims()));
    const flood = 1000;
    const refused: string[] = [];
    const signer = await createFixtureKey(kind.keys() === google ? 'RS256' : 'ES256');
    const template = await kind.keys().sign(kind.claims(), {key: signer, kid: 'x'});
    const [, payload, signature] = template.split('.');
    for (let i = 0; i < flood; i++) {
      clock = START + i * 60; // 1,000 tokens spread over 60 seconds
      const header = b64({alg: key().alg, typ: 'JWT', kid: randomBytes(8).toString('hex')});
      refused.push(await codeOf(verify, `${header}.${payload}.${signature}`));
    }
    expect(new Set(refused)).toEqual(new Set(['unknown_key']));
    // The first load, then at most one refetch per 30 s of the 60 s flood.
    expect(kind.keys().requests).toBeLessThanOrEqual(3);
  });
});

describe('a stripped signature at every entry that has no front to vouch for it', () => {
  it('createIdTokenVerifier, googleIdTokenVerifier and requireGoogleIdToken (front: none) refuse it', async () => {
    clock = Date.now();
    const [header, payload] = (await google.sign(idTokenClaims(nowS()))).split('.');
    const stripped = `${header}.${payload}.${SIGNATURE_REMOVED_BY_GOOGLE}`;
    const options = {audience: AUD, jwksUrl: google.jwksUrl};
    expect(await codeOf(createIdTokenVerifier(options), stripped)).toBe('bad_signature');
    await expect(googleIdTokenVerifier(options).verifyAccessToken(stripped)).rejects.toMatchObject({
      message: 'bad_signature',
    });
    const guard = requireGoogleIdToken(options);
    const server = await listen(async (req, res) => {
      if (await guard(req, res)) res.end('in');
    });
    try {
      for (const headers of <Record<string, string>[]>[
        {authorization: `Bearer ${stripped}`},
        {'x-serverless-authorization': `Bearer ${stripped}`},
      ]) {
        const res = await rawGet(server.url, headers);
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toContain('bad_signature');
      }
    } finally {
      await server.close();
    }
  });
});
