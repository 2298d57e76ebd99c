import {generateKeyPairSync} from 'node:crypto';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startGoogleEmulator, type GoogleEmulator} from '../../../src/emulator/index.js';
import {CredentialExchangeError} from '../../../src/credentials/errors.js';
import type {ServiceAccountCredential} from '../../../src/credentials/types.js';
import {
  createTokenSource,
  type TokenSourceOptions,
} from '../../../src/tokens/create-token-source.js';
import {TokenCache} from '../../../src/tokens/token-cache.js';
import type {TokenRequest, TokenSource} from '../../../src/tokens/token-source.js';
import {errorText, keyCredential, leakedSecrets, recordingFetch} from './support.js';

// Every failing path, with every secret that crossed the wire (assertions, bearer tokens,
// refresh tokens, client secrets, minted tokens) and every key: none may show in any text
// of any error, cause chain and inspection included. ADC files come in through the `env`
// option, so this file leaves process.env alone.
const AUDIENCE = 'https://svc-abc.a.run.app';
const ID: TokenRequest = {kind: 'id', audience: AUDIENCE};
const ACCESS: TokenRequest = {
  kind: 'access',
  scopes: ['https://www.googleapis.com/auth/cloud-platform'],
};

let emulator: GoogleEmulator;
let recorder: ReturnType<typeof recordingFetch>;
let key: ServiceAccountCredential;
let stranger: ServiceAccountCredential;
let userFile: {path: string; json: Record<string, string>; email: string};
let impersonatedFile: {path: string; json: Record<string, unknown>};
let mintedToken: string;
const errors: {path: string; error: unknown}[] = [];
const extraSecrets: string[] = [];

function options(extra: Partial<TokenSourceOptions> = {}): TokenSourceOptions {
  return {
    env: {GOOGLE_AUTH_EMULATOR_HOST: emulator.host},
    fetch: recorder.fetch,
    cache: new TokenCache(),
    ...extra,
  };
}

async function collect(
  path: string,
  source: TokenSource,
  request: TokenRequest,
): Promise<CredentialExchangeError> {
  const error = await source.getToken(request).then(
    () => undefined,
    (e: unknown) => e,
  );
  errors.push({path, error});
  expect(error, path).toBeInstanceOf(CredentialExchangeError);
  const message = (error as Error).message;
  expect(message, path).toMatch(
    /^Could not get (an ID token for audience|an access token for scopes)/,
  );
  expect((error as Error).cause, path).toBeDefined();
  return error as CredentialExchangeError;
}

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  recorder = recordingFetch();
  key = keyCredential((await emulator.createServiceAccountKey()).json);
  const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048});
  stranger = {
    ...key,
    privateKeyId: 'unknown-key',
    privateKey: privateKey.export({type: 'pkcs8', format: 'pem'}).toString(),
  };
  userFile = await emulator.createAuthorizedUserFile();
  impersonatedFile = await emulator.createImpersonatedServiceAccountFile({
    targetEmail: `secret-target@${emulator.projectId}.iam.gserviceaccount.com`,
  });
  extraSecrets.push(
    key.privateKey,
    stranger.privateKey,
    userFile.json.refresh_token as string,
    userFile.json.client_secret as string,
    ...Object.values(
      (impersonatedFile.json.source_credentials ?? {}) as Record<string, string>,
    ).filter((v) => typeof v === 'string' && (v.includes('PRIVATE KEY') || v.startsWith('1//'))),
  );
  mintedToken = (await createTokenSource({serviceAccountCredential: key}, options()).getToken(ID))
    .value;
});

afterAll(async () => {
  await emulator.close();
});

describe('no secret in any error', () => {
  it('explicit key paths', async () => {
    const keySource = () => createTokenSource({serviceAccountCredential: key}, options());
    await collect(
      'unknown key',
      createTokenSource({serviceAccountCredential: stranger}, options()),
      ID,
    );
    await collect(
      'unknown key, access',
      createTokenSource({serviceAccountCredential: stranger}, options()),
      ACCESS,
    );
    await collect(
      'unusable PEM',
      createTokenSource(
        {
          serviceAccountCredential: {
            ...key,
            privateKey: `-----BEGIN ${'PRIVATE'} KEY-----\n${key.privateKey.slice(40, 120)}\n-----END ${'PRIVATE'} KEY-----\n`,
          },
        },
        options(),
      ),
      ID,
    );
    emulator.fault({
      endpoint: 'token',
      status: 500,
      count: 2,
      body: JSON.stringify({error: 'server_error', error_description: `echo ${mintedToken}`}),
    });
    await collect('500 echoing a token', keySource(), ID);
    emulator.fault({
      endpoint: 'token',
      status: 400,
      body: JSON.stringify({
        error: 'invalid_grant',
        error_description: `bad assertion ${mintedToken}`,
      }),
    });
    await collect('400 echoing a token', keySource(), ACCESS);
    emulator.fault({endpoint: 'token', status: 502, count: 2, body: `<html>${mintedToken}</html>`});
    await collect('502 html echoing a token', keySource(), ID);
    emulator.fault({endpoint: 'token', malformed: true});
    await collect('malformed', keySource(), ACCESS);
    emulator.fault({
      endpoint: 'token',
      status: 200,
      body: JSON.stringify({access_token: mintedToken}),
    });
    await collect('200 without id_token', keySource(), ID);
    await collect(
      'connection refused',
      createTokenSource(
        {serviceAccountCredential: key},
        options({env: {GOOGLE_AUTH_EMULATOR_HOST: '127.0.0.1:1'}}),
      ),
      ID,
    );
  });

  it('impersonation paths', async () => {
    const target = `secret-imp@${emulator.projectId}.iam.gserviceaccount.com`;
    const impersonating = () =>
      createTokenSource(
        {serviceAccountCredential: key, impersonateServiceAccount: target},
        options(),
      );
    emulator.denyImpersonation(key.clientEmail, `denied-${target}`);
    await collect(
      'IAM 403',
      createTokenSource(
        {serviceAccountCredential: key, impersonateServiceAccount: `denied-${target}`},
        options(),
      ),
      ID,
    );
    emulator.fault({endpoint: 'iam.generateIdToken', status: 401, count: 2});
    await collect('IAM 401 twice', impersonating(), ID);
    emulator.fault({
      endpoint: 'iam.generateAccessToken',
      status: 500,
      count: 2,
      body: JSON.stringify({
        error: {code: 500, status: 'INTERNAL', message: `echo ${mintedToken}`},
      }),
    });
    await collect('IAM 500 echoing a token', impersonating(), ACCESS);
    emulator.fault({
      endpoint: 'iam.generateIdToken',
      status: 200,
      body: JSON.stringify({token: `${mintedToken.slice(0, 30)}broken`}),
    });
    await collect('IAM answer not a JWT', impersonating(), ID);
    await collect(
      'caller fails first',
      createTokenSource(
        {serviceAccountCredential: stranger, impersonateServiceAccount: target},
        options(),
      ),
      ID,
    );
  });

  it('ADC file paths (authorized_user, impersonated_service_account)', async () => {
    const userEnv = {
      GOOGLE_AUTH_EMULATOR_HOST: emulator.host,
      GOOGLE_APPLICATION_CREDENTIALS: userFile.path,
      GOOGLE_CLOUD_PROJECT: emulator.projectId,
    };
    await collect(
      'authorized_user ID refusal',
      createTokenSource({useDefaultCredential: true}, options({env: userEnv})),
      ID,
    );
    emulator.fault({
      endpoint: 'token',
      status: 400,
      body: JSON.stringify({
        error: 'invalid_grant',
        error_description: `Bad refresh token ${userFile.json.refresh_token}`,
      }),
    });
    await collect(
      'authorized_user refresh refused',
      createTokenSource({useDefaultCredential: true}, options({env: userEnv})),
      ACCESS,
    );
    const impEnv = {
      GOOGLE_AUTH_EMULATOR_HOST: emulator.host,
      GOOGLE_APPLICATION_CREDENTIALS: impersonatedFile.path,
      GOOGLE_CLOUD_PROJECT: emulator.projectId,
    };
    emulator.fault({
      endpoint: 'iam.generateIdToken',
      status: 403,
      body: JSON.stringify({
        error: {code: 403, status: 'PERMISSION_DENIED', message: `denied ${mintedToken}`},
      }),
    });
    await collect(
      'impersonated file 403',
      createTokenSource({useDefaultCredential: true}, options({env: impEnv})),
      ID,
    );
    await collect(
      'missing ADC file',
      createTokenSource(
        {useDefaultCredential: true},
        options({
          env: {...impEnv, GOOGLE_APPLICATION_CREDENTIALS: `${impersonatedFile.path}.missing`},
        }),
      ),
      ID,
    );
  });

  it('none of the collected errors shows a secret', () => {
    const secrets = new Set([...recorder.secrets, ...extraSecrets, mintedToken]);
    // The recorder saw assertions, bearer tokens, refresh tokens and minted tokens.
    expect(secrets.size).toBeGreaterThan(10);
    // The detector itself finds a token or a line of a key wherever it is.
    expect(leakedSecrets(`x${mintedToken.slice(25, 60)}y`, [mintedToken])).toHaveLength(1);
    expect(leakedSecrets(`key: ${key.privateKey.split('\n')[3]}`, [key.privateKey])).toHaveLength(
      1,
    );
    expect(errors.length).toBeGreaterThanOrEqual(18);
    for (const {path, error} of errors) {
      expect(leakedSecrets(errorText(error), secrets), path).toEqual([]);
    }
  });
});
