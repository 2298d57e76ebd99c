import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {CredentialExchangeError, InvalidCredentialError} from '../../../src/credentials/errors.js';
import {GCLOUD_OAUTH_CLIENT_ID} from '../../../src/credentials/gcloud-identity.js';
import {startGoogleEmulator, type GoogleEmulator} from '../../../src/emulator/index.js';
import {createTokenSource} from '../../../src/tokens/create-token-source.js';
import {decodeJwtPayload} from '../../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../../src/tokens/token-cache.js';
import type {ServiceAccount} from '../../../src/credentials/types.js';
import {createFakeGcloud, type FakeGcloud} from '../../support/fake-gcloud/index.js';
import {errorText} from './support.js';

const AUDIENCE = 'https://svc-abc.a.run.app';

let emulator: GoogleEmulator;
let clock: number;
let gcloud: FakeGcloud;

beforeAll(async () => {
  clock = Date.now();
  emulator = await startGoogleEmulator({now: () => clock});
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => {
  clock = Date.now();
  gcloud = createFakeGcloud(emulator);
});

afterEach(() => {
  gcloud.remove();
});

function source(sa: Partial<ServiceAccount> = {}, options: {timeoutMs?: number} = {}) {
  return createTokenSource(
    {useGcloudCredential: true, useIdToken: true, ...sa},
    {
      env: gcloud.env(),
      ...(options.timeoutMs !== undefined ? {gcloudTimeoutMs: options.timeoutMs} : {}),
    },
  );
}

async function failure(promise: Promise<unknown>): Promise<CredentialExchangeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CredentialExchangeError);
  return error as CredentialExchangeError;
}

describe('a gcloud user account', () => {
  it("mints gcloud's identity token: aud is gcloud's client id, expiry from exp, no --audiences", async () => {
    const user = await gcloud.login();
    const token = await source().getToken({kind: 'id', audience: AUDIENCE});
    const claims = decodeJwtPayload(token.value);
    expect(claims).toMatchObject({aud: GCLOUD_OAUTH_CLIENT_ID, email: user.email});
    expect(token.expiresAt).toBe((claims?.exp as number) * 1000);
    expect(gcloud.runArgs()).toEqual([['auth', 'print-identity-token']]);
  });

  it('passes --account when one is named, and mints as that account', async () => {
    const alice = await gcloud.login();
    await gcloud.login(); // another account becomes the active one
    const token = await source({gcloudAccount: alice.email}).getToken({
      kind: 'id',
      audience: AUDIENCE,
    });
    expect(decodeJwtPayload(token.value)?.email).toBe(alice.email);
    expect(gcloud.runArgs()).toEqual([
      ['auth', 'print-identity-token', `--account=${alice.email}`],
    ]);
  });

  it('impersonates with --impersonate-service-account, --audiences and --include-email', async () => {
    await gcloud.login();
    const target = `runner@${emulator.projectId}.iam.gserviceaccount.com`;
    const hop = `hop@${emulator.projectId}.iam.gserviceaccount.com`;
    const token = await source({impersonateServiceAccount: target, delegates: [hop]}).getToken({
      kind: 'id',
      audience: AUDIENCE,
    });
    expect(decodeJwtPayload(token.value)).toMatchObject({aud: AUDIENCE, email: target});
    expect(gcloud.runArgs()).toEqual([
      [
        'auth',
        'print-identity-token',
        `--impersonate-service-account=${hop},${target}`,
        `--audiences=${AUDIENCE}`,
        '--include-email',
      ],
    ]);
  });
});

describe('a service account activated in gcloud', () => {
  it('mints for the requested audience with --audiences (no --include-email, which gcloud refuses there)', async () => {
    const key = await emulator.createServiceAccountKey();
    gcloud.activateServiceAccount(key);
    const token = await source({gcloudAccount: key.email}).getToken({
      kind: 'id',
      audience: AUDIENCE,
    });
    expect(decodeJwtPayload(token.value)).toMatchObject({aud: AUDIENCE, email: key.email});
    expect(gcloud.runArgs()).toEqual([
      ['auth', 'print-identity-token', `--account=${key.email}`, `--audiences=${AUDIENCE}`],
    ]);
  });
});

describe('through the shared TokenCache', () => {
  it('runs gcloud once for 50 concurrent callers', async () => {
    await gcloud.login();
    const cache = new TokenCache({now: () => clock});
    const gcloudSource = source();
    const tokens = await Promise.all(
      Array.from({length: 50}, () =>
        cache.get(gcloudSource, {kind: 'id', audience: GCLOUD_OAUTH_CLIENT_ID}),
      ),
    );
    expect(new Set(tokens.map((t) => t.value)).size).toBe(1);
    expect(gcloud.runs()).toBe(1);
  });

  it('shares one token between sources of the same account and store', async () => {
    await gcloud.login();
    const cache = new TokenCache({now: () => clock});
    const first = await cache.get(source(), {kind: 'id', audience: GCLOUD_OAUTH_CLIENT_ID});
    const again = await cache.get(source(), {kind: 'id', audience: GCLOUD_OAUTH_CLIENT_ID});
    expect(again.value).toBe(first.value);
    expect(gcloud.runs()).toBe(1);
  });

  it('refreshes once when the token nears exp, and at most once per lifetime under concurrency', async () => {
    await gcloud.login();
    const cache = new TokenCache({now: () => clock});
    const gcloudSource = source();
    const request = {kind: 'id', audience: GCLOUD_OAUTH_CLIENT_ID} as const;
    const first = await cache.get(gcloudSource, request);
    // Within the token's fresh life: no run.
    clock += 30 * 60_000;
    await Promise.all(Array.from({length: 20}, () => cache.get(gcloudSource, request)));
    expect(gcloud.runs()).toBe(1);
    // 4 minutes before exp (inside the 5-minute margin): callers still get the valid token at
    // once, and one background run replaces it.
    clock = first.expiresAt - 4 * 60_000;
    const during = await Promise.all(
      Array.from({length: 20}, () => cache.get(gcloudSource, request)),
    );
    expect(during.every((t) => t.value === first.value)).toBe(true);
    expect(cache.stats().fetches).toBe(2);
    // Once that run is done, the next caller gets the new token.
    await expect
      .poll(async () => (await cache.get(gcloudSource, request)).value)
      .not.toBe(first.value);
    const next = await cache.get(gcloudSource, request);
    expect(next.expiresAt).toBeGreaterThan(first.expiresAt);
    expect(gcloud.runs()).toBe(2);
  });

  it('keys the cache on the credential store, not on names a stranger can type', async () => {
    const user = await gcloud.login();
    const id = source().id;
    expect(id).toMatch(/^gcloud:sha256:[\w-]{43}$/);
    expect(id).not.toContain(user.refreshToken);
    expect(source().id).toBe(id);
    expect(source({gcloudAccount: user.email}).id).not.toBe(id);
    // Same account name, same directory path: a new login changes the store and the key.
    gcloud.logout(user.email);
    expect(source().id).not.toBe(id);
    // Another configuration directory with the same account is another key.
    const other = createFakeGcloud(emulator);
    try {
      expect(
        createTokenSource(
          {useGcloudCredential: true, useIdToken: true, gcloudAccount: user.email},
          {env: other.env()},
        ).id,
      ).not.toBe(source({gcloudAccount: user.email}).id);
    } finally {
      other.remove();
    }
  });
});

describe('errors that explain', () => {
  it('gcloud not installed: how to install it, the PATH of desktop clients, and what to use instead', async () => {
    const error = await failure(
      createTokenSource(
        {useGcloudCredential: true, useIdToken: true},
        {env: gcloud.env({installed: false})},
      ).getToken({kind: 'id', audience: AUDIENCE}),
    );
    expect(error.code).toBe('gcloud_not_installed');
    expect(error.message).toContain('no "gcloud" executable was found on PATH');
    expect(error.message).toContain('https://cloud.google.com/sdk/docs/install');
    expect(error.message).toContain('gcloud auth login');
    expect(error.message).toContain('"env"');
    expect(error.message).toMatch(/service-account key .*--key-file/);
    expect(error.message).toContain('--impersonate');
  });

  it('not logged in: gcloud auth login', async () => {
    const error = await failure(source().getToken({kind: 'id', audience: AUDIENCE}));
    expect(error.code).toBe('gcloud_login_required');
    expect(error.message).toContain('Fix: run `gcloud auth login`');
    expect(error.message).toContain('You do not currently have an active account selected');
  });

  it('a named account without credentials: gcloud auth login ACCOUNT', async () => {
    const error = await failure(
      source({gcloudAccount: 'nobody@example.com'}).getToken({kind: 'id', audience: AUDIENCE}),
    );
    expect(error.code).toBe('gcloud_login_required');
    expect(error.message).toContain('`gcloud auth login nobody@example.com`');
  });

  it('an expired or revoked login: gcloud auth login, with no refresh token in any text', async () => {
    const user = await gcloud.login();
    emulator.revokeRefreshToken(user.refreshToken);
    const error = await failure(source().getToken({kind: 'id', audience: AUDIENCE}));
    expect(error.code).toBe('gcloud_login_required');
    expect(error.message).toContain('invalid_grant');
    expect(error.message).toContain('gcloud auth login');
    expect(errorText(error)).not.toContain(user.refreshToken);
  });

  it("gcloud's refusal of --audiences for a user names the flag to drop", async () => {
    // gcloud's own text, for an account it holds as a user.
    const text =
      'ERROR: (gcloud.auth.print-identity-token) Invalid account type for `--audiences`. Requires valid service account.';
    const env = {...gcloud.env(), MGA_FAKE_GCLOUD_STDERR: text};
    const error = await failure(
      createTokenSource(
        {
          useGcloudCredential: true,
          useIdToken: true,
          gcloudAccount: `odd@${emulator.projectId}.iam.gserviceaccount.com`,
        },
        {env},
      ).getToken({kind: 'id', audience: AUDIENCE}),
    );
    expect(error.code).toBe('gcloud_audience_unsupported');
    expect(error.message).toContain('drop the audience (serviceAccount.audience, or --audience');
    expect(error.message).toContain('impersonateServiceAccount (--impersonate SA_EMAIL)');
  });

  it('a refused impersonation names the role and the binding command', async () => {
    const user = await gcloud.login();
    const target = `locked@${emulator.projectId}.iam.gserviceaccount.com`;
    emulator.denyImpersonation(user.email, target);
    const error = await failure(
      source({impersonateServiceAccount: target}).getToken({kind: 'id', audience: AUDIENCE}),
    );
    expect(error.code).toBe('forbidden');
    expect(error.message).toContain(
      `gcloud iam service-accounts add-iam-policy-binding ${target} --member=user:YOUR_EMAIL --role=roles/iam.serviceAccountTokenCreator`,
    );
  });

  it('a gcloud that hangs is stopped after the timeout', async () => {
    await gcloud.login();
    const env = {...gcloud.env(), MGA_FAKE_GCLOUD_HANG: '1'};
    const error = await failure(
      createTokenSource(
        {useGcloudCredential: true, useIdToken: true},
        {env, gcloudTimeoutMs: 1000},
      ).getToken({kind: 'id', audience: AUDIENCE}),
    );
    expect(error.code).toBe('gcloud_failed');
    expect(error.message).toContain('did not finish within 1 s and was stopped');
  });

  it('a gcloud that floods stdout is stopped at the output bound', async () => {
    const env = {...gcloud.env(), MGA_FAKE_GCLOUD_FLOOD: '1'};
    const error = await failure(
      createTokenSource({useGcloudCredential: true, useIdToken: true}, {env}).getToken({
        kind: 'id',
        audience: AUDIENCE,
      }),
    );
    expect(error.code).toBe('gcloud_failed');
    expect(error.message).toContain('printed far more than an identity token');
  });

  it("scrubs gcloud's stderr before showing it", async () => {
    const jwt = await emulator.mintIdToken({audience: AUDIENCE});
    const refresh = `1//0g${'A'.repeat(60)}`;
    const env = {
      ...gcloud.env(),
      MGA_FAKE_GCLOUD_STDERR: `ERROR: (gcloud.auth.print-identity-token) token ${jwt} refresh ${refresh} went wrong`,
    };
    const error = await failure(
      createTokenSource({useGcloudCredential: true, useIdToken: true}, {env}).getToken({
        kind: 'id',
        audience: AUDIENCE,
      }),
    );
    expect(error.code).toBe('gcloud_failed');
    expect(error.message).toContain('went wrong');
    expect(error.message).toContain('[redacted sha256:');
    const text = errorText(error);
    expect(text).not.toContain(jwt.split('.')[1]);
    expect(text).not.toContain(refresh.slice(5, 40));
  });

  it('refuses access tokens: gcloud is used for identity tokens only', async () => {
    const error = await failure(
      source().getToken({
        kind: 'access',
        scopes: ['https://www.googleapis.com/auth/cloud-platform'],
      }),
    );
    expect(error.code).toBe('unsupported_credential');
    expect(gcloud.runs()).toBe(0);
  });

  it('refuses an audience gcloud would split at its comma', async () => {
    const key = await emulator.createServiceAccountKey();
    await expect(
      source({gcloudAccount: key.email}).getToken({kind: 'id', audience: 'https://a.example,b'}),
    ).rejects.toBeInstanceOf(InvalidCredentialError);
    expect(gcloud.runs()).toBe(0);
  });
});

describe('describe()', () => {
  it('says what gcloud mints without running it', async () => {
    const description = await source({gcloudAccount: 'dev@example.com'}).describe();
    expect(description).toMatchObject({
      kind: 'gcloud_cli',
      principal: 'dev@example.com',
      origin: 'gcloud CLI (--account=dev@example.com)',
      canMintIdTokens: true,
    });
    expect(description.note).toContain(GCLOUD_OAUTH_CLIENT_ID);
    expect(gcloud.runs()).toBe(0);
  });
});

describe("the cache's retry policy", () => {
  it('gives gcloud its own time: an attempt timer shorter than a gcloud run neither kills it nor starts another', async () => {
    await gcloud.login();
    // The cache's attempt timer (2 s by default) fires at once here: as if gcloud took longer
    // than that to start, which the real one (Python) often does.
    const cache = new TokenCache({
      now: () => clock,
      retry: {
        sleep: (ms, signal) =>
          ms <= 2000
            ? Promise.resolve()
            : new Promise((resolve, reject) => {
                const timer = setTimeout(resolve, ms);
                signal.addEventListener('abort', () => {
                  clearTimeout(timer);
                  reject(signal.reason as Error);
                });
              }),
      },
    });
    const token = await cache.get(source(), {kind: 'id', audience: GCLOUD_OAUTH_CLIENT_ID});
    expect(decodeJwtPayload(token.value)?.aud).toBe(GCLOUD_OAUTH_CLIENT_ID);
    expect(gcloud.runs()).toBe(1);
  });

  it('does not retry a gcloud failure: one run, the words that say what to do', async () => {
    const cache = new TokenCache({now: () => clock});
    const error = await failure(
      cache.get(source(), {kind: 'id', audience: GCLOUD_OAUTH_CLIENT_ID}),
    );
    expect(error.code).toBe('gcloud_login_required');
    expect(error.message).toContain('gcloud auth login');
    expect(gcloud.runs()).toBe(1);
  });
});
