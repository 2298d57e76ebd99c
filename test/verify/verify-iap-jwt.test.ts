import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {CompactSign} from 'jose';
import {startGoogleEmulator} from '../../src/emulator/index.js';
import type {GoogleEmulator} from '../../src/emulator/index.js';
import {
  createIapJwtVerifier,
  IdTokenVerificationError,
  SIGNATURE_REMOVED_BY_GOOGLE,
  verifyIapJwt,
} from '../../src/verify/index.js';
import type {IdTokenVerificationCode, VerifyIapJwtOptions} from '../../src/verify/index.js';
import {b64, iapClaims, startKeyServer} from './support/key-server.js';
import type {KeyServer} from './support/key-server.js';
import {errorText, leakedSecrets} from '../tokens/sources/support.js';

const AUD = '/projects/123456789012/global/backendServices/4242424242424242424';
const APP_AUD = '/projects/123456789012/apps/my-project';
const START = 1_900_000_000_000;

let keys: KeyServer;
let rsa: KeyServer;
let clock: number;
const nowS = (): number => Math.floor(clock / 1000);

beforeAll(async () => {
  [keys, rsa] = await Promise.all([startKeyServer('ES256'), startKeyServer('RS256')]);
});
beforeEach(() => {
  keys.reset();
  clock = START;
});
afterAll(async () => {
  await Promise.all([keys.close(), rsa.close()]);
});

function verifier(options: Partial<VerifyIapJwtOptions> = {}) {
  return createIapJwtVerifier({audience: AUD, jwksUrl: keys.jwksUrl, now: () => clock, ...options});
}

async function codeOf(
  promise: Promise<unknown>,
  token: string,
): Promise<IdTokenVerificationCode | 'accepted'> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(IdTokenVerificationError);
    if (token.length >= 20) expect(leakedSecrets(errorText(error), [token])).toEqual([]);
    return (error as IdTokenVerificationError).code;
  }
}

const check = async (token: string, options: Partial<VerifyIapJwtOptions> = {}) =>
  codeOf(verifier(options)(token), token);

describe('verifyIapJwt: accepting', () => {
  it('accepts an ES256 assertion from a published key and returns frozen claims', async () => {
    const claims = await verifier()(await keys.sign(iapClaims(nowS(), {hd: 'example.com'})));
    expect(claims).toMatchObject({
      iss: 'https://cloud.google.com/iap',
      aud: AUD,
      sub: 'accounts.google.com:104857600000000000001',
      email: 'user@example.com',
      hd: 'example.com',
    });
    expect(Object.isFrozen(claims)).toBe(true);
  });

  it('accepts the App Engine audience form and a list of audiences', async () => {
    const token = await keys.sign(iapClaims(nowS(), {aud: APP_AUD}));
    expect(await check(token, {audience: [AUD, APP_AUD]})).toBe('accepted');
    expect(await check(token)).toBe('bad_audience');
  });

  it('allows 30 seconds of skew on both sides, as Google documents', async () => {
    expect(await check(await keys.sign(iapClaims(nowS() - 600 - 29)))).toBe('accepted');
    expect(await check(await keys.sign(iapClaims(nowS() + 29)))).toBe('accepted');
    expect(await check(await keys.sign(iapClaims(nowS() - 600 - 31)))).toBe('expired');
    expect(await check(await keys.sign(iapClaims(nowS() + 31)))).toBe('not_yet_valid');
  });

  it('verifyIapJwt keeps one verifier per options object', async () => {
    const options = {audience: AUD, jwksUrl: keys.jwksUrl, now: () => clock};
    const token = await keys.sign(iapClaims(nowS()));
    const first = await verifyIapJwt(token, options);
    expect(await verifyIapJwt(token, options)).toBe(first);
    expect(keys.requests).toBe(1);
  });
});

describe('verifyIapJwt: refusing', () => {
  it('refuses a lifetime beyond 10 minutes plus twice the skew', async () => {
    expect(await check(await keys.sign(iapClaims(nowS(), {exp: nowS() + 661})))).toBe(
      'lifetime_too_long',
    );
  });

  it('refuses another issuer (a Google ID token is not an IAP assertion)', async () => {
    const token = await keys.sign(iapClaims(nowS(), {iss: 'https://accounts.google.com'}));
    expect(await check(token)).toBe('bad_issuer');
  });

  it('refuses an RS256 token, alg none, and HS256 keyed with the EC public key', async () => {
    expect(await check(await rsa.sign(iapClaims(nowS())))).toBe('bad_signature');
    const none = `${b64({alg: 'none', kid: keys.keys[0]?.kid})}.${b64(iapClaims(nowS()))}.`;
    expect(await check(none)).toBe('bad_signature');
    const key = keys.keys[0];
    if (!key) throw new Error('no key');
    const hs = await new CompactSign(new TextEncoder().encode(JSON.stringify(iapClaims(nowS()))))
      .setProtectedHeader({alg: 'HS256', kid: key.kid})
      .sign(new TextEncoder().encode(JSON.stringify(key.publicJwk)));
    expect(await check(hs)).toBe('bad_signature');
    expect(keys.requests).toBe(0);
  });

  it('refuses a removed, empty or truncated signature', async () => {
    const token = await keys.sign(iapClaims(nowS()));
    const [header, payload, signature] = token.split('.') as [string, string, string];
    expect(await check(`${header}.${payload}.${SIGNATURE_REMOVED_BY_GOOGLE}`)).toBe(
      'bad_signature',
    );
    expect(await check(`${header}.${payload}.`)).toBe('bad_signature');
    expect(await check(`${header}.${payload}.${signature.slice(0, 40)}`)).toBe('bad_signature');
  });

  it('refuses a signature by a key that is not published, under a published kid or not', async () => {
    const other = await startKeyServer('ES256');
    try {
      const foreign = other.keys[0];
      if (!foreign) throw new Error('no key');
      expect(
        await check(await keys.sign(iapClaims(nowS()), {key: foreign, kid: keys.keys[0]?.kid})),
      ).toBe('bad_signature');
      expect(await check(await keys.sign(iapClaims(nowS()), {key: foreign}))).toBe('unknown_key');
    } finally {
      await other.close();
    }
  });

  it('applies the email rules without asking for email_verified (IAP does not send it)', async () => {
    const token = await keys.sign(iapClaims(nowS()));
    expect(await check(token, {allowedEmails: ['USER@example.com']})).toBe('accepted');
    expect(await check(token, {allowedEmailDomains: ['example.com']})).toBe('accepted');
    expect(await check(token, {allowedEmailDomains: ['other.com']})).toBe('forbidden_principal');
  });
});

describe('verifyIapJwt: options', () => {
  const build = (options: Record<string, unknown>) => () =>
    createIapJwtVerifier(options as unknown as VerifyIapJwtOptions);

  it("requires IAP's audience, and says an OAuth client id or URL is not it", () => {
    expect(build({})).toThrow(/audience is required/);
    expect(build({audience: '123-abc.apps.googleusercontent.com'})).toThrow(/OAuth client id/);
    expect(build({audience: 'https://svc.example.com'})).toThrow(TypeError);
    expect(build({audience: AUD})).not.toThrow();
  });

  it("defaults to Google's IAP keys and refuses a plain-http key URL beyond loopback", async () => {
    const seen: string[] = [];
    const verify = createIapJwtVerifier({
      audience: AUD,
      fetch: async (input) => {
        seen.push(String(input));
        return new Response('{}', {status: 503});
      },
    });
    const token = await keys.sign(iapClaims(Math.floor(Date.now() / 1000)));
    expect(await codeOf(verify(token), token)).toBe('keys_unavailable');
    expect(seen).toEqual(['https://www.gstatic.com/iap/verify/public_key-jwk']);
    expect(build({audience: AUD, jwksUrl: 'http://keys.example.com/jwk'})).toThrow(/jwksUrl/);
  });
});

describe('verifyIapJwt against the emulator', () => {
  let emu: GoogleEmulator;
  beforeAll(async () => {
    emu = await startGoogleEmulator();
  });
  afterAll(async () => {
    await emu.close();
  });

  it("accepts the emulator's assertions with its published IAP keys, across a key rotation", async () => {
    const options = {audience: emu.iapAudience, jwksUrl: emu.iapJwksUrl};
    const verify = createIapJwtVerifier(options);
    const email = 'someone@example.com';
    const claims = await verify(await emu.mintIapAssertion({email}));
    expect(claims).toMatchObject({
      email,
      iss: 'https://cloud.google.com/iap',
      aud: emu.iapAudience,
    });
    expect(claims.sub).toMatch(/^accounts\.google\.com:\d+$/);
    expect(claims.exp - claims.iat).toBe(600);
    await emu.rotateIapSigningKey();
    await expect(verify(await emu.mintIapAssertion({email}))).resolves.toMatchObject({email});
    // An ID token of the same emulator is not an IAP assertion.
    const idToken = await emu.mintIdToken({audience: emu.iapAudience});
    await expect(verify(idToken)).rejects.toMatchObject({code: 'bad_signature'});
  });
});
