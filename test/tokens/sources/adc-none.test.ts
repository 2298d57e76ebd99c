import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {CredentialExchangeError} from '../../../src/credentials/errors.js';
import {createTokenSource} from '../../../src/tokens/create-token-source.js';

const saved = {...process.env};
let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'mcp-google-auth-nohome-'));
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  delete process.env.GOOGLE_AUTH_EMULATOR_HOST;
  delete process.env.GCE_METADATA_HOST;
  Object.assign(process.env, {
    HOME: home,
    METADATA_SERVER_DETECTION: 'none',
    GOOGLE_CLOUD_PROJECT: 'some-project',
  });
});

afterAll(async () => {
  process.env = saved;
  await rm(home, {recursive: true, force: true});
});

describe('Application Default Credentials when there are none', () => {
  it('fails with an error that lists where it looked and how to fix it', async () => {
    const source = createTokenSource({useDefaultCredential: true});
    const error = await source
      .getToken({kind: 'id', audience: 'https://svc-abc.a.run.app'})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    const message = (error as CredentialExchangeError).message;
    expect(message).toMatch(/ID token for audience "https:\/\/svc-abc\.a\.run\.app"/);
    expect(message).toMatch(/GOOGLE_APPLICATION_CREDENTIALS is not set/);
    expect(message).toContain(
      join(home, '.config', 'gcloud', 'application_default_credentials.json'),
    );
    expect(message).toMatch(/no metadata server answered/);
    expect(message).toMatch(/gcloud auth application-default login --impersonate-service-account=/);
  });
});
