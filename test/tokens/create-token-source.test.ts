import {generateKeyPairSync} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {InvalidCredentialError} from '../../src/credentials/errors.js';
import type {ServiceAccount, ServiceAccountCredential} from '../../src/credentials/types.js';
import {createTokenSource} from '../../src/tokens/create-token-source.js';
import {tokenFingerprint} from '../../src/tokens/fingerprint.js';

// Building a source checks its input and fetches nothing: these tests run without a network.
const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048});
const PEM = privateKey.export({type: 'pkcs8', format: 'pem'}).toString();
const KEY: ServiceAccountCredential = {
  type: 'service_account',
  clientEmail: 'sa@p.iam.gserviceaccount.com',
  privateKey: PEM,
  privateKeyId: 'abc123',
};
const TARGET = 'target@p.iam.gserviceaccount.com';
const noFetch = () => Promise.reject(new Error('building a source must not fetch'));

function build(sa: ServiceAccount, env: NodeJS.ProcessEnv = {}) {
  return createTokenSource(sa, {env, fetch: noFetch});
}

describe('createTokenSource ids', () => {
  it('names an explicit key by email and key id, or by key fingerprint', () => {
    expect(build({serviceAccountCredential: KEY}).id).toBe(
      'key:sa@p.iam.gserviceaccount.com:abc123',
    );
    const withoutId = {...KEY, privateKeyId: undefined};
    expect(build({serviceAccountCredential: withoutId}).id).toBe(
      `key:sa@p.iam.gserviceaccount.com:${tokenFingerprint(PEM)}`,
    );
    expect(build({serviceAccountCredential: withoutId}).id).not.toContain(PEM.slice(40, 60));
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

  it('gives different ids for different principals', () => {
    const ids = new Set([
      build({serviceAccountCredential: KEY}).id,
      build({serviceAccountCredential: {...KEY, privateKeyId: 'other'}}).id,
      build({serviceAccountCredential: {...KEY, clientEmail: 'sb@p.iam.gserviceaccount.com'}}).id,
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
    expect(ids.size).toBe(9);
  });

  it('names ADC by what the environment points at', () => {
    expect(
      build({useDefaultCredential: true}, {GOOGLE_APPLICATION_CREDENTIALS: '/keys/a.json'}).id,
    ).toBe('adc:file:/keys/a.json');
    expect(build({useDefaultCredential: true}, {}).id).toBe('adc:default');
    expect(build({useDefaultCredential: true, impersonateServiceAccount: TARGET}, {}).id).toBe(
      `impersonate:${TARGET}<-adc:default`,
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
