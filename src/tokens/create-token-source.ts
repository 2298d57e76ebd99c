import {InvalidCredentialError} from '../credentials/errors.js';
import {checkServiceAccountSource} from '../credentials/parse.js';
import type {ServiceAccount, ServiceAccountCredential} from '../credentials/types.js';
import type {FetchLike} from './google-routing.js';
import {AdcSource} from './sources/adc-source.js';
import {GcloudSource} from './sources/gcloud-source.js';
import {createGoogleTransport} from './sources/google-auth-transport.js';
import {ImpersonatedSource} from './sources/impersonated-source.js';
import {KeySource} from './sources/key-source.js';
import {defaultTokenCache, type TokenCache} from './token-cache.js';
import type {TokenSource} from './token-source.js';

/** Options of {@link createTokenSource}. Validated when the source is built. */
export interface TokenSourceOptions {
  /**
   * `host:port` of an emulator of Google's auth endpoints (token, IAM Credentials, STS,
   * JWKS). Default is `GOOGLE_AUTH_EMULATOR_HOST` from `env`; unset means Google itself.
   */
  emulatorHost?: string;
  /** The fetch that carries every request to Google. Default is the global `fetch`. */
  fetch?: FetchLike;
  /**
   * The environment read for `GOOGLE_AUTH_EMULATOR_HOST`, `GOOGLE_APPLICATION_CREDENTIALS`,
   * `GOOGLE_CLOUD_PROJECT`/`GCLOUD_PROJECT` and the ADC `id`. Default is `process.env`.
   * google-auth-library and gcp-metadata read the rest of ADC (`GCE_METADATA_HOST`,
   * `METADATA_SERVER_DETECTION`, the gcloud file) from `process.env` themselves. With
   * `useGcloudCredential` it is also the environment gcloud runs in (`PATH` finds it,
   * `CLOUDSDK_CONFIG` holds its logins), read when the source is built.
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Where impersonation keeps the caller's access token (the base credential's, scope
   * cloud-platform), so it is fetched once per lifetime. Default is {@link defaultTokenCache}.
   */
  cache?: TokenCache;
  /**
   * The gcloud executable for `useGcloudCredential`: a name looked up on the `PATH` of `env`,
   * or a path. It is an option of the caller, never a field of the credential, so that
   * credential data cannot choose a program to run. Default is `gcloud`.
   */
  gcloudCommand?: string;
  /** How long one gcloud run may take, in milliseconds (it is then killed). Default is 30000 (30 seconds). */
  gcloudTimeoutMs?: number;
}

const EMAIL = /^[^\s@/:?#]+@[^\s@/:?#]+\.[^\s@/:?#]+$/;

/**
 * The {@link TokenSource} for ADK's `ServiceAccount`: an explicit key
 * (`serviceAccountCredential`) or Application Default Credentials
 * (`useDefaultCredential`), optionally impersonating another service account
 * (`impersonateServiceAccount`, `delegates`) through IAM Credentials. Every request to
 * Google goes through google-auth-library with a transporter routed by
 * `GOOGLE_AUTH_EMULATOR_HOST` (or `emulatorHost`). With `useGcloudCredential` the installed
 * gcloud CLI mints ID tokens instead (`gcloud auth print-identity-token`, impersonating with
 * its own `--impersonate-service-account`).
 *
 * Equal inputs give sources with equal `id`s, so a shared {@link TokenCache} serves them
 * all from one token. Nothing is fetched until `getToken`.
 *
 * Throws {@link InvalidCredentialError} for a `ServiceAccount` that cannot work (neither a
 * key nor `useDefaultCredential`, both, a key without email or PEM key, a bad
 * impersonation email) and a TypeError for a bad option. `getToken` rejects with
 * `CredentialExchangeError` (lower error as `cause`, no secret in any text).
 *
 * @example
 * const source = createTokenSource({useDefaultCredential: true});
 * const token = await defaultTokenCache().get(source, {kind: 'id', audience: 'https://svc-abc.a.run.app'});
 */
export function createTokenSource(
  serviceAccount: ServiceAccount,
  options: TokenSourceOptions = {},
): TokenSource {
  checkOptions(options);
  checkServiceAccount(serviceAccount);
  if (serviceAccount.useGcloudCredential) {
    return new GcloudSource({
      account: serviceAccount.gcloudAccount,
      impersonate: serviceAccount.impersonateServiceAccount,
      delegates: serviceAccount.delegates,
      env: options.env ?? process.env,
      command: options.gcloudCommand,
      timeoutMs: options.gcloudTimeoutMs,
    });
  }
  const transport = createGoogleTransport({
    ...(options.emulatorHost !== undefined ? {emulatorHost: options.emulatorHost} : {}),
    ...(options.fetch ? {fetch: options.fetch} : {}),
    ...(options.env ? {env: options.env} : {}),
  });
  const cache = options.cache ?? defaultTokenCache();
  const base: TokenSource = serviceAccount.useDefaultCredential
    ? new AdcSource({transport, cache, ...(options.fetch ? {fetchKey: options.fetch} : {})})
    : new KeySource(serviceAccount.serviceAccountCredential as ServiceAccountCredential, transport);
  if (!serviceAccount.impersonateServiceAccount) return base;
  return new ImpersonatedSource(base, {
    target: serviceAccount.impersonateServiceAccount,
    delegates: serviceAccount.delegates ?? [],
    transport,
    cache,
  });
}

function checkOptions(options: TokenSourceOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('createTokenSource options must be an object');
  }
  if (options.emulatorHost !== undefined && typeof options.emulatorHost !== 'string') {
    throw new TypeError('TokenSourceOptions.emulatorHost must be a host:port string');
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new TypeError('TokenSourceOptions.fetch must be a fetch-compatible function');
  }
  if (options.env !== undefined && (options.env === null || typeof options.env !== 'object')) {
    throw new TypeError('TokenSourceOptions.env must be an object of environment variables');
  }
  if (
    options.cache !== undefined &&
    (options.cache === null || typeof options.cache.get !== 'function')
  ) {
    throw new TypeError('TokenSourceOptions.cache must be a TokenCache');
  }
  if (
    options.gcloudCommand !== undefined &&
    (typeof options.gcloudCommand !== 'string' || options.gcloudCommand.trim() === '')
  ) {
    throw new TypeError(
      'TokenSourceOptions.gcloudCommand must be the gcloud executable: a name on PATH or a path',
    );
  }
  if (
    options.gcloudTimeoutMs !== undefined &&
    (typeof options.gcloudTimeoutMs !== 'number' ||
      !Number.isFinite(options.gcloudTimeoutMs) ||
      options.gcloudTimeoutMs <= 0)
  ) {
    throw new TypeError(
      `TokenSourceOptions.gcloudTimeoutMs must be a positive number of milliseconds, got ${String(options.gcloudTimeoutMs)}`,
    );
  }
}

function checkServiceAccount(sa: ServiceAccount): void {
  if (sa === null || typeof sa !== 'object' || Array.isArray(sa)) {
    throw new InvalidCredentialError('serviceAccount', 'must be an object');
  }
  checkServiceAccountSource(sa);
  const key = sa.serviceAccountCredential;
  if (key) {
    const path = 'serviceAccount.serviceAccountCredential';
    if (typeof key !== 'object')
      throw new InvalidCredentialError(path, 'must be the JSON key object');
    if (typeof key.clientEmail !== 'string' || !EMAIL.test(key.clientEmail)) {
      throw new InvalidCredentialError(
        `${path}.clientEmail`,
        "must be the service account's email (client_email of the key file)",
      );
    }
    if (
      typeof key.privateKey !== 'string' ||
      !/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(key.privateKey)
    ) {
      throw new InvalidCredentialError(
        `${path}.privateKey`,
        'must be the PEM private key of the key file (its private_key field, unchanged)',
      );
    }
  }
  if (sa.gcloudAccount !== undefined) {
    if (
      typeof sa.gcloudAccount !== 'string' ||
      !EMAIL.test(sa.gcloudAccount) ||
      /[,=]/.test(sa.gcloudAccount)
    ) {
      throw new InvalidCredentialError(
        'serviceAccount.gcloudAccount',
        'must be the email of a gcloud account (a user, or a service account activated in gcloud); see `gcloud auth list`',
      );
    }
  }
  if (sa.useGcloudCredential) {
    // gcloud takes the chain as one comma-separated list of emails.
    const chain = [...(sa.delegates ?? []), sa.impersonateServiceAccount ?? ''];
    chain.forEach((email, i) => {
      if (email !== '' && (typeof email !== 'string' || /[,/]/.test(email))) {
        throw new InvalidCredentialError(
          i < chain.length - 1
            ? `serviceAccount.delegates.${i}`
            : 'serviceAccount.impersonateServiceAccount',
          'must be a service account email (name@project.iam.gserviceaccount.com) with useGcloudCredential',
        );
      }
    });
  }
  if (sa.useGcloudCredential && sa.audience !== undefined && sa.audience.includes(',')) {
    throw new InvalidCredentialError(
      'serviceAccount.audience',
      'must not contain a comma with useGcloudCredential: gcloud reads --audiences as a comma-separated list',
    );
  }
  if (sa.impersonateServiceAccount !== undefined) {
    if (
      typeof sa.impersonateServiceAccount !== 'string' ||
      !EMAIL.test(sa.impersonateServiceAccount)
    ) {
      throw new InvalidCredentialError(
        'serviceAccount.impersonateServiceAccount',
        'must be the email of the service account to impersonate (name@project.iam.gserviceaccount.com)',
      );
    }
  }
  if (sa.delegates !== undefined) {
    if (!Array.isArray(sa.delegates)) {
      throw new InvalidCredentialError(
        'serviceAccount.delegates',
        'must be an array of service account emails',
      );
    }
    sa.delegates.forEach((delegate, i) => {
      if (
        typeof delegate !== 'string' ||
        !(EMAIL.test(delegate) || /^projects\/[^/]+\/serviceAccounts\/[^/]+$/.test(delegate))
      ) {
        throw new InvalidCredentialError(
          `serviceAccount.delegates.${i}`,
          'must be a service account email',
        );
      }
    });
  }
}
