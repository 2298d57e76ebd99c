import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';
import {CompactSign, generateKeyPair} from 'jose';
import type {CryptoKey} from 'jose';
import {OAuth2Client} from 'google-auth-library';
import {startGoogleEmulator} from '../../src/emulator/index.js';
import type {GoogleEmulator} from '../../src/emulator/index.js';
import {
  createIdTokenVerifier,
  IdTokenVerificationError,
  SIGNATURE_REMOVED_BY_GOOGLE,
} from '../../src/verify/index.js';
import type {VerifyGoogleIdTokenOptions} from '../../src/verify/index.js';
import {b64, signRaw} from './support/key-server.js';

const AUD = 'https://svc-abc.a.run.app';

let emulator: GoogleEmulator;
let foreignKey: CryptoKey;
let warmClient: OAuth2Client;

/** google-auth-library's verifier, pointed at the emulator's PEM certificates (what it reads on Node). */
function googleClient(): OAuth2Client {
  return new OAuth2Client({
    endpoints: {oauth2FederatedSignonPemCertsUrl: `${emulator.url}/oauth2/v1/certs`},
  });
}

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  ({privateKey: foreignKey} = await generateKeyPair('RS256'));
  warmClient = googleClient();
  await warmClient.getFederatedSignonCertsAsync();
});
afterAll(async () => {
  await emulator.close();
});

async function ours(
  token: string,
  options: Partial<VerifyGoogleIdTokenOptions> = {},
): Promise<string> {
  try {
    await createIdTokenVerifier({audience: AUD, jwksUrl: emulator.jwksUrl, ...options})(token);
    return 'accepted';
  } catch (error) {
    if (!(error instanceof IdTokenVerificationError)) throw error;
    return error.code;
  }
}

async function theirs(
  token: string,
  audience: string | string[] = AUD,
  client = warmClient,
): Promise<string> {
  try {
    await client.verifyIdToken({idToken: token, audience});
    return 'accepted';
  } catch {
    return 'rejected';
  }
}

const nowS = (): number => Math.floor(Date.now() / 1000);
const mint = (
  options: Partial<Parameters<GoogleEmulator['mintIdToken']>[0]> = {},
): Promise<string> => emulator.mintIdToken({audience: AUD, ...options});

function parts(token: string): [string, string, string] {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return [header, payload, signature];
}

interface Case {
  name: string;
  token: () => Promise<string>;
  audience?: string | string[];
  expected: string;
}

const cases: Case[] = [
  {name: 'a valid token', token: () => mint(), expected: 'accepted'},
  {name: 'an empty token', token: async () => '', expected: 'missing'},
  {name: 'a whitespace-only token', token: async () => ' \t ', expected: 'missing'},
  {
    name: 'issuer https://accounts.google.com',
    token: () => mint({claims: {iss: 'https://accounts.google.com'}}),
    expected: 'accepted',
  },
  {
    name: 'issuer accounts.google.com',
    token: () => mint({claims: {iss: 'accounts.google.com'}}),
    expected: 'accepted',
  },
  {
    name: 'an expired token',
    token: () => mint({issuedAt: nowS() - 7200, lifetimeSeconds: 3600}),
    expected: 'expired',
  },
  {
    name: 'a token expired within the tolerance',
    token: () => mint({issuedAt: nowS() - 3700, lifetimeSeconds: 3600}),
    expected: 'accepted',
  },
  {
    name: 'a token issued in the future beyond tolerance',
    token: () => mint({issuedAt: nowS() + 1200}),
    expected: 'not_yet_valid',
  },
  {
    name: 'a lifetime too long',
    token: () => mint({lifetimeSeconds: 2 * 86_400}),
    expected: 'lifetime_too_long',
  },
  {
    name: 'a wrong audience',
    token: () => mint({audience: 'https://other-xyz.a.run.app'}),
    expected: 'bad_audience',
  },
  {
    name: 'an audience list that contains the target',
    token: () => mint(),
    audience: ['https://other-xyz.a.run.app', AUD],
    expected: 'accepted',
  },
  {
    name: 'an aud claim that is a list',
    token: () => mint({claims: {aud: [AUD]}}),
    expected: 'bad_audience',
  },
  {
    name: 'a wrong issuer',
    token: () => mint({claims: {iss: 'https://evil.example.com'}}),
    expected: 'bad_issuer',
  },
  {
    name: 'alg none',
    token: async () =>
      `${b64({alg: 'none', typ: 'JWT', kid: emulator.currentSigningKeyId()})}.${parts(await mint())[1]}.`,
    expected: 'bad_signature',
  },
  {
    name: 'HS256 signed with the public key as the secret',
    token: async () => {
      const pem = (await fetch(`${emulator.url}/oauth2/v1/certs`).then((r) => r.json())) as Record<
        string,
        string
      >;
      const kid = emulator.currentSigningKeyId();
      const jwks = (await fetch(emulator.jwksUrl).then((r) => r.json())) as {
        keys: Array<{kid: string}>;
      };
      const secret = pem[kid] ?? JSON.stringify(jwks.keys.find((key) => key.kid === kid));
      const payload = Buffer.from(parts(await mint())[1], 'base64url');
      return new CompactSign(payload)
        .setProtectedHeader({alg: 'HS256', kid})
        .sign(new TextEncoder().encode(secret));
    },
    expected: 'bad_signature',
  },
  {
    name: 'RS256 by another key under a published kid',
    token: async () =>
      signRaw(
        {alg: 'RS256', typ: 'JWT', kid: emulator.currentSigningKeyId()},
        Buffer.from(parts(await mint())[1], 'base64url'),
        foreignKey,
      ),
    expected: 'bad_signature',
  },
  {
    name: 'an unknown kid',
    token: async () =>
      signRaw(
        {alg: 'RS256', typ: 'JWT', kid: 'not-published'},
        Buffer.from(parts(await mint())[1], 'base64url'),
        foreignKey,
      ),
    expected: 'unknown_key',
  },
  {
    name: 'a tampered payload',
    token: async () => {
      const [header, payload, signature] = parts(await mint());
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
        string,
        unknown
      >;
      return `${header}.${b64({...claims, email: 'admin@emulator-project.iam.gserviceaccount.com'})}.${signature}`;
    },
    expected: 'bad_signature',
  },
  {
    name: 'two segments',
    token: async () =>
      parts(await mint())
        .slice(0, 2)
        .join('.'),
    expected: 'malformed',
  },
  {name: 'four segments', token: async () => `${await mint()}.x`, expected: 'malformed'},
  {
    name: 'a header that is not JSON',
    token: async () => {
      const [, payload, signature] = parts(await mint());
      return `${b64('{not json')}.${payload}.${signature}`;
    },
    expected: 'malformed',
  },
  {
    name: 'a signature removed by Cloud Run (not trusted by default)',
    token: async () => {
      const [header, payload] = parts(await mint());
      return `${header}.${payload}.${SIGNATURE_REMOVED_BY_GOOGLE}`;
    },
    expected: 'bad_signature',
  },
];

describe('verifying emulator tokens, in agreement with google-auth-library', () => {
  for (const testCase of cases) {
    it(`${testCase.expected === 'accepted' ? 'accepts' : 'rejects'} ${testCase.name}`, async () => {
      const token = await testCase.token();
      const audience = testCase.audience ?? AUD;
      const ourResult = await ours(token, {audience});
      expect(ourResult).toBe(testCase.expected);
      expect(await theirs(token, audience)).toBe(
        ourResult === 'accepted' ? 'accepted' : 'rejected',
      );
    });
  }

  it('refuses an oversized token that google-auth-library would accept (a deliberate difference)', async () => {
    const token = await mint({claims: {padding: 'x'.repeat(9000)}});
    expect(await ours(token)).toBe('too_large');
    expect(await theirs(token)).toBe('accepted');
  });
});

describe('key rotation with the emulator', () => {
  it('verifies new tokens after one immediate refetch and old ones while their key is published', async () => {
    let clock = Date.now();
    const verify = createIdTokenVerifier({
      audience: AUD,
      jwksUrl: emulator.jwksUrl,
      now: () => clock,
    });
    const before = emulator.requests.byEndpoint.jwks;
    const old = await mint();
    const oldKid = emulator.currentSigningKeyId();
    await expect(verify(old)).resolves.toMatchObject({aud: AUD});
    expect(emulator.requests.byEndpoint.jwks - before).toBe(1);

    await emulator.rotateSigningKey();
    const rotated = await mint();
    // The new kid costs one refetch, right away: no false reject at a rotation.
    await expect(verify(rotated)).resolves.toMatchObject({aud: AUD});
    expect(emulator.requests.byEndpoint.jwks - before).toBe(2);
    await expect(verify(old)).resolves.toMatchObject({aud: AUD});
    expect(await theirs(rotated, AUD, googleClient())).toBe('accepted');
    expect(await theirs(old, AUD, googleClient())).toBe('accepted');

    emulator.retireSigningKey(oldKid);
    clock += 301_000;
    const cold = createIdTokenVerifier({
      audience: AUD,
      jwksUrl: emulator.jwksUrl,
      now: () => clock,
    });
    await expect(cold(old)).rejects.toMatchObject({code: 'unknown_key'});
    expect(await theirs(old, AUD, googleClient())).toBe('rejected');
    // The warm verifier answered `old` from its cache; once its keys refresh, it refuses it too.
    await vi.waitFor(
      async () => {
        await expect(verify(old)).rejects.toMatchObject({code: 'unknown_key'});
      },
      {timeout: 5000, interval: 20},
    );
    await expect(verify(rotated)).resolves.toMatchObject({aud: AUD});
  });
});

describe('the emulator JWKS endpoint down', () => {
  it('keeps verifying with cached keys (warm)', async () => {
    let clock = Date.now();
    const verify = createIdTokenVerifier({
      audience: AUD,
      jwksUrl: emulator.jwksUrl,
      now: () => clock,
    });
    await expect(verify(await mint())).resolves.toBeDefined();
    emulator.fault({endpoint: 'jwks', status: 503, count: 3});
    clock += 301_000;
    const before = emulator.requests.byEndpoint.jwks;
    await expect(verify(await mint({issuedAt: Math.floor(clock / 1000)}))).resolves.toBeDefined();
    expect(emulator.requests.byEndpoint.jwks - before).toBe(1);
    emulator.clearFaults();
  });

  it('fails closed with keys_unavailable when nothing is cached (cold), as google-auth-library does', async () => {
    emulator.fault({endpoint: 'jwks', status: 500, count: 10});
    const token = await mint();
    const verify = createIdTokenVerifier({
      audience: AUD,
      jwksUrl: emulator.jwksUrl,
      now: () => Date.now(),
    });
    await expect(verify(token)).rejects.toMatchObject({code: 'keys_unavailable'});
    expect(await theirs(token, AUD, googleClient())).toBe('rejected');
    emulator.clearFaults();
  });

  it('fails closed on a malformed JWKS body', async () => {
    emulator.fault({endpoint: 'jwks', malformed: true});
    const verify = createIdTokenVerifier({
      audience: AUD,
      jwksUrl: emulator.jwksUrl,
      now: () => Date.now(),
    });
    await expect(verify(await mint())).rejects.toMatchObject({code: 'keys_unavailable'});
    emulator.clearFaults();
  });
});
