import {describe, expect, it} from 'vitest';
import {InvalidCredentialError} from '../../src/credentials/errors.js';
import {GCLOUD_OAUTH_CLIENT_ID, gcloudUserAudience} from '../../src/credentials/gcloud-identity.js';
import {parseAuthCredential, parseServiceAccount} from '../../src/credentials/parse.js';
import type {ServiceAccount} from '../../src/credentials/types.js';
import {createTokenSource} from '../../src/tokens/create-token-source.js';

const SA = 'runner@demo-project.iam.gserviceaccount.com';

function invalid(input: unknown, options?: {requireAudience?: boolean}): InvalidCredentialError {
  try {
    parseAuthCredential(input, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidCredentialError);
    return error as InvalidCredentialError;
  }
  throw new Error('expected parseAuthCredential to throw');
}

describe('useGcloudCredential', () => {
  it('parses from camelCase and from ADK snake_case, with no audience for a user account', () => {
    const camel = parseAuthCredential({
      authType: 'serviceAccount',
      serviceAccount: {
        useGcloudCredential: true,
        useIdToken: true,
        gcloudAccount: 'dev@example.com',
      },
    });
    const snake = parseAuthCredential({
      auth_type: 'serviceAccount',
      service_account: {
        use_gcloud_credential: true,
        use_id_token: true,
        gcloud_account: 'dev@example.com',
      },
    });
    expect(snake).toEqual(camel);
    expect(camel.serviceAccount).toEqual({
      useGcloudCredential: true,
      useIdToken: true,
      gcloudAccount: 'dev@example.com',
    });
    expect(gcloudUserAudience(camel.serviceAccount as ServiceAccount)).toBe(GCLOUD_OAUTH_CLIENT_ID);
  });

  it('needs an audience (as every ID token does for the exchanger) for a service account or impersonation', () => {
    expect(
      invalid({
        authType: 'serviceAccount',
        serviceAccount: {
          useGcloudCredential: true,
          useIdToken: true,
          impersonateServiceAccount: SA,
        },
      }).path,
    ).toBe('serviceAccount.audience');
    const withAudience = parseServiceAccount({
      useGcloudCredential: true,
      useIdToken: true,
      gcloudAccount: SA,
      audience: 'https://svc-abc.a.run.app',
    });
    expect(gcloudUserAudience(withAudience)).toBeUndefined();
  });

  it('refuses an audience for a user account, naming the field to drop and the way to mint for one', () => {
    const error = invalid({
      authType: 'serviceAccount',
      serviceAccount: {
        useGcloudCredential: true,
        useIdToken: true,
        audience: 'https://svc-abc.a.run.app',
      },
    });
    expect(error.path).toBe('serviceAccount.audience');
    expect(error.message).toContain('does not apply to a gcloud user account');
    expect(error.message).toContain(GCLOUD_OAUTH_CLIENT_ID);
    expect(error.message).toContain(
      'Remove audience, or set gcloudAccount to a service account or impersonateServiceAccount',
    );
  });

  it('is for identity tokens only', () => {
    const error = invalid({
      authType: 'serviceAccount',
      serviceAccount: {useGcloudCredential: true},
    });
    expect(error.path).toBe('serviceAccount.useIdToken');
    expect(error.message).toContain('identity tokens (gcloud auth print-identity-token) only');
  });

  it('is one source among the key and ADC, never two', () => {
    const error = invalid({
      authType: 'serviceAccount',
      serviceAccount: {useDefaultCredential: true, useGcloudCredential: true, useIdToken: true},
    });
    expect(error.path).toBe('serviceAccount.useGcloudCredential');
    expect(error.message).toContain('useDefaultCredential is also given; keep one of them');
    const none = invalid({
      authType: 'serviceAccount',
      serviceAccount: {useIdToken: true, audience: 'x'},
    });
    expect(none.message).toContain('useGcloudCredential: true');
  });

  it('takes gcloudAccount only with useGcloudCredential, and only as an email', () => {
    expect(
      invalid({
        authType: 'serviceAccount',
        serviceAccount: {useDefaultCredential: true, gcloudAccount: 'dev@example.com'},
      }).path,
    ).toBe('serviceAccount.gcloudAccount');
    const bad = invalid({
      authType: 'serviceAccount',
      serviceAccount: {
        useGcloudCredential: true,
        useIdToken: true,
        gcloudAccount: '--verbosity=debug',
      },
    });
    expect(bad.path).toBe('serviceAccount.gcloudAccount');
  });

  it('createTokenSource applies the same rules to unparsed input', () => {
    expect(() =>
      createTokenSource({useGcloudCredential: true, useDefaultCredential: true}),
    ).toThrow(InvalidCredentialError);
    expect(() =>
      createTokenSource({useGcloudCredential: true, gcloudAccount: 'not an email'}),
    ).toThrow(/serviceAccount.gcloudAccount/);
    expect(() =>
      createTokenSource({
        useGcloudCredential: true,
        impersonateServiceAccount: SA,
        delegates: ['projects/-/serviceAccounts/hop@demo-project.iam.gserviceaccount.com'],
      }),
    ).toThrow(/serviceAccount.delegates.0/);
    expect(() => createTokenSource({useGcloudCredential: true}, {gcloudTimeoutMs: 0})).toThrow(
      /gcloudTimeoutMs/,
    );
    expect(() => createTokenSource({useGcloudCredential: true}, {gcloudCommand: ''})).toThrow(
      /gcloudCommand/,
    );
  });
});
