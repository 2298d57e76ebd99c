import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {CredentialExchangeError, InvalidCredentialError} from '../../src/credentials/errors.js';
import {parseAuthCredential} from '../../src/credentials/parse.js';
import {AuthCredentialTypes, type AuthCredential} from '../../src/credentials/types.js';
import {
  startGoogleEmulator,
  type EmulatorServiceAccountKey,
  type GoogleEmulator,
} from '../../src/emulator/index.js';
import {ServiceAccountCredentialExchanger} from '../../src/exchange/service-account-exchanger.js';
import {decodeJwtPayload} from '../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../src/tokens/token-cache.js';

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

function exchanger(): ServiceAccountCredentialExchanger {
  return new ServiceAccountCredentialExchanger({cache: new TokenCache()});
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

  it('refuses useIdToken without an audience, naming audience', async () => {
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
    expect(emulator.requests.byEndpoint.token).toBeGreaterThanOrEqual(0);
  });

  it('surfaces a token fetch failure as CredentialExchangeError with its cause, and no secret in the text', async () => {
    emulator.fault({endpoint: 'token', status: 500, count: 10});
    try {
      const error = await exchanger()
        .exchange({
          authCredential: {
            authType: 'serviceAccount',
            serviceAccount: {
              serviceAccountCredential: parseAuthCredential({
                authType: 'serviceAccount',
                serviceAccount: {serviceAccountCredential: key.json},
              }).serviceAccount!.serviceAccountCredential!,
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
      const keyBody = key.json.private_key!.split('\n')[1]!;
      for (const text of [
        exchangeError.message,
        String(exchangeError.stack),
        String(exchangeError.cause),
      ]) {
        expect(text).not.toContain(keyBody.slice(0, 24));
      }
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

  it('refuses credentials that are not service accounts', async () => {
    const error = await exchanger()
      .exchange({authCredential: {authType: 'apiKey', apiKey: 'k'}})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect((error as CredentialExchangeError).code).toBe('unsupported_credential');
  });
});
