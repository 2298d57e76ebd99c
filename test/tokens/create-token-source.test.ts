import {generateKeyPairSync} from 'node:crypto';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {InvalidCredentialError} from '../../src/credentials/errors.js';
import type {ServiceAccount, ServiceAccountCredential} from '../../src/credentials/types.js';
import {createTokenSource} from '../../src/tokens/create-token-source.js';
import {emptyGcloudDir, setEnv} from './sources/support.js';

// Building a source checks its input and fetches nothing: these tests run without a network.
const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048});
const PEM = privateKey.export({type: 'pkcs8', format: 'pem'}).toString();
const KEY: ServiceAccountCredential = {
  type: 'service_account',
  clientEmail: 'sa@p.iam.gserviceaccount.com',
  privateKey: PEM,
  privateKeyId: 'abc123',
};
const OTHER_PEM = generateKeyPairSync('rsa', {modulusLength: 2048})
  .privateKey.export({type: 'pkcs8', format: 'pem'})
  .toString();
const TARGET = 'target@p.iam.gserviceaccount.com';

// ADC ids read gcloud's file from process.env (as google-auth-library): point it at nothing.
const gcloud = emptyGcloudDir();
const files = mkdtempSync(join(tmpdir(), 'mga-ids-'));
let restoreEnv: () => void;
beforeAll(() => {
  restoreEnv = setEnv({CLOUDSDK_CONFIG: gcloud.path});
});
afterAll(() => {
  restoreEnv();
  gcloud.remove();
  rmSync(files, {recursive: true, force: true});
});
const noFetch = () => Promise.reject(new Error('building a source must not fetch'));

function build(sa: ServiceAccount, env: NodeJS.ProcessEnv = {}) {
  return createTokenSource(sa, {env, fetch: noFetch});
}

describe('createTokenSource ids', () => {
  it('names an explicit key by its public key, never by the email or key id it declares', () => {
    const id = build({serviceAccountCredential: KEY}).id;
    expect(id).toMatch(/^key:spki-sha256:[A-Za-z0-9_-]{43}$/);
    // Self-declared ids change nothing: only the holder of the private key has this id.
    expect(build({serviceAccountCredential: {...KEY, privateKeyId: 'other'}}).id).toBe(id);
    expect(build({serviceAccountCredential: {...KEY, privateKeyId: undefined}}).id).toBe(id);
    expect(
      build({serviceAccountCredential: {...KEY, clientEmail: 'sb@p.iam.gserviceaccount.com'}}).id,
    ).toBe(id);
    // The same key in another encoding is the same holder.
    const pkcs1 = privateKey.export({type: 'pkcs1', format: 'pem'}).toString();
    expect(build({serviceAccountCredential: {...KEY, privateKey: pkcs1}}).id).toBe(id);
    expect(build({serviceAccountCredential: {...KEY, privateKey: OTHER_PEM}}).id).not.toBe(id);
    expect(id).not.toContain(PEM.slice(40, 60));
  });

  it('gives equal ids for equal inputs, whatever else differs', () => {
    const a = build({
      serviceAccountCredential: KEY,
      useIdToken: true,
      audience: 'https://a.example',
    });
    const b = build({serviceAccountCredential: {...KEY}, scopes: ['x']});
    expect(a.id).toBe(b.id);
    expect(a).not.toBe(b);
    const env = {GOOGLE_APPLICATION_CREDENTIALS: '/keys/k.json'};
    expect(build({useDefaultCredential: true}, env).id).toBe(
      build({useDefaultCredential: true}, {...env}).id,
    );
    expect(
      build(
        {
          useDefaultCredential: true,
          impersonateServiceAccount: TARGET,
          delegates: ['d@p.iam.gserviceaccount.com'],
        },
        env,
      ).id,
    ).toBe(
      build(
        {
          useDefaultCredential: true,
          impersonateServiceAccount: TARGET,
          delegates: ['d@p.iam.gserviceaccount.com'],
        },
        env,
      ).id,
    );
  });

  it('gives different ids for different credentials', () => {
    const ids = new Set([
      build({serviceAccountCredential: KEY}).id,
      build({serviceAccountCredential: {...KEY, privateKey: OTHER_PEM}}).id,
      build({serviceAccountCredential: KEY, impersonateServiceAccount: TARGET}).id,
      build({
        serviceAccountCredential: KEY,
        impersonateServiceAccount: TARGET,
        delegates: ['d@p.iam.gserviceaccount.com'],
      }).id,
      build({useDefaultCredential: true}, {GOOGLE_APPLICATION_CREDENTIALS: '/keys/a.json'}).id,
      build({useDefaultCredential: true}, {GOOGLE_APPLICATION_CREDENTIALS: '/keys/b.json'}).id,
      build({useDefaultCredential: true}, {GCE_METADATA_HOST: '127.0.0.1:1'}).id,
      build({useDefaultCredential: true}, {}).id,
    ]);
    expect(ids.size).toBe(8);
  });

  it('names ADC by the credential it will use, read from the file, not by the path', () => {
    const keyJson = {
      type: 'service_account',
      client_email: KEY.clientEmail,
      private_key: PEM,
      private_key_id: 'abc123',
    };
    const a = join(files, 'a.json');
    const b = join(files, 'b.json');
    writeFileSync(a, JSON.stringify(keyJson));
    writeFileSync(b, JSON.stringify({...keyJson, private_key_id: 'declared-otherwise'}));
    const fromA = build({useDefaultCredential: true}, {GOOGLE_APPLICATION_CREDENTIALS: a}).id;
    const keyId = build({serviceAccountCredential: KEY}).id;
    expect(fromA).toBe(`adc:service_account:${keyId.slice('key:'.length)}`);
    expect(build({useDefaultCredential: true}, {GOOGLE_APPLICATION_CREDENTIALS: b}).id).toBe(fromA);
    writeFileSync(a, JSON.stringify({...keyJson, private_key: OTHER_PEM}));
    expect(build({useDefaultCredential: true}, {GOOGLE_APPLICATION_CREDENTIALS: a}).id).not.toBe(
      fromA,
    );
    expect(
      build({useDefaultCredential: true}, {GOOGLE_APPLICATION_CREDENTIALS: '/keys/a.json'}).id,
    ).toBe('adc:unreadable:/keys/a.json');
    expect(build({useDefaultCredential: true}, {}).id).toBe('adc:metadata:default');
    expect(build({useDefaultCredential: true, impersonateServiceAccount: TARGET}, {}).id).toBe(
      `impersonate:${TARGET}<-adc:metadata:default`,
    );
  });
});

describe('createTokenSource input checks', () => {
  it('refuses a service account with neither a key nor default credentials', () => {
    expect(() => build({})).toThrow(InvalidCredentialError);
    expect(() => build({})).toThrow(/serviceAccount: has neither a key nor default credentials/);
  });

  it('refuses both a key and default credentials', () => {
    expect(() => build({serviceAccountCredential: KEY, useDefaultCredential: true})).toThrow(
      /serviceAccount\.useDefaultCredential/,
    );
  });

  it('refuses a key that is not a PEM private key, without echoing it', () => {
    const secret = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ';
    let error: unknown;
    try {
      build({serviceAccountCredential: {...KEY, privateKey: secret}});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidCredentialError);
    expect((error as InvalidCredentialError).path).toBe(
      'serviceAccount.serviceAccountCredential.privateKey',
    );
    expect((error as Error).message).not.toContain(secret.slice(0, 20));
  });

  it('refuses a bad impersonation target or delegates', () => {
    expect(() =>
      build({useDefaultCredential: true, impersonateServiceAccount: 'not-an-email'}),
    ).toThrow(/impersonateServiceAccount/);
    expect(() =>
      build({useDefaultCredential: true, delegates: ['d@p.iam.gserviceaccount.com']}),
    ).toThrow(/serviceAccount\.delegates/);
    expect(() =>
      build({useDefaultCredential: true, impersonateServiceAccount: TARGET, delegates: ['x/y']}),
    ).toThrow(/serviceAccount\.delegates\.0/);
  });

  it('refuses bad options with a TypeError naming the option', () => {
    expect(() =>
      createTokenSource({useDefaultCredential: true}, {emulatorHost: 'not a host'}),
    ).toThrow(TypeError);
    expect(() => createTokenSource({useDefaultCredential: true}, {fetch: 'x' as never})).toThrow(
      /TokenSourceOptions\.fetch/,
    );
    expect(() => createTokenSource({useDefaultCredential: true}, {env: 'x' as never})).toThrow(
      /TokenSourceOptions\.env/,
    );
    expect(() => createTokenSource({useDefaultCredential: true}, {cache: {} as never})).toThrow(
      /TokenSourceOptions\.cache/,
    );
  });

  it('describes an explicit key without fetching', async () => {
    expect(await build({serviceAccountCredential: {...KEY, projectId: 'p'}}).describe()).toEqual({
      kind: 'service_account_key',
      principal: KEY.clientEmail,
      origin: 'explicit key',
      projectId: 'p',
      canMintIdTokens: true,
    });
  });
});
