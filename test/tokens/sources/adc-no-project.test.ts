import childProcess from 'node:child_process';
import {afterAll, beforeAll, beforeEach, describe, expect, it, vi} from 'vitest';
import {startGoogleEmulator, type GoogleEmulator} from '../../../src/emulator/index.js';
import {createTokenSource} from '../../../src/tokens/create-token-source.js';
import {decodeJwtPayload} from '../../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../../src/tokens/token-cache.js';
import {CLEAN_ADC_ENV, emptyGcloudDir, setEnv} from './support.js';

// ADC reads process.env: this file owns its process (vitest runs files in separate forks).
// No GOOGLE_CLOUD_PROJECT, as under a client that strips GOOGLE_* variables from the
// servers it starts (Gemini CLI): the metadata server is the credential.
const AUDIENCE = 'https://svc-abc.a.run.app';

let emulator: GoogleEmulator;
let restoreEnv: () => void;
let gcloud: {path: string; remove(): void};
const exec = vi.spyOn(childProcess, 'exec').mockImplementation(() => {
  throw new Error('tests must never exec gcloud');
});

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  gcloud = emptyGcloudDir();
  const {GOOGLE_CLOUD_PROJECT: _project, ...env} = emulator.env();
  restoreEnv = setEnv({...CLEAN_ADC_ENV, ...env, CLOUDSDK_CONFIG: gcloud.path});
});

afterAll(async () => {
  restoreEnv();
  gcloud.remove();
  await emulator.close();
});

beforeEach(() => {
  emulator.resetCounts();
  exec.mockClear();
});

describe('ADC without a project id in the environment', () => {
  it('mints an ID token from the metadata server without looking up the project (no gcloud run, no project request)', async () => {
    const token = await createTokenSource(
      {useDefaultCredential: true},
      {cache: new TokenCache()},
    ).getToken({
      kind: 'id',
      audience: AUDIENCE,
    });
    expect(decodeJwtPayload(token.value)?.aud).toBe(AUDIENCE);
    // google-auth-library looks the project up while resolving credentials unless it is given
    // one: `gcloud config config-helper` (1 to 3 s) and then the metadata server. Minting needs neither.
    expect(exec).not.toHaveBeenCalled();
    expect(emulator.requests.byEndpoint['metadata.project']).toBe(0);
    expect(emulator.requests.byEndpoint['metadata.identity']).toBe(1);
  });

  it('still names the project when asked to describe the credential', async () => {
    const description = await createTokenSource({useDefaultCredential: true}).describe();
    expect(description).toMatchObject({kind: 'metadata_server', projectId: emulator.projectId});
    expect(exec).not.toHaveBeenCalled();
  });
});
