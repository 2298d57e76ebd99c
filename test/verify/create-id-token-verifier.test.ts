import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {CompactSign} from 'jose';
import {
  createIdTokenVerifier,
  IdTokenVerificationError,
  SIGNATURE_REMOVED_BY_GOOGLE,
  verifyGoogleIdToken,
} from '../../src/verify/index.js';
import type {IdTokenVerificationCode, VerifyGoogleIdTokenOptions} from '../../src/verify/index.js';
import {
  b64,
  createFixtureKey,
  idTokenClaims,
  pregenerateKeys,
  publicKeyPem,
  signRaw,
  startKeyServer,
} from './support/key-server.js';
import type {KeyServer} from './support/key-server.js';
import {errorText, leakedSecrets} from '../tokens/sources/support.js';

const AUD = 'https://svc.example.com';
const START = 1_900_000_000_000;

let server: KeyServer;
let clock: number;
const nowS = (): number => Math.floor(clock / 1000);

beforeAll(async () => {
  pregenerateKeys(4);
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

/** The rejection of `promise`, checked to be ours and to leave the token out of its text. */
async function rejection(
  promise: Promise<unknown>,
  token: string,
): Promise<IdTokenVerificationError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(IdTokenVerificationError);
  const error = caught as IdTokenVerificationError;
  // Message, stack, the cause chain and the inspected error: no piece of the token.
  if (token.trim().length >= 20) expect(leakedSecrets(errorText(error), [token])).toEqual([]);
  return error;
}

async function expectCode(
  token: string,
  code: IdTokenVerificationCode,
  options: Partial<VerifyGoogleIdTokenOptions> = {},
) {
  const error = await rejection(verifier(options)(token), token);
  expect(error.code).toBe(code);
  return error;
}

describe('createIdTokenVerifier: accepting', () => {
  it('accepts a valid token and returns typed, frozen claims', async () => {
    const token = await server.sign(idTokenClaims(nowS()));
    const claims = await verifier()(token);
    expect(claims).toMatchObject({
      iss: 'https://accounts.google.com',
      aud: AUD,
      sub: '104857600000000000001',
      email: 'caller@proj.iam.gserviceaccount.com',
      email_verified: true,
      iat: nowS(),
      exp: nowS() + 3600,
    });
    expect(Object.isFrozen(claims)).toBe(true);
  });

  it('accepts both issuer forms Google uses', async () => {
    const verify = verifier();
    for (const iss of ['https://accounts.google.com', 'accounts.google.com']) {
      const token = await server.sign(idTokenClaims(nowS(), {iss}));
      await expect(verify(token)).resolves.toMatchObject({iss});
    }
  });

  it('accepts a token whose aud is one of a configured audience list', async () => {
    const token = await server.sign(idTokenClaims(nowS()));
    await expect(
      verifier({audience: ['https://other.example.com', AUD]})(token),
    ).resolves.toMatchObject({aud: AUD});
  });

  it('accepts tokens within the clock tolerance on both sides', async () => {
    const verify = verifier();
    const justExpired = await server.sign(idTokenClaims(nowS() - 3600 - 299));
    const slightlyAhead = await server.sign(idTokenClaims(nowS() + 299));
    await expect(verify(justExpired)).resolves.toBeDefined();
    await expect(verify(slightlyAhead)).resolves.toBeDefined();
  });

  it('verifyGoogleIdToken verifies with the same rules', async () => {
    const options = {audience: AUD, jwksUrl: server.jwksUrl, now: () => clock};
    const good = await server.sign(idTokenClaims(nowS()));
    const bad = await server.sign(idTokenClaims(nowS(), {aud: 'https://evil.example.com'}));
    await expect(verifyGoogleIdToken(good, options)).resolves.toMatchObject({aud: AUD});
    expect((await rejection(verifyGoogleIdToken(bad, options), bad)).code).toBe('bad_audience');
  });
});

describe('createIdTokenVerifier: claim rejections', () => {
  it('rejects an expired token', async () => {
    const token = await server.sign(idTokenClaims(nowS() - 3600 - 301));
    const error = await expectCode(token, 'expired');
    expect(error.message).toContain('exp');
  });

  it('rejects a token issued in the future beyond the tolerance', async () => {
    const token = await server.sign(idTokenClaims(nowS() + 301));
    const error = await expectCode(token, 'not_yet_valid');
    expect(error.message).toContain('iat');
  });

  it('rejects a token whose nbf is in the future', async () => {
    const token = await server.sign(idTokenClaims(nowS(), {nbf: nowS() + 600}));
    await expectCode(token, 'not_yet_valid');
  });

  it('rejects a lifetime longer than the maximum', async () => {
    const day = await server.sign(idTokenClaims(nowS(), {exp: nowS() + 86_401}));
    await expectCode(day, 'lifetime_too_long');
    const hour = await server.sign(idTokenClaims(nowS()));
    await expectCode(hour, 'lifetime_too_long', {maxTokenLifetimeSeconds: 600});
  });

  it('rejects a wrong audience, and an aud list even when it names this service', async () => {
    await expectCode(
      await server.sign(idTokenClaims(nowS(), {aud: 'https://svc.example.com/'})),
      'bad_audience',
    );
    await expectCode(await server.sign(idTokenClaims(nowS(), {aud: [AUD]})), 'bad_audience');
    await expectCode(await server.sign(idTokenClaims(nowS())), 'bad_audience', {
      audience: ['https://a.example.com', 'https://b.example.com'],
    });
  });

  it('rejects a wrong issuer', async () => {
    const token = await server.sign(idTokenClaims(nowS(), {iss: 'https://evil.example.com'}));
    const error = await expectCode(token, 'bad_issuer');
    expect(error.message).not.toContain('evil');
  });

  it('rejects a token missing a required claim as malformed', async () => {
    for (const claim of ['iss', 'sub', 'iat', 'exp']) {
      const claims = idTokenClaims(nowS());
      delete claims[claim];
      const error = await expectCode(await server.sign(claims), 'malformed');
      expect(error.message).toContain(claim);
    }
    await expectCode(
      await server.sign(idTokenClaims(nowS(), {exp: String(nowS() + 60)})),
      'malformed',
    );
  });
});

describe('createIdTokenVerifier: forged and broken tokens', () => {
  it('rejects alg none', async () => {
    const token = `${b64({alg: 'none', typ: 'JWT'})}.${b64(idTokenClaims(nowS()))}.`;
    await expectCode(token, 'bad_signature');
    const withKid = `${b64({alg: 'none', kid: server.keys[0]?.kid})}.${b64(idTokenClaims(nowS()))}.`;
    await expectCode(withKid, 'bad_signature');
  });

  it('rejects HS256 signed with the public key as the secret', async () => {
    const key = server.keys[0];
    if (!key) throw new Error('no key');
    for (const secret of [await publicKeyPem(key), JSON.stringify(key.publicJwk)]) {
      const token = await new CompactSign(
        new TextEncoder().encode(JSON.stringify(idTokenClaims(nowS()))),
      )
        .setProtectedHeader({alg: 'HS256', kid: key.kid})
        .sign(new TextEncoder().encode(secret));
      await expectCode(token, 'bad_signature');
    }
  });

  it('rejects RS256 signed by another key under a published kid', async () => {
    const other = await createFixtureKey();
    const token = await server.sign(idTokenClaims(nowS()), {key: other, kid: server.keys[0]?.kid});
    await expectCode(token, 'bad_signature');
  });

  it('rejects an unknown kid and a missing kid', async () => {
    const other = await createFixtureKey();
    await expectCode(await server.sign(idTokenClaims(nowS()), {key: other}), 'unknown_key');
    await expectCode(await server.sign(idTokenClaims(nowS()), {kid: null}), 'unknown_key');
  });

  it('rejects a tampered payload', async () => {
    const token = await server.sign(
      idTokenClaims(nowS(), {email: 'caller@proj.iam.gserviceaccount.com'}),
    );
    const [header, , signature] = token.split('.');
    const forged = `${header}.${b64(idTokenClaims(nowS(), {email: 'admin@proj.iam.gserviceaccount.com'}))}.${signature}`;
    await expectCode(forged, 'bad_signature');
  });

  it('rejects malformed segments', async () => {
    const good = await server.sign(idTokenClaims(nowS()));
    const [header = '', payload = '', signature = ''] = good.split('.');
    const cases = [
      'not-a-jwt',
      `${header}.${payload}`,
      `${good}.extra`,
      `.${payload}.${signature}`,
      `${header}..${signature}`,
      `${header}=.${payload}.${signature}`,
      `${header}.${payload}+.${signature}`,
      `${header}.${payload}.${signature}/`,
      `${b64('not json')}.${payload}.${signature}`,
      `${b64([1, 2])}.${payload}.${signature}`,
    ];
    for (const token of cases) await expectCode(token, 'malformed');
  });

  it('rejects a validly signed payload that is not a JSON object', async () => {
    const key = server.keys[0];
    if (!key) throw new Error('no key');
    for (const body of ['not json', '[1,2,3]', 'null']) {
      const token = await signRaw({alg: 'RS256', kid: key.kid}, body, key.privateKey);
      await expectCode(token, 'malformed');
    }
  });

  it('rejects a crit header it does not understand', async () => {
    const token = await server.sign(idTokenClaims(nowS()), {header: {crit: ['exp'], exp: 1}});
    await expectCode(token, 'malformed');
  });

  it('refuses an oversized token before parsing or fetching keys', async () => {
    const token = `${'a'.repeat(8190)}.b.c`;
    await expectCode(token, 'too_large');
    expect(server.requests).toBe(0);
  });

  it('rejects an empty or whitespace-only token as missing', async () => {
    await expectCode('', 'missing');
    await expectCode('  \t', 'missing');
    expect(server.requests).toBe(0);
  });
});

describe('createIdTokenVerifier: email rules', () => {
  const SA = 'caller@proj.iam.gserviceaccount.com';

  it('accepts an allowed, verified email (case-insensitively)', async () => {
    const token = await server.sign(
      idTokenClaims(nowS(), {email: 'Caller@Proj.iam.gserviceaccount.com'}),
    );
    await expect(verifier({allowedEmails: [SA]})(token)).resolves.toBeDefined();
    await expect(
      verifier({allowedEmailDomains: ['PROJ.iam.gserviceaccount.com']})(token),
    ).resolves.toBeDefined();
  });

  it('rejects an unverified email under an email rule', async () => {
    const token = await server.sign(idTokenClaims(nowS(), {email_verified: false}));
    const error = await expectCode(token, 'forbidden_principal', {allowedEmails: [SA]});
    expect(error.message).toContain('email_verified');
    await expectCode(token, 'forbidden_principal', {
      allowedEmailDomains: ['proj.iam.gserviceaccount.com'],
    });
    await expect(
      verifier({allowedEmails: [SA], requireEmailVerified: false})(token),
    ).resolves.toBeDefined();
    await expect(verifier()(token)).resolves.toBeDefined();
  });

  it('rejects an email outside the allowlist and outside the domains', async () => {
    const token = await server.sign(
      idTokenClaims(nowS(), {email: 'intruder@other.iam.gserviceaccount.com'}),
    );
    await expectCode(token, 'forbidden_principal', {allowedEmails: [SA]});
    await expectCode(token, 'forbidden_principal', {
      allowedEmailDomains: ['proj.iam.gserviceaccount.com'],
    });
    const lookalike = await server.sign(
      idTokenClaims(nowS(), {email: 'x@evil.proj.iam.gserviceaccount.com'}),
    );
    await expectCode(lookalike, 'forbidden_principal', {
      allowedEmailDomains: ['proj.iam.gserviceaccount.com'],
    });
  });

  it('rejects a token without email under an email rule or requireEmailVerified', async () => {
    const claims = idTokenClaims(nowS());
    delete claims.email;
    delete claims.email_verified;
    const token = await server.sign(claims);
    await expectCode(token, 'forbidden_principal', {
      allowedEmailDomains: ['proj.iam.gserviceaccount.com'],
    });
    await expectCode(token, 'forbidden_principal', {requireEmailVerified: true});
  });
});

describe('createIdTokenVerifier: a signature removed by a Cloud Run front', () => {
  async function stripped(claims: Record<string, unknown>): Promise<string> {
    const [header, payload] = (await server.sign(claims)).split('.');
    return `${header}.${payload}.${SIGNATURE_REMOVED_BY_GOOGLE}`;
  }

  it('is refused: a token alone does not say which header the front checked', async () => {
    const error = await expectCode(await stripped(idTokenClaims(nowS())), 'bad_signature');
    expect(error.message).toContain("front: 'cloud-run'");
    expect(server.requests).toBe(0);
  });

  it('refuses trustCloudRunFront and front when built, naming the option and the fix', () => {
    for (const extra of [{trustCloudRunFront: true}, {front: 'cloud-run'}]) {
      const build = () =>
        createIdTokenVerifier({audience: AUD, ...extra} as unknown as VerifyGoogleIdTokenOptions);
      expect(build).toThrow(TypeError);
      expect(build).toThrow(/requireGoogleIdToken/);
    }
    expect(() =>
      createIdTokenVerifier({
        audience: AUD,
        trustCloudRunFront: false,
      } as unknown as VerifyGoogleIdTokenOptions),
    ).not.toThrow();
  });
});

describe('createIdTokenVerifier: verified-token cache', () => {
  it('does not let a token verified for one audience pass for another', async () => {
    const token = await server.sign(idTokenClaims(nowS()));
    await expect(verifier()(token)).resolves.toBeDefined();
    await expectCode(token, 'bad_audience', {audience: 'https://other.example.com'});
  });

  it('stops answering from the cache once the token expires', async () => {
    const verify = verifier();
    const token = await server.sign(idTokenClaims(nowS()));
    await expect(verify(token)).resolves.toBeDefined();
    clock += (3600 + 301) * 1000;
    expect((await rejection(verify(token), token)).code).toBe('expired');
  });

  it('never turns a failure into a success', async () => {
    const verify = verifier();
    const token = await server.sign(idTokenClaims(nowS()));
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${b64('x'.repeat(256))}`;
    expect((await rejection(verify(forged), forged)).code).toBe('bad_signature');
    await expect(verify(token)).resolves.toBeDefined();
    expect((await rejection(verify(forged), forged)).code).toBe('bad_signature');
  });

  it('stops accepting a cached token once its key is no longer published', async () => {
    const verify = verifier();
    const old = server.keys[0];
    if (!old) throw new Error('no key');
    const cached = await server.sign(idTokenClaims(nowS()));
    await expect(verify(cached)).resolves.toBeDefined();
    await server.rotate();
    server.retire(old.kid);
    clock += 301_000;
    const another = await server.sign(idTokenClaims(nowS()), {key: old});
    expect((await rejection(verify(another), another)).code).toBe('unknown_key');
    expect((await rejection(verify(cached), cached)).code).toBe('unknown_key');
  });

  it('answers a repeated token from the cache: the same claims, no new verification', async () => {
    const verify = verifier();
    const token = await server.sign(idTokenClaims(nowS()));
    const first = await verify(token);
    expect(await verify(token)).toBe(first);
    expect(server.requests).toBe(1);
  });

  it('is bounded and drops the least recently used token first', async () => {
    const verify = verifier({verifiedCacheMaxEntries: 2});
    const [a, b, c] = await Promise.all(
      ['a', 'b', 'c'].map((jti) => server.sign(idTokenClaims(nowS(), {jti}))),
    );
    const claimsA = await verify(a!);
    const claimsB = await verify(b!);
    expect(await verify(a!)).toBe(claimsA); // a is now the most recently used
    await verify(c!); // evicts b
    expect(await verify(a!)).toBe(claimsA);
    const again = await verify(b!);
    expect(again).not.toBe(claimsB);
    expect(again).toEqual(claimsB);
  });

  it('works with the cache turned off', async () => {
    const verify = verifier({verifiedCacheMaxEntries: 0});
    const token = await server.sign(idTokenClaims(nowS()));
    const first = await verify(token);
    const second = await verify(token);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
  });
});
