import childProcess from 'node:child_process';
import {afterAll, beforeAll, beforeEach, describe, expect, it, vi} from 'vitest';
import {
  startGoogleEmulator,
  type EmulatorAuthorizedUser,
  type GoogleEmulator,
} from '../../../src/emulator/index.js';
import {CredentialExchangeError} from '../../../src/credentials/errors.js';
import {createTokenSource} from '../../../src/tokens/create-token-source.js';
import {decodeJwtPayload} from '../../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../../src/tokens/token-cache.js';
import {CLEAN_ADC_ENV, emptyGcloudDir, setEnv} from './support.js';

// ADC reads process.env: this file owns its process (vitest runs files in separate forks).
// The user file sits where `gcloud auth application-default login` puts it.
const AUDIENCE = 'https://svc-abc.a.run.app';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

let emulator: GoogleEmulator;
let restoreEnv: () => void;
let gcloud: {path: string; remove(): void};
let user: EmulatorAuthorizedUser;
const exec = vi.spyOn(childProcess, 'exec').mockImplementation(() => {
  throw new Error('tests must never exec gcloud');
});

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  gcloud = emptyGcloudDir();
  user = await emulator.createAuthorizedUserFile();
  const {copyFileSync} = await import('node:fs');
  copyFileSync(user.path, `${gcloud.path}/application_default_credentials.json`);
  restoreEnv = setEnv({...CLEAN_ADC_ENV, ...emulator.env(), CLOUDSDK_CONFIG: gcloud.path});
});

afterAll(async () => {
  restoreEnv();
  gcloud.remove();
  await emulator.close();
});

beforeEach(() => {
  emulator.resetCounts();
});

describe('ADC: authorized_user (gcloud application-default login)', () => {
  it('refuses ID tokens with the reason and the fix, without asking Google', async () => {
    const error = await createTokenSource({useDefaultCredential: true})
      .getToken({kind: 'id', audience: AUDIENCE})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    const refusal = error as CredentialExchangeError;
    expect(refusal.code).toBe('id_token_unsupported');
    expect(refusal.message).toContain(`an ID token for audience "${AUDIENCE}"`);
    expect(refusal.message).toContain('user credentials (authorized_user)');
    expect(refusal.message).toContain(
      `gcloud application-default credentials (${gcloud.path}/application_default_credentials.json)`,
    );
    expect(refusal.message).toContain('the OAuth client id as `aud`');
    expect(refusal.message).toContain('Cloud Run, IAP and Cloud Run functions reject');
    expect(refusal.message).toContain('serviceAccount.impersonateServiceAccount');
    expect(refusal.message).toContain(
      'gcloud auth application-default login --impersonate-service-account=SA_EMAIL',
    );
    expect(refusal.cause).toBeInstanceOf(Error);
    expect(emulator.requests.byEndpoint.token).toBe(0);
  });

  it('mints access tokens with the refresh token', async () => {
    const token = await createTokenSource({useDefaultCredential: true}).getToken({
      kind: 'access',
      scopes: [CLOUD_PLATFORM],
    });
    expect(token.value).toMatch(/^ya29\./);
    expect(token.expiresAt).toBeGreaterThan(Date.now());
    expect(emulator.requests.byEndpoint.token).toBe(1);
  });

  it('with impersonateServiceAccount, mints ID tokens as the service account', async () => {
    const target = `user-target@${emulator.projectId}.iam.gserviceaccount.com`;
    const source = createTokenSource(
      {useDefaultCredential: true, impersonateServiceAccount: target},
      {cache: new TokenCache()},
    );
    const token = await source.getToken({kind: 'id', audience: AUDIENCE});
    expect(decodeJwtPayload(token.value)).toMatchObject({aud: AUDIENCE, email: target});
    const description = await source.describe();
    expect(description).toMatchObject({
      kind: 'impersonated_service_account',
      principal: target,
      canMintIdTokens: true,
    });
    expect(description.origin).toContain('gcloud application-default credentials');
  });

  it('a denied impersonation tells the user which role to ask for', async () => {
    const target = `user-denied@${emulator.projectId}.iam.gserviceaccount.com`;
    emulator.denyImpersonation(user.email, target);
    const error = await createTokenSource(
      {useDefaultCredential: true, impersonateServiceAccount: target},
      {cache: new TokenCache()},
    )
      .getToken({kind: 'id', audience: AUDIENCE})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect((error as CredentialExchangeError).code).toBe('forbidden');
    expect((error as Error).message).toContain('roles/iam.serviceAccountTokenCreator');
    expect((error as Error).message).toContain(target);
  });

  it('describes itself as unable to mint ID tokens, and why', async () => {
    const description = await createTokenSource({useDefaultCredential: true}).describe();
    expect(description).toMatchObject({
      kind: 'authorized_user',
      canMintIdTokens: false,
      projectId: emulator.projectId,
    });
    expect(description.note).toContain('OAuth client id');
    expect(description.note).toContain('impersonateServiceAccount');
  });

  it('never execs gcloud', () => {
    expect(exec).not.toHaveBeenCalled();
  });
});
