/** iamcredentials generateIdToken / generateAccessToken and STS token exchange, over plain fetch. */
import {readFile} from 'node:fs/promises';
import {SignJWT, importPKCS8} from 'jose';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startGoogleEmulator} from '../../../src/emulator/index.js';
import type {EmulatorServiceAccountKey, GoogleEmulator} from '../../../src/emulator/index.js';
import {
  CLOUD_PLATFORM,
  JWT_BEARER,
  claimsOf,
  postForm,
  postJson,
  signAssertion,
} from './helpers.js';

let emu: GoogleEmulator;
let key: EmulatorServiceAccountKey;
let bearer: string;
let clock = Date.UTC(2030, 0, 1);
const target = 'target@emulator-project.iam.gserviceaccount.com';

function iamUrl(email: string, method: 'generateIdToken' | 'generateAccessToken'): string {
  return `${emu.url}/v1/projects/-/serviceAccounts/${email}:${method}`;
}

async function accessTokenFor(k: EmulatorServiceAccountKey): Promise<string> {
  const assertion = await signAssertion(
    k,
    {scope: CLOUD_PLATFORM},
    {nowSeconds: Math.floor(clock / 1000)},
  );
  const {body} = await postForm(`${emu.url}/token`, {grant_type: JWT_BEARER, assertion});
  return String(body.access_token);
}

beforeAll(async () => {
  emu = await startGoogleEmulator({now: () => clock});
  key = await emu.createServiceAccountKey();
  bearer = await accessTokenFor(key);
});

afterAll(async () => {
  await emu.close();
});

describe('generateIdToken', () => {
  it('answers {token} for the target, with email when includeEmail', async () => {
    const {status, body} = await postJson(
      iamUrl(target, 'generateIdToken'),
      {audience: 'https://svc.example', includeEmail: true},
      {authorization: `Bearer ${bearer}`},
    );
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(['token']);
    expect(claimsOf(String(body.token))).toMatchObject({
      aud: 'https://svc.example',
      email: target,
      email_verified: true,
      iss: 'https://accounts.google.com',
    });
  });

  it('leaves email out without includeEmail, and puts the email in azp with useEmailAzp', async () => {
    const plain = await postJson(
      iamUrl(target, 'generateIdToken'),
      {audience: 'a'},
      {authorization: `Bearer ${bearer}`},
    );
    expect(claimsOf(String(plain.body.token)).email).toBeUndefined();
    const azp = await postJson(
      iamUrl(target, 'generateIdToken'),
      {audience: 'a', includeEmail: true, useEmailAzp: true},
      {authorization: `Bearer ${bearer}`},
    );
    expect(claimsOf(String(azp.body.token)).azp).toBe(target);
  });

  it('answers 401 UNAUTHENTICATED without a bearer, with an unknown one, and with an expired one', async () => {
    const none = await postJson(iamUrl(target, 'generateIdToken'), {audience: 'a'});
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({error: {code: 401, status: 'UNAUTHENTICATED'}});
    const unknown = await postJson(
      iamUrl(target, 'generateIdToken'),
      {audience: 'a'},
      {authorization: 'Bearer ya29.made-up'},
    );
    expect(unknown.status).toBe(401);
    const shortLived = await accessTokenFor(key);
    clock += 3601 * 1000;
    try {
      const expired = await postJson(
        iamUrl(target, 'generateIdToken'),
        {audience: 'a'},
        {authorization: `Bearer ${shortLived}`},
      );
      expect(expired.status).toBe(401);
    } finally {
      clock -= 3601 * 1000;
    }
  });

  it('accepts a self-signed JWT of an issued key as the bearer', async () => {
    const iat = Math.floor(clock / 1000);
    const selfSigned = await new SignJWT({
      iss: key.email,
      sub: key.email,
      aud: 'https://iamcredentials.googleapis.com/',
      iat,
      exp: iat + 3600,
    })
      .setProtectedHeader({alg: 'RS256', kid: key.json.private_key_id})
      .sign(await importPKCS8(String(key.json.private_key), 'RS256'));
    const {status} = await postJson(
      iamUrl(target, 'generateIdToken'),
      {audience: 'a'},
      {authorization: `Bearer ${selfSigned}`},
    );
    expect(status).toBe(200);
  });

  it('answers 403 PERMISSION_DENIED when the impersonation is denied, along the delegation chain too', async () => {
    const victim = 'protected@emulator-project.iam.gserviceaccount.com';
    emu.denyImpersonation(key.email, victim);
    const denied = await postJson(
      iamUrl(victim, 'generateIdToken'),
      {audience: 'a'},
      {authorization: `Bearer ${bearer}`},
    );
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      error: {
        code: 403,
        message: expect.stringContaining('iam.serviceAccounts.getOpenIdToken'),
        status: 'PERMISSION_DENIED',
      },
    });
    const delegate = 'middle@emulator-project.iam.gserviceaccount.com';
    const via = await postJson(
      iamUrl(target, 'generateIdToken'),
      {audience: 'a', delegates: [`projects/-/serviceAccounts/${delegate}`]},
      {authorization: `Bearer ${bearer}`},
    );
    expect(via.status).toBe(200);
    emu.denyImpersonation(delegate, target);
    const blocked = await postJson(
      iamUrl(target, 'generateIdToken'),
      {audience: 'a', delegates: [`projects/-/serviceAccounts/${delegate}`]},
      {authorization: `Bearer ${bearer}`},
    );
    expect(blocked.status).toBe(403);
  });

  it('answers 404 for a target that is not a service account, 400 without audience', async () => {
    const user = await postJson(
      iamUrl('someone@gmail.com', 'generateIdToken'),
      {audience: 'a'},
      {authorization: `Bearer ${bearer}`},
    );
    expect(user.status).toBe(404);
    const noAudience = await postJson(
      iamUrl(target, 'generateIdToken'),
      {},
      {authorization: `Bearer ${bearer}`},
    );
    expect(noAudience.status).toBe(400);
  });
});

describe('generateAccessToken', () => {
  it('answers {accessToken, expireTime} (RFC 3339) that IAM accepts as a caller in turn', async () => {
    const {status, body} = await postJson(
      iamUrl(target, 'generateAccessToken'),
      {scope: [CLOUD_PLATFORM], lifetime: '3600s', delegates: []},
      {authorization: `Bearer ${bearer}`},
    );
    expect(status).toBe(200);
    expect(body).toEqual({
      accessToken: expect.stringMatching(/^ya29\.emu-/),
      expireTime: new Date(clock + 3600_000).toISOString().replace('.000Z', 'Z'),
    });
    const chained = await postJson(
      iamUrl('other@emulator-project.iam.gserviceaccount.com', 'generateIdToken'),
      {audience: 'a', includeEmail: true},
      {authorization: `Bearer ${String(body.accessToken)}`},
    );
    expect(chained.status).toBe(200);
  });

  it('grants a shorter lifetime when asked, and refuses no scope or a lifetime over 3600s', async () => {
    const short = await postJson(
      iamUrl(target, 'generateAccessToken'),
      {scope: [CLOUD_PLATFORM], lifetime: '600s'},
      {authorization: `Bearer ${bearer}`},
    );
    expect(short.body.expireTime).toBe(
      new Date(clock + 600_000).toISOString().replace('.000Z', 'Z'),
    );
    expect(
      (
        await postJson(
          iamUrl(target, 'generateAccessToken'),
          {scope: []},
          {authorization: `Bearer ${bearer}`},
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await postJson(
          iamUrl(target, 'generateAccessToken'),
          {scope: [CLOUD_PLATFORM], lifetime: '7200s'},
          {authorization: `Bearer ${bearer}`},
        )
      ).status,
    ).toBe(400);
    const denied = 'no-tokens@emulator-project.iam.gserviceaccount.com';
    emu.denyImpersonation('*', denied);
    const res = await postJson(
      iamUrl(denied, 'generateAccessToken'),
      {scope: [CLOUD_PLATFORM]},
      {authorization: `Bearer ${bearer}`},
    );
    expect(res.body).toMatchObject({
      error: {
        status: 'PERMISSION_DENIED',
        message: expect.stringContaining('iam.serviceAccounts.getAccessToken'),
      },
    });
  });
});

describe('STS token exchange', () => {
  it('exchanges the subject token of an external_account file for a federated token that IAM accepts', async () => {
    const file = await emu.createExternalAccountFile({
      serviceAccountEmail: 'wif@emulator-project.iam.gserviceaccount.com',
    });
    const subjectToken = await readFile(file.subjectTokenPath, 'utf8');
    const fields = {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      audience: String(file.json.audience),
      scope: CLOUD_PLATFORM,
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    };
    const {status, body} = await postForm(`${emu.url}/v1/token`, fields);
    expect(status).toBe(200);
    expect(body).toEqual({
      access_token: expect.stringMatching(/^ya29\.emu-/),
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: 3600,
    });
    const impersonated = await postJson(
      iamUrl(file.serviceAccountEmail, 'generateAccessToken'),
      {scope: [CLOUD_PLATFORM], lifetime: '3600s'},
      {authorization: `Bearer ${String(body.access_token)}`},
    );
    expect(impersonated.status).toBe(200);
    const idToken = await postJson(
      iamUrl(file.serviceAccountEmail, 'generateIdToken'),
      {audience: 'https://svc.example', includeEmail: true},
      {authorization: `Bearer ${String(impersonated.body.accessToken)}`},
    );
    expect(claimsOf(String(idToken.body.token)).email).toBe(file.serviceAccountEmail);
    expect((await postJson(`${emu.url}/v1/token`, fields)).status).toBe(200);
    expect(
      (await postForm(`${emu.url}/v1/token`, {...fields, subject_token: 'forged'})).body.error,
    ).toBe('invalid_grant');
    expect(
      (await postForm(`${emu.url}/v1/token`, {...fields, audience: '//iam.googleapis.com/other'}))
        .body.error,
    ).toBe('invalid_target');
    expect(
      (await postForm(`${emu.url}/v1/token`, {...fields, grant_type: 'refresh_token'})).body.error,
    ).toBe('unsupported_grant_type');
  });
});
