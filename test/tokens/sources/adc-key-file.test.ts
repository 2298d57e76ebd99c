import childProcess from 'node:child_process';
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';
import {startGoogleEmulator, type GoogleEmulator} from '../../../src/emulator/index.js';
import {createTokenSource} from '../../../src/tokens/create-token-source.js';
import {decodeJwtPayload} from '../../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../../src/tokens/token-cache.js';
import {CLEAN_ADC_ENV, emptyGcloudDir, setEnv} from './support.js';

// ADC reads process.env: this file owns its process (vitest runs files in separate forks).
const AUDIENCE = 'https://svc-abc.a.run.app';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

let emulator: GoogleEmulator;
let keyFile: {email: string; path: string};
let restoreEnv: () => void;
let gcloud: {path: string; remove(): void};
const exec = vi.spyOn(childProcess, 'exec').mockImplementation(() => {
  throw new Error('tests must never exec gcloud');
});

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  keyFile = await emulator.createServiceAccountKey();
  gcloud = emptyGcloudDir();
  restoreEnv = setEnv({
    ...CLEAN_ADC_ENV,
    ...emulator.env(),
    CLOUDSDK_CONFIG: gcloud.path,
    GOOGLE_APPLICATION_CREDENTIALS: keyFile.path,
  });
});

afterAll(async () => {
  restoreEnv();
  gcloud.remove();
  await emulator.close();
});

describe('ADC: key file via GOOGLE_APPLICATION_CREDENTIALS', () => {
  it("mints ID tokens as the key file's service account", async () => {
    const token = await createTokenSource({useDefaultCredential: true}).getToken({
      kind: 'id',
      audience: AUDIENCE,
    });
    const claims = decodeJwtPayload(token.value);
    expect(claims).toMatchObject({aud: AUDIENCE, email: keyFile.email});
    expect(token.expiresAt).toBe((claims?.exp as number) * 1000);
  });

  it('mints access tokens', async () => {
    const token = await createTokenSource({useDefaultCredential: true}).getToken({
      kind: 'access',
      scopes: [CLOUD_PLATFORM],
    });
    expect(token.value).toMatch(/^ya29\./);
    expect(token.expiresAt).toBeGreaterThan(Date.now());
  });

  it("has an id naming the file's key, equal for every source built from the same environment", () => {
    const a = createTokenSource({useDefaultCredential: true});
    const b = createTokenSource({useDefaultCredential: true});
    expect(a.id).toMatch(/^adc:service_account:spki-sha256:[A-Za-z0-9_-]{43}$/);
    expect(a.id).not.toContain(keyFile.email);
    expect(b.id).toBe(a.id);
  });

  it('shares one token between many sources and callers through the cache', async () => {
    const cache = new TokenCache();
    emulator.resetCounts();
    const tokens = await Promise.all(
      Array.from({length: 20}, () =>
        cache.get(createTokenSource({useDefaultCredential: true}), {
          kind: 'id',
          audience: 'https://shared.example',
        }),
      ),
    );
    expect(new Set(tokens.map((t) => t.value)).size).toBe(1);
    expect(emulator.requests.byEndpoint.token).toBe(1);
  });

  it('describes where the credential came from', async () => {
    const description = await createTokenSource({useDefaultCredential: true}).describe();
    expect(description).toEqual({
      kind: 'service_account_key',
      principal: keyFile.email,
      origin: `GOOGLE_APPLICATION_CREDENTIALS (${keyFile.path})`,
      projectId: emulator.projectId,
      canMintIdTokens: true,
    });
  });

  it('impersonates another service account on top of ADC, with delegates', async () => {
    const target = `adc-target@${emulator.projectId}.iam.gserviceaccount.com`;
    const hop = `adc-hop@${emulator.projectId}.iam.gserviceaccount.com`;
    const cache = new TokenCache();
    const source = createTokenSource(
      {useDefaultCredential: true, impersonateServiceAccount: target, delegates: [hop]},
      {cache},
    );
    expect(source.id).toBe(
      `impersonate:${target}[${hop}]<-${createTokenSource({useDefaultCredential: true}).id}`,
    );
    const token = await source.getToken({kind: 'id', audience: AUDIENCE});
    expect(decodeJwtPayload(token.value)).toMatchObject({aud: AUDIENCE, email: target});
    expect((await source.describe()).origin).toBe(
      `impersonateServiceAccount on GOOGLE_APPLICATION_CREDENTIALS (${keyFile.path})`,
    );
  });

  it('never execs gcloud', () => {
    expect(exec).not.toHaveBeenCalled();
  });
});
