import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {
  startGoogleEmulator,
  type GoogleEmulator,
  type EmulatorExternalAccountFile,
} from '../../../src/emulator/index.js';
import {CredentialExchangeError} from '../../../src/credentials/errors.js';
import {createTokenSource} from '../../../src/tokens/create-token-source.js';
import {decodeJwtPayload} from '../../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../../src/tokens/token-cache.js';
import {CLEAN_ADC_ENV, emptyGcloudDir, setEnv} from './support.js';

// ADC reads process.env: this file owns its process (vitest runs files in separate forks).
const AUDIENCE = 'https://svc-abc.a.run.app';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

let emulator: GoogleEmulator;
let restoreEnv: () => void;
let gcloud: {path: string; remove(): void};
let file: EmulatorExternalAccountFile;

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  gcloud = emptyGcloudDir();
  file = await emulator.createExternalAccountFile({
    serviceAccountEmail: `wif@emulator-project.iam.gserviceaccount.com`,
  });
  restoreEnv = setEnv({
    ...CLEAN_ADC_ENV,
    ...emulator.env(),
    CLOUDSDK_CONFIG: gcloud.path,
    GOOGLE_APPLICATION_CREDENTIALS: file.path,
  });
});

afterAll(async () => {
  restoreEnv();
  gcloud.remove();
  await emulator.close();
});

beforeEach(() => {
  emulator.resetCounts();
  emulator.clearFaults();
});

describe('ADC: external_account (workload identity federation)', () => {
  it('mints ID tokens as the impersonated service account, for the requested aud, with the federated token as caller', async () => {
    const cache = new TokenCache();
    const source = createTokenSource({useDefaultCredential: true}, {cache});
    const token = await cache.get(source, {kind: 'id', audience: AUDIENCE});
    const claims = decodeJwtPayload(token.value);
    expect(claims).toMatchObject({
      aud: AUDIENCE,
      email: file.serviceAccountEmail,
      iss: 'https://accounts.google.com',
    });
    expect(token.expiresAt).toBe((claims?.exp as number) * 1000);
    expect(emulator.requests.byEndpoint.sts).toBe(1);
    expect(emulator.requests.byEndpoint['iam.generateIdToken']).toBe(1);
    // The federated token is cached: a second audience costs one IAM call only.
    await cache.get(source, {kind: 'id', audience: 'https://other.example'});
    expect(emulator.requests.byEndpoint.sts).toBe(1);
    expect(emulator.requests.byEndpoint['iam.generateIdToken']).toBe(2);
  });

  it('mints access tokens as the service account (STS, then generateAccessToken)', async () => {
    const token = await createTokenSource({useDefaultCredential: true}).getToken({
      kind: 'access',
      scopes: [CLOUD_PLATFORM],
    });
    expect(token.value).toMatch(/^ya29\./);
    expect(token.expiresAt).toBeGreaterThan(Date.now());
    expect(emulator.requests.byEndpoint.sts).toBe(1);
    expect(emulator.requests.byEndpoint['iam.generateAccessToken']).toBe(1);
  });

  it('describes the impersonated service account as the principal', async () => {
    const description = await createTokenSource({useDefaultCredential: true}).describe();
    expect(description).toMatchObject({
      kind: 'external_account',
      principal: file.serviceAccountEmail,
      origin: `GOOGLE_APPLICATION_CREDENTIALS (${file.path})`,
      projectId: emulator.projectId,
      canMintIdTokens: true,
    });
  });

  it('an STS refusal is a CredentialExchangeError naming the exchange', async () => {
    emulator.fault({
      endpoint: 'sts',
      status: 400,
      body: '{"error":"invalid_grant","error_description":"The subject token is expired."}',
    });
    const error = await createTokenSource({useDefaultCredential: true}, {cache: new TokenCache()})
      .getToken({kind: 'id', audience: 'https://sts-fail.example'})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect((error as Error).message).toContain("the caller's own access token failed first");
    expect((error as Error).message).toContain('The subject token is expired.');
    expect((error as CredentialExchangeError).cause).toBeDefined();
  });

  it('IAM denying the federated principal is a 403 CredentialExchangeError', async () => {
    emulator.denyImpersonation(file.principal, file.serviceAccountEmail);
    const error = await createTokenSource({useDefaultCredential: true}, {cache: new TokenCache()})
      .getToken({kind: 'id', audience: 'https://denied.example'})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect((error as CredentialExchangeError).code).toBe('forbidden');
    expect((error as Error).message).toContain(`service account ${file.serviceAccountEmail}`);
  });

  it('without service_account_impersonation_url: access tokens from STS, ID tokens refused with the fix', async () => {
    const json = {...file.json};
    delete json.service_account_impersonation_url;
    const path = join(gcloud.path, 'federation-only.json');
    writeFileSync(path, JSON.stringify(json));
    const restore = setEnv({GOOGLE_APPLICATION_CREDENTIALS: path});
    try {
      const source = createTokenSource({useDefaultCredential: true}, {cache: new TokenCache()});
      const access = await source.getToken({kind: 'access', scopes: [CLOUD_PLATFORM]});
      expect(access.value).toMatch(/^ya29\./);
      expect(emulator.requests.byEndpoint['iam.generateAccessToken']).toBe(0);
      const error = await source
        .getToken({kind: 'id', audience: AUDIENCE})
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CredentialExchangeError);
      expect((error as CredentialExchangeError).code).toBe('id_token_unsupported');
      expect((error as Error).message).toContain(
        'a federated principal has no service account email',
      );
      expect((error as Error).message).toContain('--service-account=SA_EMAIL');
      expect((error as Error).message).toContain('impersonateServiceAccount');
      expect(await source.describe()).toMatchObject({
        kind: 'external_account',
        canMintIdTokens: false,
      });
    } finally {
      restore();
    }
  });
});
