import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {startGoogleEmulator, type GoogleEmulator} from '../../../src/emulator/index.js';
import {CredentialExchangeError} from '../../../src/credentials/errors.js';
import {createTokenSource} from '../../../src/tokens/create-token-source.js';
import {decodeJwtPayload} from '../../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../../src/tokens/token-cache.js';
import {CLEAN_ADC_ENV, emptyGcloudDir, setEnv} from './support.js';

// ADC reads process.env: this file owns its process (vitest runs files in separate forks).
// Each test points GOOGLE_APPLICATION_CREDENTIALS at the file it needs (each file is its own ADC id).
const AUDIENCE = 'https://svc-abc.a.run.app';
const STORAGE = 'https://www.googleapis.com/auth/devstorage.read_only';

let emulator: GoogleEmulator;
let restoreEnv: () => void;
let gcloud: {path: string; remove(): void};
let target: string;
let shared: {path: string; sourceEmail: string};

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  gcloud = emptyGcloudDir();
  restoreEnv = setEnv({...CLEAN_ADC_ENV, ...emulator.env(), CLOUDSDK_CONFIG: gcloud.path});
  target = `imp-target@${emulator.projectId}.iam.gserviceaccount.com`;
  shared = await emulator.createImpersonatedServiceAccountFile({targetEmail: target});
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

describe('ADC: impersonated_service_account file', () => {
  it('mints ID tokens for the target, the source token fetched once', async () => {
    const file = shared;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file.path;
    const cache = new TokenCache();
    const source = createTokenSource({useDefaultCredential: true}, {cache});
    const a = await cache.get(source, {kind: 'id', audience: AUDIENCE});
    const b = await cache.get(source, {kind: 'id', audience: 'https://other.example'});
    expect(decodeJwtPayload(a.value)).toMatchObject({aud: AUDIENCE, email: target});
    expect(decodeJwtPayload(b.value)).toMatchObject({aud: 'https://other.example', email: target});
    expect(emulator.requests.byEndpoint.token).toBe(1);
    expect(emulator.requests.byEndpoint['iam.generateIdToken']).toBe(2);
  });

  it('mints access tokens for the target with the requested scopes', async () => {
    const file = shared;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file.path;
    const token = await createTokenSource(
      {useDefaultCredential: true},
      {cache: new TokenCache()},
    ).getToken({
      kind: 'access',
      scopes: [STORAGE],
    });
    expect(token.value).toMatch(/^ya29\./);
    expect(token.expiresAt).toBeGreaterThan(Date.now());
    expect(emulator.requests.byEndpoint['iam.generateAccessToken']).toBe(1);
  });

  it("follows the file's delegates", async () => {
    const hop = `imp-hop@${emulator.projectId}.iam.gserviceaccount.com`;
    const file = await emulator.createImpersonatedServiceAccountFile({
      targetEmail: target,
      delegates: [hop],
    });
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file.path;
    emulator.denyImpersonation(hop, target);
    const error = await createTokenSource({useDefaultCredential: true}, {cache: new TokenCache()})
      .getToken({kind: 'id', audience: AUDIENCE})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect((error as CredentialExchangeError).code).toBe('forbidden');
    expect((error as Error).message).toContain(
      `${file.sourceEmail} -> projects/-/serviceAccounts/${hop} -> ${target}`,
    );
  });

  it('works with user credentials as the source (ID tokens a user alone cannot get)', async () => {
    const file = await emulator.createImpersonatedServiceAccountFile({
      targetEmail: target,
      source: 'authorized_user',
    });
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file.path;
    const token = await createTokenSource(
      {useDefaultCredential: true},
      {cache: new TokenCache()},
    ).getToken({
      kind: 'id',
      audience: AUDIENCE,
    });
    expect(decodeJwtPayload(token.value)).toMatchObject({aud: AUDIENCE, email: target});
  });

  it('describes the target as the principal', async () => {
    const file = shared;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file.path;
    const description = await createTokenSource({useDefaultCredential: true}).describe();
    expect(description).toMatchObject({
      kind: 'impersonated_service_account',
      principal: target,
      origin: `GOOGLE_APPLICATION_CREDENTIALS (${file.path})`,
      projectId: emulator.projectId,
      canMintIdTokens: true,
    });
    expect(description.note).toContain(file.sourceEmail);
  });
});
