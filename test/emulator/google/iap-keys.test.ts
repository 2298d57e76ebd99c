/** IAP's published keys and the assertions the emulator signs with them (jose as the independent check). */
import {createLocalJWKSet, jwtVerify} from 'jose';
import type {JSONWebKeySet} from 'jose';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {
  emulatorIapJwksUrl,
  emulatorJwksUrl,
  startGoogleEmulator,
} from '../../../src/emulator/index.js';
import type {GoogleEmulator} from '../../../src/emulator/index.js';

let emu: GoogleEmulator;
const clock = Date.UTC(2030, 5, 1);

beforeAll(async () => {
  emu = await startGoogleEmulator({now: () => clock});
});
afterAll(async () => {
  await emu.close();
});

async function iapKeys(): Promise<{set: JSONWebKeySet; cacheControl: string | null}> {
  const res = await fetch(emu.iapJwksUrl);
  return {set: (await res.json()) as JSONWebKeySet, cacheControl: res.headers.get('cache-control')};
}

describe("the emulator's IAP keys", () => {
  it('publishes ES256 public keys at the gstatic path, counted as iap.jwks', async () => {
    expect(emu.iapJwksUrl).toBe(`${emu.url}/iap/verify/public_key-jwk`);
    const before = emu.requests.byEndpoint['iap.jwks'];
    const {set, cacheControl} = await iapKeys();
    expect(cacheControl).toMatch(/max-age=\d+/);
    expect(set.keys).toEqual([
      {
        kty: 'EC',
        alg: 'ES256',
        use: 'sig',
        crv: 'P-256',
        kid: expect.any(String),
        x: expect.any(String),
        y: expect.any(String),
      },
    ]);
    expect(emu.requests.byEndpoint['iap.jwks'] - before).toBe(1);
  });

  it('signs assertions with IAP claims that an independent library verifies', async () => {
    const assertion = await emu.mintIapAssertion({email: 'user@example.com'});
    const {payload, protectedHeader} = await jwtVerify(
      assertion,
      createLocalJWKSet((await iapKeys()).set),
      {
        issuer: 'https://cloud.google.com/iap',
        audience: emu.iapAudience,
        algorithms: ['ES256'],
        currentDate: new Date(clock),
      },
    );
    expect(protectedHeader).toMatchObject({alg: 'ES256', typ: 'JWT'});
    expect(payload).toMatchObject({
      email: 'user@example.com',
      iat: clock / 1000,
      exp: clock / 1000 + 600,
    });
    expect(payload.sub).toMatch(/^accounts\.google\.com:\d+$/);
    expect(emu.iapAudience).toMatch(/^\/projects\/\d{12}\/global\/backendServices\/\d{19}$/);
  });

  it('rotates: the new key signs, the old one stays published', async () => {
    const before = (await iapKeys()).set.keys.map((key) => key.kid);
    const {kid} = await emu.rotateIapSigningKey();
    const after = (await iapKeys()).set.keys.map((key) => key.kid);
    expect(after).toEqual([kid, ...before]);
    const assertion = await emu.mintIapAssertion({
      sub: 'accounts.google.com:7',
      audience: '/projects/1/apps/x',
    });
    const header = JSON.parse(
      Buffer.from(assertion.split('.')[0] ?? '', 'base64url').toString('utf8'),
    );
    expect(header.kid).toBe(kid);
  });

  it('can fail like any endpoint', async () => {
    emu.fault({endpoint: 'iap.jwks', status: 503});
    expect((await fetch(emu.iapJwksUrl)).status).toBe(503);
    expect((await fetch(emu.iapJwksUrl)).status).toBe(200);
  });

  it('validates mintIapAssertion options', async () => {
    await expect(emu.mintIapAssertion({})).rejects.toThrow(/email or sub/);
    await expect(emu.mintIapAssertion({email: 'not an email'})).rejects.toThrow(TypeError);
    await expect(emu.mintIapAssertion({email: 'a@b.c', lifetimeSeconds: 0})).rejects.toThrow(
      /lifetimeSeconds/,
    );
  });

  it('names its key URLs from GOOGLE_AUTH_EMULATOR_HOST only when asked', () => {
    const env = {GOOGLE_AUTH_EMULATOR_HOST: emu.host};
    expect(emulatorJwksUrl(env)).toBe(emu.jwksUrl);
    expect(emulatorIapJwksUrl(env)).toBe(emu.iapJwksUrl);
    expect(() => emulatorJwksUrl({})).toThrow(/GOOGLE_AUTH_EMULATOR_HOST/);
  });
});
