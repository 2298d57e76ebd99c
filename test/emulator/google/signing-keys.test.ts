/** Published keys: JWKS, PEM certificates, OpenID configuration, mintIdToken and rotation. */
import {X509Certificate, createPublicKey} from 'node:crypto';
import {createLocalJWKSet, jwtVerify} from 'jose';
import type {JSONWebKeySet} from 'jose';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startGoogleEmulator} from '../../../src/emulator/index.js';
import type {GoogleEmulator} from '../../../src/emulator/index.js';
import {claimsOf, headerOf} from './helpers.js';

let emu: GoogleEmulator;
const clock = Date.UTC(2030, 5, 1);

beforeAll(async () => {
  emu = await startGoogleEmulator({now: () => clock});
});

afterAll(async () => {
  await emu.close();
});

async function jwks(): Promise<JSONWebKeySet> {
  return (await (await fetch(emu.jwksUrl)).json()) as JSONWebKeySet;
}

describe('published keys', () => {
  it('serves the JWKS with a cache lifetime and RS256 signing keys', async () => {
    const res = await fetch(emu.jwksUrl);
    expect(res.headers.get('cache-control')).toMatch(/public, max-age=\d+/);
    const set = (await res.json()) as JSONWebKeySet;
    expect(set.keys).toEqual([
      {
        kty: 'RSA',
        alg: 'RS256',
        use: 'sig',
        kid: emu.currentSigningKeyId(),
        n: expect.any(String),
        e: 'AQAB',
      },
    ]);
  });

  it('serves X.509 certificates at /oauth2/v1/certs for the same keys', async () => {
    const certs = (await (await fetch(`${emu.url}/oauth2/v1/certs`)).json()) as Record<
      string,
      string
    >;
    const [jwk] = (await jwks()).keys;
    const pem = certs[String(jwk?.kid)];
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const cert = new X509Certificate(String(pem));
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.export({format: 'jwk'})).toMatchObject({n: jwk?.n, e: jwk?.e});
    expect(createPublicKey(String(pem)).asymmetricKeyType).toBe('rsa');
  });

  it('serves an OpenID configuration naming Google as issuer and the emulator JWKS', async () => {
    const config = (await (
      await fetch(`${emu.url}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(config).toMatchObject({
      issuer: 'https://accounts.google.com',
      jwks_uri: emu.jwksUrl,
      id_token_signing_alg_values_supported: ['RS256'],
    });
  });
});

describe('mintIdToken', () => {
  it('mints the claims Google issues, dated by the injected clock', async () => {
    const token = await emu.mintIdToken({audience: 'https://svc.example'});
    const iat = Math.floor(clock / 1000);
    expect(claimsOf(token)).toEqual({
      aud: 'https://svc.example',
      azp: expect.stringMatching(/^\d{21}$/),
      email: emu.metadataServiceAccount,
      email_verified: true,
      exp: iat + 3600,
      iat,
      iss: 'https://accounts.google.com',
      sub: expect.stringMatching(/^\d{21}$/),
    });
    expect(headerOf(token)).toEqual({alg: 'RS256', kid: emu.currentSigningKeyId(), typ: 'JWT'});
    const {payload} = await jwtVerify(token, createLocalJWKSet(await jwks()), {
      currentDate: new Date(clock),
      audience: 'https://svc.example',
    });
    expect(payload.email).toBe(emu.metadataServiceAccount);
  });

  it('honours email, issuedAt, lifetimeSeconds and extra claims', async () => {
    const token = await emu.mintIdToken({
      audience: 'a',
      email: 'x@p.iam.gserviceaccount.com',
      issuedAt: 1000,
      lifetimeSeconds: 60,
      claims: {email_verified: false, hd: 'example.com'},
    });
    expect(claimsOf(token)).toMatchObject({
      email: 'x@p.iam.gserviceaccount.com',
      iat: 1000,
      exp: 1060,
      email_verified: false,
      hd: 'example.com',
    });
    await expect(emu.mintIdToken({audience: ''})).rejects.toThrow(TypeError);
    await expect(emu.mintIdToken({audience: 'a', lifetimeSeconds: -1})).rejects.toThrow(
      /lifetimeSeconds/,
    );
  });
});

describe('rotation', () => {
  it('publishes the new key beside the old one until the old one is retired', async () => {
    const oldKid = emu.currentSigningKeyId();
    const before = await emu.mintIdToken({audience: 'a'});
    const {kid} = await emu.rotateSigningKey();
    expect(kid).not.toBe(oldKid);
    expect(emu.currentSigningKeyId()).toBe(kid);
    const after = await emu.mintIdToken({audience: 'a'});
    expect(headerOf(after).kid).toBe(kid);
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([kid, oldKid]);
    const both = createLocalJWKSet(await jwks());
    await jwtVerify(before, both, {currentDate: new Date(clock)});
    await jwtVerify(after, both, {currentDate: new Date(clock)});

    expect(() => emu.retireSigningKey(kid)).toThrow(/current signing key/);
    emu.retireSigningKey(oldKid);
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([kid]);
    const certs = (await (await fetch(`${emu.url}/oauth2/v1/certs`)).json()) as Record<
      string,
      string
    >;
    expect(Object.keys(certs)).toEqual([kid]);
    await expect(
      jwtVerify(before, createLocalJWKSet(await jwks()), {currentDate: new Date(clock)}),
    ).rejects.toThrow();
  });
});

describe('options', () => {
  it('rejects bad options with a TypeError naming the option', async () => {
    await expect(startGoogleEmulator({port: -1})).rejects.toThrow(/port/);
    await expect(startGoogleEmulator({projectId: 'UPPER'})).rejects.toThrow(/projectId/);
    await expect(startGoogleEmulator({tokenLifetimeSeconds: 0})).rejects.toThrow(
      /tokenLifetimeSeconds/,
    );
    await expect(startGoogleEmulator({metadataServiceAccount: 'nope'})).rejects.toThrow(
      /metadataServiceAccount/,
    );
    await expect(startGoogleEmulator({latencyMs: -5})).rejects.toThrow(/latencyMs/);
  });
});
