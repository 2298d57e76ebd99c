import {generateKeyPairSync} from 'node:crypto';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startGoogleEmulator, type GoogleEmulator} from '../../../src/emulator/index.js';
import {CredentialExchangeError, InvalidCredentialError} from '../../../src/credentials/errors.js';
import {createTokenSource} from '../../../src/tokens/create-token-source.js';
import {decodeJwtPayload} from '../../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../../src/tokens/token-cache.js';
import type {ServiceAccountCredential} from '../../../src/credentials/types.js';
import {keyCredential} from './support.js';

const AUDIENCE = 'https://svc-abc.a.run.app';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

let emulator: GoogleEmulator;
let key: ServiceAccountCredential;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  key = keyCredential((await emulator.createServiceAccountKey()).json);
  // Routing through the option's env: this file never touches process.env.
  env = {GOOGLE_AUTH_EMULATOR_HOST: emulator.host};
});

afterAll(async () => {
  await emulator.close();
});

function source(credential: ServiceAccountCredential = key) {
  return createTokenSource({serviceAccountCredential: credential}, {env});
}

async function failure(promise: Promise<unknown>): Promise<CredentialExchangeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CredentialExchangeError);
  return error as CredentialExchangeError;
}

describe('explicit key', () => {
  it('mints an ID token for the audience, with expiry from its exp', async () => {
    emulator.resetCounts();
    const token = await source().getToken({kind: 'id', audience: AUDIENCE});
    const claims = decodeJwtPayload(token.value);
    expect(claims).toMatchObject({
      aud: AUDIENCE,
      email: key.clientEmail,
      email_verified: true,
      iss: 'https://accounts.google.com',
    });
    expect(token.expiresAt).toBe((claims?.exp as number) * 1000);
    expect(emulator.requests.byEndpoint.token).toBe(1);
  });

  it('mints an access token for the scopes, with expiry from expires_in', async () => {
    emulator.setTokenLifetime(600);
    try {
      const before = Date.now();
      const token = await source().getToken({kind: 'access', scopes: [CLOUD_PLATFORM]});
      const after = Date.now();
      expect(token.value).toMatch(/^ya29\./);
      expect(token.expiresAt).toBeGreaterThanOrEqual(before + 600_000);
      expect(token.expiresAt).toBeLessThanOrEqual(after + 600_000);
    } finally {
      emulator.setTokenLifetime(3600);
    }
  });

  it('fetches a fresh token on every call (the TokenCache is the only cache)', async () => {
    const s = source();
    emulator.resetCounts();
    const first = await s.getToken({kind: 'access', scopes: [CLOUD_PLATFORM]});
    const second = await s.getToken({kind: 'access', scopes: [CLOUD_PLATFORM]});
    await s.getToken({kind: 'id', audience: AUDIENCE});
    await s.getToken({kind: 'id', audience: AUDIENCE});
    expect(second.value).not.toBe(first.value);
    expect(emulator.requests.byEndpoint.token).toBe(4);
  });

  it('describes the key without secrets', async () => {
    const description = await source().describe();
    expect(description).toEqual({
      kind: 'service_account_key',
      principal: key.clientEmail,
      origin: 'explicit key',
      projectId: emulator.projectId,
      canMintIdTokens: true,
    });
  });

  it('takes the emulator host from the emulatorHost option', async () => {
    const s = createTokenSource(
      {serviceAccountCredential: key},
      {emulatorHost: emulator.host, env: {}},
    );
    const token = await s.getToken({kind: 'id', audience: AUDIENCE});
    expect(decodeJwtPayload(token.value)?.aud).toBe(AUDIENCE);
  });

  it('rejects with the abort reason when the signal aborts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    await expect(
      source().getToken({kind: 'id', audience: AUDIENCE}, controller.signal),
    ).rejects.toThrow('caller gave up');
  });
});

describe('explicit key failures', () => {
  it('a key Google does not know: 400 invalid_grant, named, with the fix', async () => {
    const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048});
    const stranger: ServiceAccountCredential = {
      ...key,
      privateKeyId: 'deadbeef',
      privateKey: privateKey.export({type: 'pkcs8', format: 'pem'}).toString(),
    };
    const error = await failure(source(stranger).getToken({kind: 'id', audience: AUDIENCE}));
    expect(error.code).toBe('exchange_failed');
    expect(error.message).toContain(`an ID token for audience "${AUDIENCE}"`);
    expect(error.message).toContain(
      `service account ${key.clientEmail} (explicit key, key deadbeef)`,
    );
    expect(error.message).toContain(
      "Google's OAuth token endpoint answered HTTP 400 (invalid_grant",
    );
    expect(error.message).toContain('Create a new key');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('a PEM that is not a usable key fails at signing with the key fix', async () => {
    const broken = {
      ...key,
      privateKey: `-----BEGIN ${'PRIVATE'} KEY-----\nAAAA\n-----END ${'PRIVATE'} KEY-----\n`,
    };
    const error = await failure(
      source(broken).getToken({kind: 'access', scopes: [CLOUD_PLATFORM]}),
    );
    expect(error.message).toContain('an access token for scopes');
    expect(error.message).toContain('privateKey must be the PEM private key');
    expect(error.cause).toBeDefined();
  });

  it('a 500 from the token endpoint is a CredentialExchangeError with cause, after one request (the source retries nothing)', async () => {
    emulator.fault({endpoint: 'token', status: 500, count: 1});
    emulator.resetCounts();
    const error = await failure(source().getToken({kind: 'id', audience: AUDIENCE}));
    expect(emulator.requests.byEndpoint.token).toBe(1);
    expect(error.code).toBe('exchange_failed');
    expect(error.message).toContain('answered HTTP 500');
    expect(error.message).toContain('retry later');
    expect((error.cause as {response?: {status?: number}}).response?.status).toBe(500);
    emulator.clearFaults();
  });

  it('one transient 503 is retried by the token cache and the token still arrives', async () => {
    emulator.fault({endpoint: 'token', status: 503, count: 1});
    emulator.resetCounts();
    const token = await new TokenCache().get(source(), {kind: 'id', audience: AUDIENCE});
    expect(decodeJwtPayload(token.value)?.aud).toBe(AUDIENCE);
    expect(emulator.requests.byEndpoint.token).toBe(2);
  });

  it('a malformed answer is a CredentialExchangeError with cause', async () => {
    emulator.fault({endpoint: 'token', malformed: true, count: 1});
    const error = await failure(source().getToken({kind: 'access', scopes: [CLOUD_PLATFORM]}));
    expect(error.code).toBe('exchange_failed');
    expect(error.message).toMatch(/Google does not answer like that/);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('an answer without id_token is refused, not passed on', async () => {
    emulator.fault({endpoint: 'token', status: 200, body: '{"access_token":"x"}', count: 1});
    const error = await failure(source().getToken({kind: 'id', audience: AUDIENCE}));
    expect(error.message).toMatch(/no token in it|no ID token/);
  });

  it('a 401 maps to code unauthorized', async () => {
    emulator.fault({
      endpoint: 'token',
      status: 401,
      body: '{"error":"invalid_client","error_description":"The OAuth client was not found."}',
    });
    const error = await failure(source().getToken({kind: 'id', audience: AUDIENCE}));
    expect(error.code).toBe('unauthorized');
    expect(error.message).toContain('HTTP 401 (invalid_client: The OAuth client was not found.)');
  });

  it('a key without an email or PEM is refused when the source is built', () => {
    expect(() => source({...key, privateKey: 'not a key'})).toThrow(InvalidCredentialError);
    expect(() => source({...key, privateKey: 'not a key'})).toThrow(
      /serviceAccountCredential\.privateKey/,
    );
    expect(() => source({...key, clientEmail: ''})).toThrow(
      /serviceAccountCredential\.clientEmail/,
    );
  });

  it('a connection refused is a CredentialExchangeError naming the network', async () => {
    const s = createTokenSource(
      {serviceAccountCredential: key},
      {env: {GOOGLE_AUTH_EMULATOR_HOST: '127.0.0.1:1'}},
    );
    const error = await failure(s.getToken({kind: 'id', audience: AUDIENCE}));
    expect(error.message).toContain("the request to Google's OAuth token endpoint failed");
    expect(error.message).toContain('Check network access');
  });
});
