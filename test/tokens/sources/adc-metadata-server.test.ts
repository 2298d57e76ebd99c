import childProcess from 'node:child_process';
import {afterAll, beforeAll, beforeEach, describe, expect, it, vi} from 'vitest';
import {startGoogleEmulator, type GoogleEmulator} from '../../../src/emulator/index.js';
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
const exec = vi.spyOn(childProcess, 'exec').mockImplementation(() => {
  throw new Error('tests must never exec gcloud');
});

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  gcloud = emptyGcloudDir();
  // No GOOGLE_APPLICATION_CREDENTIALS and an empty gcloud directory: ADC finds the metadata server.
  restoreEnv = setEnv({...CLEAN_ADC_ENV, ...emulator.env(), CLOUDSDK_CONFIG: gcloud.path});
});

afterAll(async () => {
  restoreEnv();
  gcloud.remove();
  await emulator.close();
});

beforeEach(() => {
  emulator.clearFaults();
  emulator.resetCounts();
});

describe('ADC: metadata server', () => {
  it("mints ID tokens through the metadata identity endpoint, as the instance's service account", async () => {
    const token = await createTokenSource({useDefaultCredential: true}).getToken({
      kind: 'id',
      audience: AUDIENCE,
    });
    const claims = decodeJwtPayload(token.value);
    expect(claims).toMatchObject({aud: AUDIENCE, email: emulator.metadataServiceAccount});
    expect(token.expiresAt).toBe((claims?.exp as number) * 1000);
    expect(emulator.requests.byEndpoint['metadata.identity']).toBe(1);
    expect(emulator.requests.byEndpoint.token).toBe(0);
  });

  it('passes an audience with query characters intact', async () => {
    const audience = 'https://fn.example/path?a=1&b=2';
    const token = await createTokenSource({useDefaultCredential: true}).getToken({
      kind: 'id',
      audience,
    });
    expect(decodeJwtPayload(token.value)?.aud).toBe(audience);
  });

  it('mints access tokens from the metadata token endpoint', async () => {
    const before = Date.now();
    const token = await createTokenSource({useDefaultCredential: true}).getToken({
      kind: 'access',
      scopes: [CLOUD_PLATFORM],
    });
    expect(token.value).toMatch(/^ya29\./);
    expect(token.expiresAt).toBeGreaterThanOrEqual(before + 3599_000);
    expect(emulator.requests.byEndpoint['metadata.token']).toBe(1);
  });

  it('describes the metadata server, its account and project', async () => {
    const source = createTokenSource({useDefaultCredential: true});
    expect(source.id).toBe(`adc:metadata:${emulator.host}`);
    expect(await source.describe()).toEqual({
      kind: 'metadata_server',
      principal: emulator.metadataServiceAccount,
      origin: `metadata server (${emulator.host})`,
      projectId: emulator.projectId,
      canMintIdTokens: true,
    });
  });

  it('impersonates on top of the metadata server, with delegates, the caller token cached', async () => {
    const target = `md-target@${emulator.projectId}.iam.gserviceaccount.com`;
    const hop = `md-hop@${emulator.projectId}.iam.gserviceaccount.com`;
    const cache = new TokenCache();
    const source = createTokenSource(
      {useDefaultCredential: true, impersonateServiceAccount: target, delegates: [hop]},
      {cache},
    );
    const a = await cache.get(source, {kind: 'id', audience: 'https://a.example'});
    const b = await cache.get(source, {kind: 'id', audience: 'https://b.example'});
    expect(decodeJwtPayload(a.value)).toMatchObject({email: target, aud: 'https://a.example'});
    expect(decodeJwtPayload(b.value)).toMatchObject({email: target, aud: 'https://b.example'});
    expect(emulator.requests.byEndpoint['metadata.token']).toBe(1);
    expect(emulator.requests.byEndpoint['iam.generateIdToken']).toBe(2);
  });

  it('IAM 403 on top of the metadata server names the instance account as the caller', async () => {
    const target = `md-denied@${emulator.projectId}.iam.gserviceaccount.com`;
    emulator.denyImpersonation(emulator.metadataServiceAccount, target);
    const error = await createTokenSource(
      {useDefaultCredential: true, impersonateServiceAccount: target},
      {cache: new TokenCache()},
    )
      .getToken({kind: 'access', scopes: [CLOUD_PLATFORM]})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect((error as CredentialExchangeError).code).toBe('forbidden');
    expect((error as Error).message).toContain(`by ${emulator.metadataServiceAccount}`);
    expect((error as Error).message).toContain(
      'IAM Credentials generateAccessToken answered HTTP 403',
    );
  });

  it('a metadata answer that is not a JWT is a CredentialExchangeError', async () => {
    emulator.fault({endpoint: 'metadata.identity', malformed: true});
    const error = await createTokenSource({useDefaultCredential: true})
      .getToken({kind: 'id', audience: AUDIENCE})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect((error as Error).message).toContain(
      `the ${'default'} service account of the metadata server (${emulator.host})`,
    );
    expect((error as Error).message).toContain('not a JWT');
    expect((error as CredentialExchangeError).cause).toBeInstanceOf(Error);
  });

  it('a metadata 404 names the metadata server and the fix', async () => {
    emulator.fault({endpoint: 'metadata.identity', status: 404, body: 'Not Found'});
    const error = await createTokenSource({useDefaultCredential: true})
      .getToken({kind: 'id', audience: AUDIENCE})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect((error as Error).message).toContain(
      `the metadata server (${emulator.host}) answered HTTP 404`,
    );
    expect((error as Error).message).toContain('service account attached to the workload');
  });

  it('never execs gcloud when GOOGLE_CLOUD_PROJECT is set', () => {
    expect(exec).not.toHaveBeenCalled();
  });
});
