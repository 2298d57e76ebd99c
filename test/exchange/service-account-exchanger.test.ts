import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {
  CredentialExchangeError,
  InvalidCredentialError,
  McpGoogleAuthError,
} from '../../src/credentials/errors.js';
import {parseAuthCredential} from '../../src/credentials/parse.js';
import {
  AuthCredentialTypes,
  type AuthCredential,
  type ServiceAccount,
} from '../../src/credentials/types.js';
import {
  startGoogleEmulator,
  type EmulatorFault,
  type EmulatorServiceAccountKey,
  type GoogleEmulator,
} from '../../src/emulator/index.js';
import {ServiceAccountCredentialExchanger} from '../../src/exchange/service-account-exchanger.js';
import {decodeJwtPayload} from '../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {errorText, keyCredential, leakedSecrets} from '../tokens/sources/support.js';

const AUDIENCE = 'https://svc-abc.a.run.app';
let emulator: GoogleEmulator;
let key: EmulatorServiceAccountKey;
const savedEnv = {...process.env};

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  key = await emulator.createServiceAccountKey('agent@emulator-project.iam.gserviceaccount.com');
  Object.assign(process.env, emulator.env(), {GOOGLE_APPLICATION_CREDENTIALS: key.path});
});

afterAll(async () => {
  process.env = savedEnv;
  await emulator.close();
});

/** An exchanger with its own cache, whose retries of transient failures fit in a short budget. */
function exchanger(): ServiceAccountCredentialExchanger {
  return new ServiceAccountCredentialExchanger({
    cache: new TokenCache({retry: {budgetMs: 1000, initialDelayMs: 10}}),
  });
}

function bearer(credential: AuthCredential): {token: string; expiresAt: number} {
  expect(credential.authType).toBe('http');
  expect(credential.http?.scheme).toBe('bearer');
  return {token: credential.http!.credentials.token!, expiresAt: credential.http!.expiresAt!};
}

describe('ServiceAccountCredentialExchanger (the cases of the original ADK change)', () => {
  it('gets an ID token from default credentials', async () => {
    const result = await exchanger().exchange({
      authCredential: {
        authType: AuthCredentialTypes.SERVICE_ACCOUNT,
        serviceAccount: {useDefaultCredential: true, useIdToken: true, audience: AUDIENCE},
      },
      authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
    });
    expect(result.wasExchanged).toBe(true);
    const {token, expiresAt} = bearer(result.credential);
    const claims = decodeJwtPayload(token)!;
    expect(claims.aud).toBe(AUDIENCE);
    expect(claims.email).toBe(key.email);
    expect(claims.iss).toBe('https://accounts.google.com');
    expect(expiresAt).toBe(claims.exp);
  });

  it('gets an ID token from an explicit key (a raw key file, snake_case)', async () => {
    const authCredential = parseAuthCredential({
      auth_type: 'serviceAccount',
      service_account: {
        service_account_credential: key.json,
        use_id_token: true,
        audience: AUDIENCE,
      },
    });
    const {token} = bearer((await exchanger().exchange({authCredential})).credential);
    expect(decodeJwtPayload(token)).toMatchObject({aud: AUDIENCE, email: key.email});
  });

  it('refuses useIdToken without an audience, naming audience, before any token request', async () => {
    emulator.resetCounts();
    const error = await exchanger()
      .exchange({
        authCredential: {
          authType: 'serviceAccount',
          serviceAccount: {useDefaultCredential: true, useIdToken: true},
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidCredentialError);
    expect((error as InvalidCredentialError).path).toBe('serviceAccount.audience');
    expect((error as Error).message).toContain('audience');
    expect(emulator.requests.total).toBe(0);
  });

  it('surfaces a token fetch failure as CredentialExchangeError with its cause, and no secret in the text', async () => {
    const echoed = await emulator.mintIdToken({audience: AUDIENCE});
    // The token cache retries a 500 within its budget (kept short here): every answer echoes a token.
    emulator.fault({
      endpoint: 'token',
      status: 500,
      count: 1000,
      body: JSON.stringify({error: 'internal_failure', error_description: `echo ${echoed}`}),
    });
    try {
      const error = await new ServiceAccountCredentialExchanger({
        cache: new TokenCache({retry: {budgetMs: 1000, initialDelayMs: 10}}),
      })
        .exchange({
          authCredential: {
            authType: 'serviceAccount',
            serviceAccount: {
              serviceAccountCredential: keyCredential(key.json),
              useIdToken: true,
              audience: 'https://failing.a.run.app',
            },
          },
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CredentialExchangeError);
      const exchangeError = error as CredentialExchangeError;
      expect(exchangeError.cause).toBeDefined();
      expect(exchangeError.message).toMatch(/ID token/);
      expect(exchangeError.message).toContain('HTTP 500');
      expect(exchangeError.message).toMatch(/Gave up after \d+ attempts over \d\.\d s/);
      expect(leakedSecrets(errorText(exchangeError), [key.json.private_key!, echoed])).toEqual([]);
    } finally {
      emulator.clearFaults();
    }
  });
});

describe('ServiceAccountCredentialExchanger beyond the original change', () => {
  it('keeps the access-token path unchanged without useIdToken', async () => {
    const before = Date.now();
    const {token, expiresAt} = bearer(
      (
        await exchanger().exchange({
          authCredential: {
            authType: 'serviceAccount',
            serviceAccount: {useDefaultCredential: true},
          },
        })
      ).credential,
    );
    expect(decodeJwtPayload(token)).toBeUndefined();
    expect(expiresAt * 1000).toBeGreaterThan(before + 50 * 60_000);
  });

  it('serves repeated and concurrent exchanges from one token request', async () => {
    const shared = exchanger();
    const authCredential: AuthCredential = {
      authType: 'serviceAccount',
      serviceAccount: {
        useDefaultCredential: true,
        useIdToken: true,
        audience: 'https://shared.a.run.app',
      },
    };
    emulator.resetCounts();
    const results = await Promise.all(
      Array.from({length: 100}, () => shared.exchange({authCredential})),
    );
    await shared.exchange({
      authCredential: {...authCredential, serviceAccount: {...authCredential.serviceAccount}},
    });
    expect(new Set(results.map((r) => r.credential.http!.credentials.token)).size).toBe(1);
    expect(emulator.requests.byEndpoint.token).toBe(1);
  });

  it('follows changes to a credential object it has already exchanged', async () => {
    const shared = exchanger();
    const serviceAccount: ServiceAccount = {
      useDefaultCredential: true,
      useIdToken: true,
      audience: 'https://first.a.run.app',
    };
    const authCredential: AuthCredential = {authType: 'serviceAccount', serviceAccount};
    const first = bearer((await shared.exchange({authCredential})).credential);
    expect(decodeJwtPayload(first.token)?.aud).toBe('https://first.a.run.app');
    serviceAccount.audience = 'https://second.a.run.app';
    const second = bearer((await shared.exchange({authCredential})).credential);
    expect(decodeJwtPayload(second.token)?.aud).toBe('https://second.a.run.app');
    delete serviceAccount.audience;
    serviceAccount.useIdToken = false;
    const access = bearer((await shared.exchange({authCredential})).credential);
    expect(decodeJwtPayload(access.token)).toBeUndefined();
  });

  it('keeps key and token text out of every error it throws', async () => {
    const minted = await emulator.mintIdToken({audience: AUDIENCE});
    const brokenKey = key.json.private_key!.replace(/\n(.{8})/, '\n!!!!!!!!');
    const secrets = [key.json.private_key!, brokenKey, minted];
    const withKey = {serviceAccountCredential: keyCredential(key.json)};
    const attempts: {serviceAccount: ServiceAccount; fault?: EmulatorFault}[] = [
      // Not a PEM key: refused while parsing (InvalidCredentialError).
      {
        serviceAccount: {
          serviceAccountCredential: {...withKey.serviceAccountCredential, privateKey: brokenKey},
        },
      },
      // The token endpoint refuses, echoing a token.
      {
        serviceAccount: {...withKey, useIdToken: true, audience: 'https://refused.a.run.app'},
        fault: {
          endpoint: 'token',
          status: 400,
          body: JSON.stringify({error: 'invalid_grant', error_description: `bad ${minted}`}),
        },
      },
      // IAM refuses the impersonation, echoing a token.
      {
        serviceAccount: {
          ...withKey,
          impersonateServiceAccount: `target@${emulator.projectId}.iam.gserviceaccount.com`,
          useIdToken: true,
          audience: 'https://impersonated.a.run.app',
        },
        fault: {
          endpoint: 'iam.generateIdToken',
          status: 403,
          body: JSON.stringify({error: {code: 403, status: 'PERMISSION_DENIED', message: minted}}),
        },
      },
      // The answer holds a broken token.
      {
        serviceAccount: {
          useDefaultCredential: true,
          useIdToken: true,
          audience: 'https://bad.a.run.app',
        },
        // A malformed answer is retried: every answer within the retry budget is broken.
        fault: {
          endpoint: 'token',
          body: JSON.stringify({id_token: minted.slice(0, 60)}),
          count: 1000,
        },
      },
    ];
    try {
      for (const {serviceAccount, fault} of attempts) {
        if (fault) emulator.fault(fault);
        const error = await exchanger()
          .exchange({authCredential: {authType: 'serviceAccount', serviceAccount}})
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(McpGoogleAuthError);
        expect(leakedSecrets(errorText(error), secrets)).toEqual([]);
        emulator.clearFaults();
      }
    } finally {
      emulator.clearFaults();
    }
  });

  it('refuses credentials that are not service accounts', async () => {
    const error = await exchanger()
      .exchange({authCredential: {authType: 'apiKey', apiKey: 'k'}})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect((error as CredentialExchangeError).code).toBe('unsupported_credential');
  });
});
