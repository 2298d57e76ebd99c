/** `POST /token`: JWT-bearer and refresh-token grants, over plain fetch. */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startGoogleEmulator} from '../../../src/emulator/index.js';
import type {EmulatorServiceAccountKey, GoogleEmulator} from '../../../src/emulator/index.js';
import {CLOUD_PLATFORM, JWT_BEARER, claimsOf, postForm, signAssertion} from './helpers.js';

let emu: GoogleEmulator;
let key: EmulatorServiceAccountKey;
let clock = Date.UTC(2030, 0, 1);
const nowSeconds = (): number => Math.floor(clock / 1000);

beforeAll(async () => {
  emu = await startGoogleEmulator({now: () => clock});
  key = await emu.createServiceAccountKey();
});

afterAll(async () => {
  await emu.close();
});

async function exchange(
  claims: Record<string, unknown>,
  options: Parameters<typeof signAssertion>[2] = {},
) {
  const assertion = await signAssertion(key, claims, {nowSeconds: nowSeconds(), ...options});
  return postForm(`${emu.url}/token`, {grant_type: JWT_BEARER, assertion});
}

describe('JWT-bearer grant', () => {
  it('answers a scope assertion with an access token', async () => {
    const {status, body} = await exchange({scope: CLOUD_PLATFORM});
    expect(status).toBe(200);
    expect(body).toEqual({
      access_token: expect.stringMatching(/^ya29\.emu-/),
      expires_in: 3600,
      token_type: 'Bearer',
    });
  });

  it('answers a target_audience assertion with an ID token only, dated by the injected clock', async () => {
    const {status, body} = await exchange({
      target_audience: 'https://svc.example',
      scope: CLOUD_PLATFORM,
    });
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(['id_token']);
    const claims = claimsOf(String(body.id_token));
    expect(claims).toMatchObject({
      aud: 'https://svc.example',
      email: key.email,
      iat: nowSeconds(),
      exp: nowSeconds() + 3600,
    });
  });

  it('finds the key by iss when the assertion has no kid (as google-auth-library signs)', async () => {
    const {status} = await exchange({scope: CLOUD_PLATFORM}, {kid: null});
    expect(status).toBe(200);
  });

  it("accepts the emulator's own /token URL as aud", async () => {
    const {status} = await exchange({scope: CLOUD_PLATFORM, aud: `${emu.url}/token`});
    expect(status).toBe(200);
  });

  it('rejects a signature by another key (400 invalid_grant)', async () => {
    const other = await emu.createServiceAccountKey();
    const {status, body} = await exchange(
      {scope: CLOUD_PLATFORM},
      {privateKeyPem: other.json.private_key},
    );
    expect(status).toBe(400);
    expect(body).toEqual({error: 'invalid_grant', error_description: 'Invalid JWT Signature.'});
  });

  it('rejects an unknown account and a tampered assertion', async () => {
    const unknown = await exchange(
      {scope: CLOUD_PLATFORM, iss: 'nobody@emulator-project.iam.gserviceaccount.com'},
      {kid: null},
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('invalid_grant');
    const good = await signAssertion(key, {scope: CLOUD_PLATFORM}, {nowSeconds: nowSeconds()});
    const [h, , s] = good.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({iss: key.email, aud: 'https://oauth2.googleapis.com/token', scope: 'x', iat: nowSeconds(), exp: nowSeconds() + 60})).toString('base64url')}.${s}`;
    const tampered = await postForm(`${emu.url}/token`, {
      grant_type: JWT_BEARER,
      assertion: forged,
    });
    expect(tampered.status).toBe(400);
    const garbage = await postForm(`${emu.url}/token`, {
      grant_type: JWT_BEARER,
      assertion: 'not-a-jwt',
    });
    expect(garbage.status).toBe(400);
  });

  it('rejects a key the emulator never issued (unknown kid and account)', async () => {
    const {status, body} = await exchange(
      {scope: CLOUD_PLATFORM, iss: 'stranger@other.iam.gserviceaccount.com'},
      {kid: 'f'.repeat(40)},
    );
    expect(status).toBe(400);
    expect(body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid grant: account not found',
    });
  });

  it('rejects expired, future-dated and too-long assertions', async () => {
    const expired = await exchange({
      scope: CLOUD_PLATFORM,
      iat: nowSeconds() - 7200,
      exp: nowSeconds() - 3600,
    });
    expect(expired.status).toBe(400);
    expect(String(expired.body.error_description)).toMatch(/short-lived/);
    const future = await exchange({
      scope: CLOUD_PLATFORM,
      iat: nowSeconds() + 3600,
      exp: nowSeconds() + 7200,
    });
    expect(future.status).toBe(400);
    const long = await exchange({scope: CLOUD_PLATFORM, exp: nowSeconds() + 7200});
    expect(long.status).toBe(400);
  });

  it('validates against the injected clock: an assertion from now fails once the clock moves 2 hours', async () => {
    const assertion = await signAssertion(key, {scope: CLOUD_PLATFORM}, {nowSeconds: nowSeconds()});
    clock += 2 * 3600 * 1000;
    const {status} = await postForm(`${emu.url}/token`, {grant_type: JWT_BEARER, assertion});
    expect(status).toBe(400);
  });

  it('rejects a wrong aud, a missing scope and audience, and domain-wide delegation', async () => {
    expect((await exchange({scope: CLOUD_PLATFORM, aud: 'https://example.com/token'})).status).toBe(
      400,
    );
    const noScope = await exchange({});
    expect(noScope).toEqual({
      status: 400,
      body: {error: 'invalid_scope', error_description: expect.any(String)},
    });
    const dwd = await exchange({scope: CLOUD_PLATFORM, sub: 'someone@example.com'});
    expect(dwd.status).toBe(401);
    expect(dwd.body.error).toBe('unauthorized_client');
  });

  it('answers the lifetime set by setTokenLifetime', async () => {
    emu.setTokenLifetime(120);
    try {
      const access = await exchange({scope: CLOUD_PLATFORM});
      expect(access.body.expires_in).toBe(120);
      const id = await exchange({target_audience: 'https://a'});
      const claims = claimsOf(String(id.body.id_token));
      expect(Number(claims.exp) - Number(claims.iat)).toBe(120);
    } finally {
      emu.setTokenLifetime(3600);
    }
    expect(() => emu.setTokenLifetime(0)).toThrow(TypeError);
  });

  it('rejects missing and unsupported grants', async () => {
    expect((await postForm(`${emu.url}/token`, {grant_type: JWT_BEARER})).status).toBe(400);
    const unsupported = await postForm(`${emu.url}/token`, {grant_type: 'password'});
    expect(unsupported).toEqual({
      status: 400,
      body: {error: 'unsupported_grant_type', error_description: expect.any(String)},
    });
  });
});

describe('refresh-token grant (authorized_user)', () => {
  it('answers an access token and an ID token whose aud is the client id, ignoring target_audience', async () => {
    const user = await emu.createAuthorizedUserFile();
    const {status, body} = await postForm(`${emu.url}/token`, {
      grant_type: 'refresh_token',
      client_id: user.json.client_id ?? '',
      client_secret: user.json.client_secret ?? '',
      refresh_token: user.json.refresh_token ?? '',
      target_audience: 'https://svc.example',
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      scope: expect.stringContaining('openid'),
    });
    expect(claimsOf(String(body.id_token))).toMatchObject({
      aud: user.clientId,
      azp: user.clientId,
      email: user.email,
    });
    expect(user.json).toMatchObject({type: 'authorized_user', client_id: user.clientId});
  });

  it('rejects a wrong secret, an unknown client and an unknown refresh token', async () => {
    const user = await emu.createAuthorizedUserFile();
    const fields = {
      grant_type: 'refresh_token',
      client_id: user.clientId,
      client_secret: user.json.client_secret ?? '',
      refresh_token: user.json.refresh_token ?? '',
    };
    expect((await postForm(`${emu.url}/token`, {...fields, client_secret: 'nope'})).status).toBe(
      401,
    );
    expect(
      (
        await postForm(`${emu.url}/token`, {
          ...fields,
          client_id: 'other.apps.googleusercontent.com',
        })
      ).body.error,
    ).toBe('invalid_client');
    expect(
      (await postForm(`${emu.url}/token`, {...fields, refresh_token: '1//unknown'})).body.error,
    ).toBe('invalid_grant');
  });
});
