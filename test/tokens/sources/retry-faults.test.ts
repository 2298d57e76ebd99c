/**
 * One retry policy for every token fetch, against the emulator's faults on every endpoint a
 * token comes from: the OAuth token endpoint (explicit key), the metadata server, IAM
 * Credentials (impersonation) and STS (workload identity federation). A burst of faults at
 * the moment a token is needed does not fail the fetch, and each faulted endpoint sees
 * exactly one request per attempt of ours: the clients underneath retry nothing on their own.
 */
import childProcess from 'node:child_process';
import {afterAll, beforeAll, beforeEach, describe, expect, it, vi} from 'vitest';
import {startGoogleEmulator} from '../../../src/emulator/index.js';
import type {EmulatorEndpoint, EmulatorFault, GoogleEmulator} from '../../../src/emulator/index.js';
import {CredentialExchangeError} from '../../../src/credentials/errors.js';
import {createTokenSource} from '../../../src/tokens/create-token-source.js';
import {decodeJwtPayload} from '../../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../../src/tokens/token-cache.js';
import type {TokenRetryOptions} from '../../../src/tokens/retry-policy.js';
import type {TokenRequest, TokenSource} from '../../../src/tokens/token-source.js';
import {CLEAN_ADC_ENV, emptyGcloudDir, keyCredential, setEnv} from './support.js';

// ADC reads process.env: this file owns its process (vitest runs files in separate forks).
const AUDIENCE = 'https://svc-retry.a.run.app';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
/** Short waits so that the matrix runs in seconds; the shape of the policy is the default's. */
const FAST: TokenRetryOptions = {
  initialDelayMs: 5,
  maxDelayMs: 40,
  attemptTimeoutMs: 400,
  budgetMs: 4_000,
};

let emulator: GoogleEmulator;
let restoreEnv: () => void;
let gcloud: {path: string; remove(): void};
const paths: Record<
  string,
  {source: (cache: TokenCache) => TokenSource; request: TokenRequest; endpoint: EmulatorEndpoint}
> = {};
vi.spyOn(childProcess, 'exec').mockImplementation(() => {
  throw new Error('tests must never exec gcloud');
});

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  gcloud = emptyGcloudDir();
  restoreEnv = setEnv({...CLEAN_ADC_ENV, ...emulator.env(), CLOUDSDK_CONFIG: gcloud.path});
  const key = keyCredential((await emulator.createServiceAccountKey()).json);
  const federation = await emulator.createExternalAccountFile({
    serviceAccountEmail: `wif@${emulator.projectId}.iam.gserviceaccount.com`,
  });
  const id: TokenRequest = {kind: 'id', audience: AUDIENCE};
  const access: TokenRequest = {kind: 'access', scopes: [CLOUD_PLATFORM]};
  const target = `target@${emulator.projectId}.iam.gserviceaccount.com`;
  const adcEnv = (file?: string) => ({...process.env, GOOGLE_APPLICATION_CREDENTIALS: file});
  Object.assign(paths, {
    'token endpoint (ID token)': {
      source: (cache: TokenCache) => createTokenSource({serviceAccountCredential: key}, {cache}),
      request: id,
      endpoint: 'token',
    },
    'token endpoint (access token)': {
      source: (cache: TokenCache) => createTokenSource({serviceAccountCredential: key}, {cache}),
      request: access,
      endpoint: 'token',
    },
    'metadata server (ID token)': {
      source: (cache: TokenCache) =>
        createTokenSource({useDefaultCredential: true}, {env: adcEnv(), cache}),
      request: id,
      endpoint: 'metadata.identity',
    },
    'metadata server (access token)': {
      source: (cache: TokenCache) =>
        createTokenSource({useDefaultCredential: true}, {env: adcEnv(), cache}),
      request: access,
      endpoint: 'metadata.token',
    },
    'IAM Credentials generateIdToken': {
      source: (cache: TokenCache) =>
        createTokenSource(
          {serviceAccountCredential: key, impersonateServiceAccount: target},
          {cache},
        ),
      request: id,
      endpoint: 'iam.generateIdToken',
    },
    'IAM Credentials generateAccessToken': {
      source: (cache: TokenCache) =>
        createTokenSource(
          {serviceAccountCredential: key, impersonateServiceAccount: target},
          {cache},
        ),
      request: access,
      endpoint: 'iam.generateAccessToken',
    },
    'STS (federated token under impersonation)': {
      source: (cache: TokenCache) =>
        createTokenSource({useDefaultCredential: true}, {env: adcEnv(federation.path), cache}),
      request: id,
      endpoint: 'sts',
    },
  });
});

afterAll(async () => {
  restoreEnv();
  gcloud.remove();
  await emulator.close();
});

beforeEach(() => {
  emulator.clearFaults();
  emulator.resetCounts();
});

const BURSTS: Record<string, Omit<EmulatorFault, 'endpoint'>> = {
  '5 × HTTP 500': {status: 500, count: 5},
  '5 × HTTP 503 with Retry-After: 0': {status: 503, headers: {'retry-after': '0'}, count: 5},
  '5 × HTTP 429': {status: 429, count: 5},
  '5 × connection reset': {reset: true, count: 5},
  '5 × malformed answer': {malformed: true, count: 5},
  '2 × no answer (timeout)': {stall: true, count: 2},
};

describe('every token endpoint survives a burst of faults, one request per attempt', () => {
  for (const pathName of [
    'token endpoint (ID token)',
    'token endpoint (access token)',
    'metadata server (ID token)',
    'metadata server (access token)',
    'IAM Credentials generateIdToken',
    'IAM Credentials generateAccessToken',
    'STS (federated token under impersonation)',
  ]) {
    for (const [burstName, burst] of Object.entries(BURSTS)) {
      it(`${pathName}: ${burstName}`, async () => {
        const path = paths[pathName]!;
        const cache = new TokenCache({retry: FAST});
        emulator.fault({...burst, endpoint: path.endpoint});
        const token = await cache.get(path.source(cache), path.request);
        if (path.request.kind === 'id') expect(decodeJwtPayload(token.value)?.aud).toBe(AUDIENCE);
        else expect(token.value).toMatch(/^ya29\./);
        expect(emulator.requests.byEndpoint[path.endpoint]).toBe((burst.count ?? 1) + 1);
        // Under impersonation an outer attempt may time out with the inner one it waits on:
        // the retries of both are counted, the requests are not doubled.
        if (!pathName.startsWith('STS')) expect(cache.stats().retries).toBe(burst.count);
      });
    }
  }
});

describe('what is not retried, and what is said when retries run out', () => {
  it('invalid_grant from the token endpoint: one request, reported at once', async () => {
    const cache = new TokenCache({retry: FAST});
    emulator.fault({
      endpoint: 'token',
      status: 400,
      body: '{"error":"invalid_grant","error_description":"Invalid JWT Signature."}',
      count: 10,
    });
    const error = await cache
      .get(
        paths['token endpoint (ID token)']!.source(cache),
        paths['token endpoint (ID token)']!.request,
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialExchangeError);
    expect((error as Error).message).toContain('invalid_grant: Invalid JWT Signature.');
    expect((error as Error).message).not.toMatch(/attempt/);
    expect(emulator.requests.byEndpoint.token).toBe(1);
  });

  it('403 on impersonation: one request to IAM, reported at once', async () => {
    const cache = new TokenCache({retry: FAST});
    emulator.fault({endpoint: 'iam.generateIdToken', status: 403, count: 10});
    const path = paths['IAM Credentials generateIdToken']!;
    const error = await cache.get(path.source(cache), path.request).catch((e: unknown) => e);
    expect((error as CredentialExchangeError).code).toBe('forbidden');
    expect((error as Error).message).toContain('roles/iam.serviceAccountTokenCreator');
    expect(emulator.requests.byEndpoint['iam.generateIdToken']).toBe(1);
  });

  it('a fault that outlasts the budget fails with the attempts and the time it took', async () => {
    const cache = new TokenCache({retry: {...FAST, budgetMs: 300}});
    emulator.fault({endpoint: 'metadata.identity', status: 503, count: 1000});
    const path = paths['metadata server (ID token)']!;
    const error = await cache.get(path.source(cache), path.request).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/the metadata server .* answered HTTP 503/);
    expect((error as Error).message).toMatch(
      /Gave up after (\d+) attempts over 0\.\d s \(retry budget 0\.3 s\)\.$/,
    );
    const attempts = Number(/after (\d+) attempts/.exec((error as Error).message)?.[1]);
    expect(emulator.requests.byEndpoint['metadata.identity']).toBe(attempts);
  });

  it('Retry-After is honoured: the next attempt waits for it', async () => {
    const waits: number[] = [];
    const cache = new TokenCache({
      retry: {
        ...FAST,
        sleep: (ms, signal) => {
          waits.push(ms);
          return new Promise((resolve, reject) => {
            const timer = setTimeout(resolve, ms);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(signal.reason as Error);
            });
          });
        },
      },
    });
    emulator.fault({endpoint: 'token', status: 429, headers: {'retry-after': '1'}});
    const path = paths['token endpoint (ID token)']!;
    await cache.get(path.source(cache), path.request);
    expect(waits).toContain(1_000);
    expect(emulator.requests.byEndpoint.token).toBe(2);
  });
});
