import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {startGoogleEmulator, type GoogleEmulator} from '../../../src/emulator/index.js';
import {CredentialExchangeError} from '../../../src/credentials/errors.js';
import type {ServiceAccountCredential} from '../../../src/credentials/types.js';
import {createTokenSource} from '../../../src/tokens/create-token-source.js';
import {decodeJwtPayload} from '../../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../../src/tokens/token-cache.js';
import {keyCredential} from './support.js';

const AUDIENCE = 'https://svc-abc.a.run.app';
const STORAGE = 'https://www.googleapis.com/auth/devstorage.read_only';

let emulator: GoogleEmulator;
let key: ServiceAccountCredential;
let env: NodeJS.ProcessEnv;
let cache: TokenCache;
let target: string;
let delegate: string;

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  key = keyCredential((await emulator.createServiceAccountKey()).json);
  env = {GOOGLE_AUTH_EMULATOR_HOST: emulator.host};
  target = `target@${emulator.projectId}.iam.gserviceaccount.com`;
  delegate = `hop@${emulator.projectId}.iam.gserviceaccount.com`;
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => {
  cache = new TokenCache();
  emulator.resetCounts();
  emulator.clearFaults();
});

function impersonating(extra: {delegates?: string[]} = {}) {
  return createTokenSource(
    {serviceAccountCredential: key, impersonateServiceAccount: target, ...extra},
    {env, cache},
  );
}

describe('impersonateServiceAccount on an explicit key', () => {
  it("mints ID tokens carrying the target's email and the requested aud", async () => {
    const token = await impersonating().getToken({kind: 'id', audience: AUDIENCE});
    const claims = decodeJwtPayload(token.value);
    expect(claims).toMatchObject({
      aud: AUDIENCE,
      email: target,
      iss: 'https://accounts.google.com',
    });
    expect(token.expiresAt).toBe((claims?.exp as number) * 1000);
    expect(emulator.requests.byEndpoint['iam.generateIdToken']).toBe(1);
  });

  it('mints access tokens for the target with expiry from expireTime', async () => {
    const before = Date.now();
    const token = await impersonating().getToken({kind: 'access', scopes: [STORAGE]});
    expect(token.value).toMatch(/^ya29\./);
    expect(token.expiresAt).toBeGreaterThan(before + 3500_000);
    expect(token.expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000);
    expect(emulator.requests.byEndpoint['iam.generateAccessToken']).toBe(1);
  });

  it('goes through the delegates', async () => {
    const token = await impersonating({delegates: [delegate]}).getToken({
      kind: 'id',
      audience: AUDIENCE,
    });
    expect(decodeJwtPayload(token.value)?.email).toBe(target);
    // A denied hop in the chain is what IAM checks: prove the chain was sent.
    emulator.denyImpersonation(delegate, target);
    const error = await impersonating({delegates: [delegate]})
      .getToken({kind: 'id', audience: 'https://other.example'})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect((error as Error).message).toContain(`${key.clientEmail} -> ${delegate} -> ${target}`);
  });

  it("fetches the caller's access token once, through the cache, for many tokens", async () => {
    const source = impersonating();
    await Promise.all(
      ['https://a.example', 'https://b.example', 'https://c.example'].map((audience) =>
        cache.get(source, {kind: 'id', audience}),
      ),
    );
    await cache.get(source, {kind: 'access', scopes: [STORAGE]});
    expect(emulator.requests.byEndpoint.token).toBe(1);
    expect(emulator.requests.byEndpoint['iam.generateIdToken']).toBe(3);
    expect(emulator.requests.byEndpoint['iam.generateAccessToken']).toBe(1);
  });

  it('refreshes a caller token IAM no longer accepts, once', async () => {
    const source = impersonating();
    await cache.get(source, {kind: 'id', audience: 'https://first.example'});
    emulator.fault({endpoint: 'iam.generateIdToken', status: 401, count: 1});
    const token = await source.getToken({kind: 'id', audience: AUDIENCE});
    expect(decodeJwtPayload(token.value)?.email).toBe(target);
    expect(emulator.requests.byEndpoint.token).toBe(2);
  });

  it('IAM 403 is a clear CredentialExchangeError naming caller, target and the role', async () => {
    emulator.denyImpersonation(
      key.clientEmail,
      `denied@${emulator.projectId}.iam.gserviceaccount.com`,
    );
    const denied = `denied@${emulator.projectId}.iam.gserviceaccount.com`;
    const source = createTokenSource(
      {serviceAccountCredential: key, impersonateServiceAccount: denied},
      {env, cache},
    );
    const error = (await source
      .getToken({kind: 'id', audience: AUDIENCE})
      .catch((e: unknown) => e)) as CredentialExchangeError;
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect(error.code).toBe('forbidden');
    expect(error.message).toContain(`an ID token for audience "${AUDIENCE}"`);
    expect(error.message).toContain(
      `service account ${denied}, impersonated through IAM Credentials by ${key.clientEmail}`,
    );
    expect(error.message).toContain(
      'IAM Credentials generateIdToken answered HTTP 403 (PERMISSION_DENIED',
    );
    expect(error.message).toContain('roles/iam.serviceAccountTokenCreator');
    expect(error.message).toContain(`--member=serviceAccount:${key.clientEmail}`);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it("says so when the caller's own token fails first", async () => {
    emulator.fault({
      endpoint: 'token',
      status: 400,
      body: '{"error":"invalid_grant","error_description":"Invalid JWT Signature."}',
    });
    const error = (await impersonating()
      .getToken({kind: 'id', audience: AUDIENCE})
      .catch((e: unknown) => e)) as CredentialExchangeError;
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect(error.message).toContain(
      `by impersonating ${target}: the caller's own access token failed first`,
    );
    expect(error.message).toContain('invalid_grant: Invalid JWT Signature.');
    expect(error.cause).toBeInstanceOf(CredentialExchangeError);
  });

  it('a malformed IAM answer is a CredentialExchangeError', async () => {
    emulator.fault({endpoint: 'iam.generateIdToken', status: 200, body: '{"token":"not-a-jwt"}'});
    const error = await impersonating()
      .getToken({kind: 'id', audience: AUDIENCE})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect((error as Error).message).toContain('not a JWT');
  });

  it('describes the target, the caller and the role it needs', async () => {
    const description = await impersonating({delegates: [delegate]}).describe();
    expect(description).toMatchObject({
      kind: 'impersonated_service_account',
      principal: target,
      origin: 'impersonateServiceAccount on explicit key',
      canMintIdTokens: true,
    });
    expect(description.note).toContain(key.clientEmail);
    expect(description.note).toContain(delegate);
  });
});
