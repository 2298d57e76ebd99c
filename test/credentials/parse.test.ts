import {generateKeyPairSync} from 'node:crypto';

import {beforeAll, describe, expect, it} from 'vitest';

import {InvalidCredentialError} from '../../src/credentials/errors.js';
import {parseAuthCredential} from '../../src/credentials/parse.js';

let pem: string;
let keyFile: Record<string, string>;

beforeAll(() => {
  pem = generateKeyPairSync('rsa', {modulusLength: 2048})
    .privateKey.export({type: 'pkcs8', format: 'pem'})
    .toString();
  keyFile = {
    type: 'service_account',
    project_id: 'demo-project',
    private_key_id: 'abc123',
    private_key: pem,
    client_email: 'agent@demo-project.iam.gserviceaccount.com',
    client_id: '1234567890',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: 'https://www.googleapis.com/robot/v1/metadata/x509/agent',
    universe_domain: 'googleapis.com',
  };
});

function invalid(input: unknown, options?: {requireAudience?: boolean}): InvalidCredentialError {
  try {
    parseAuthCredential(input, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidCredentialError);
    return error as InvalidCredentialError;
  }
  throw new Error('expected parseAuthCredential to throw');
}

describe('parseAuthCredential accepts', () => {
  it('camelCase (adk-js) service-account credentials', () => {
    const credential = parseAuthCredential({
      authType: 'serviceAccount',
      serviceAccount: {
        useDefaultCredential: true,
        useIdToken: true,
        audience: 'https://svc-abc.a.run.app',
      },
    });
    expect(credential).toEqual({
      authType: 'serviceAccount',
      serviceAccount: {
        useDefaultCredential: true,
        useIdToken: true,
        audience: 'https://svc-abc.a.run.app',
      },
    });
  });

  it('snake_case JSON as ADK Python writes it, with a raw key file as the credential', () => {
    const credential = parseAuthCredential(
      JSON.stringify({
        auth_type: 'serviceAccount',
        service_account: {
          service_account_credential: keyFile,
          use_id_token: true,
          audience: 'https://svc-abc.a.run.app',
        },
      }),
    );
    const sa = credential.serviceAccount!;
    expect(sa.useIdToken).toBe(true);
    expect(sa.serviceAccountCredential).toMatchObject({
      type: 'service_account',
      clientEmail: 'agent@demo-project.iam.gserviceaccount.com',
      privateKeyId: 'abc123',
      projectId: 'demo-project',
      authProviderX509CertUrl: 'https://www.googleapis.com/oauth2/v1/certs',
      clientX509CertUrl: 'https://www.googleapis.com/robot/v1/metadata/x509/agent',
    });
    expect(sa.serviceAccountCredential!.privateKey).toBe(pem);
  });

  it('a key whose newlines were escaped, as env vars often carry it', () => {
    const escaped = {...keyFile, private_key: pem.replace(/\n/g, '\\n')};
    const credential = parseAuthCredential({
      authType: 'serviceAccount',
      serviceAccount: {serviceAccountCredential: escaped},
    });
    expect(credential.serviceAccount!.serviceAccountCredential!.privateKey).toBe(pem);
  });

  it('the access-token path with scopes, impersonation and delegates', () => {
    const credential = parseAuthCredential({
      auth_type: 'serviceAccount',
      service_account: {
        use_default_credential: true,
        scopes: ['https://www.googleapis.com/auth/cloud-platform'],
        impersonate_service_account: 'target@p.iam.gserviceaccount.com',
        delegates: ['middle@p.iam.gserviceaccount.com'],
      },
    });
    expect(credential.serviceAccount).toEqual({
      useDefaultCredential: true,
      scopes: ['https://www.googleapis.com/auth/cloud-platform'],
      impersonateServiceAccount: 'target@p.iam.gserviceaccount.com',
      delegates: ['middle@p.iam.gserviceaccount.com'],
    });
  });

  it('useIdToken without audience when the caller supplies the target (requireAudience: false)', () => {
    const credential = parseAuthCredential(
      {authType: 'serviceAccount', serviceAccount: {useDefaultCredential: true, useIdToken: true}},
      {requireAudience: false},
    );
    expect(credential.serviceAccount).toEqual({useDefaultCredential: true, useIdToken: true});
  });

  it('http bearer, http basic, api key and oauth2 credentials; header names stay as written', () => {
    expect(
      parseAuthCredential({
        authType: 'http',
        http: {
          scheme: 'bearer',
          credentials: {token: 't'},
          additional_headers: {X_Custom_Header: 'v'},
        },
      }).http,
    ).toEqual({
      scheme: 'bearer',
      credentials: {token: 't'},
      additionalHeaders: {X_Custom_Header: 'v'},
    });
    expect(
      parseAuthCredential({
        authType: 'http',
        http: {scheme: 'basic', credentials: {username: 'u', password: 'p'}},
      }).http?.credentials,
    ).toEqual({username: 'u', password: 'p'});
    expect(parseAuthCredential({auth_type: 'apiKey', api_key: 'k'}).apiKey).toBe('k');
    expect(parseAuthCredential({authType: 'oauth2', oauth2: {access_token: 'a'}}).oauth2).toEqual({
      accessToken: 'a',
    });
  });
});

describe('parseAuthCredential refuses, naming the field and the fix', () => {
  it('neither a key nor useDefaultCredential', () => {
    const error = invalid({
      authType: 'serviceAccount',
      serviceAccount: {useIdToken: true, audience: 'https://x.run.app'},
    });
    expect(error.path).toBe('serviceAccount');
    expect(error.code).toBe('invalid_credential');
    expect(error.message).toMatch(/serviceAccountCredential/);
    expect(error.message).toMatch(/useDefaultCredential: true/);
  });

  it('both a key and useDefaultCredential', () => {
    const error = invalid({
      authType: 'serviceAccount',
      serviceAccount: {serviceAccountCredential: keyFile, useDefaultCredential: true},
    });
    expect(error.path).toBe('serviceAccount.useDefaultCredential');
  });

  it('useIdToken without audience, naming audience', () => {
    const error = invalid({
      authType: 'serviceAccount',
      serviceAccount: {useDefaultCredential: true, useIdToken: true},
    });
    expect(error.path).toBe('serviceAccount.audience');
    expect(error.message).toMatch(/^serviceAccount\.audience: is required when useIdToken is true/);
  });

  it('audience without useIdToken', () => {
    const error = invalid({
      authType: 'serviceAccount',
      serviceAccount: {useDefaultCredential: true, audience: 'https://x.run.app'},
    });
    expect(error.path).toBe('serviceAccount.useIdToken');
    expect(error.message).toMatch(/audience only applies to ID tokens/);
  });

  it('a key that is not a PEM private key, without echoing it', () => {
    const secretish = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC-not-a-real-key';
    const error = invalid({
      authType: 'serviceAccount',
      serviceAccount: {serviceAccountCredential: {...keyFile, private_key: secretish}},
    });
    expect(error.path).toBe('serviceAccount.serviceAccountCredential.privateKey');
    expect(error.message).toMatch(/not a PEM-encoded private key/);
    expect(error.message).not.toContain(secretish.slice(0, 20));
    expect(JSON.stringify(error.cause)).not.toContain(secretish.slice(0, 20));
  });

  it('a truncated PEM, without echoing any of it', () => {
    const truncated = pem.slice(0, 200);
    const error = invalid({
      authType: 'serviceAccount',
      serviceAccount: {serviceAccountCredential: {...keyFile, private_key: truncated}},
    });
    expect(error.path).toBe('serviceAccount.serviceAccountCredential.privateKey');
    const body = truncated.split('\n')[1]!;
    expect(error.message).not.toContain(body.slice(0, 16));
    expect(String(error.stack)).not.toContain(body.slice(0, 16));
  });

  it('empty and whitespace-only strings', () => {
    expect(
      invalid({
        authType: 'serviceAccount',
        serviceAccount: {useDefaultCredential: true, useIdToken: true, audience: ''},
      }).path,
    ).toBe('serviceAccount.audience');
    const blankEmail = invalid({
      authType: 'serviceAccount',
      serviceAccount: {serviceAccountCredential: {...keyFile, client_email: '  '}},
    });
    expect(blankEmail.path).toBe('serviceAccount.serviceAccountCredential.clientEmail');
    expect(blankEmail.message).toMatch(/must not be empty/);
    expect(invalid({authType: 'apiKey', apiKey: ''}).path).toBe('apiKey');
  });

  it('wrong types', () => {
    const flag = invalid({
      authType: 'serviceAccount',
      serviceAccount: {useDefaultCredential: 'yes'},
    });
    expect(flag.path).toBe('serviceAccount.useDefaultCredential');
    expect(flag.message).toMatch(/must be boolean/);
    expect(
      invalid({
        authType: 'serviceAccount',
        serviceAccount: {useDefaultCredential: true, scopes: 'cloud-platform'},
      }).path,
    ).toBe('serviceAccount.scopes');
    expect(invalid(42).message).toMatch(/must be an object/);
    expect(invalid(null).message).toMatch(/got null/);
    expect(invalid('{not json').message).toMatch(/not valid JSON/);
  });

  it('an unknown authType and misspelt fields', () => {
    expect(
      invalid({authType: 'service_account', serviceAccount: {useDefaultCredential: true}}).path,
    ).toBe('authType');
    const typo = invalid({
      authType: 'serviceAccount',
      serviceAccount: {useDefaultCredential: true, useIDToken: true},
    });
    expect(typo.path).toBe('serviceAccount');
    expect(typo.message).toMatch(/unknown field "useIDToken"/);
  });

  it('a missing part for the authType', () => {
    expect(invalid({authType: 'serviceAccount'}).path).toBe('serviceAccount');
    expect(invalid({authType: 'http', http: {scheme: 'bearer', credentials: {}}}).path).toBe(
      'http.credentials.token',
    );
    expect(
      invalid({authType: 'http', http: {scheme: 'basic', credentials: {username: 'u'}}}).path,
    ).toBe('http.credentials');
  });

  it('the same field in both spellings with different values', () => {
    const error = invalid({
      authType: 'serviceAccount',
      serviceAccount: {useDefaultCredential: true, use_id_token: true, useIdToken: false},
    });
    expect(error.path).toBe('serviceAccount.useIdToken');
  });

  it('delegates without impersonation, scopes with ID tokens, a bad impersonation email', () => {
    expect(
      invalid({
        authType: 'serviceAccount',
        serviceAccount: {useDefaultCredential: true, delegates: ['a@p.iam.gserviceaccount.com']},
      }).path,
    ).toBe('serviceAccount.delegates');
    expect(
      invalid({
        authType: 'serviceAccount',
        serviceAccount: {
          useDefaultCredential: true,
          useIdToken: true,
          audience: 'a',
          scopes: ['s'],
        },
      }).path,
    ).toBe('serviceAccount.scopes');
    expect(
      invalid({
        authType: 'serviceAccount',
        serviceAccount: {useDefaultCredential: true, impersonateServiceAccount: 'not-an-email'},
      }).path,
    ).toBe('serviceAccount.impersonateServiceAccount');
  });
});
