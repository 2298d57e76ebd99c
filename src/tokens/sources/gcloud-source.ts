import {CredentialExchangeError, InvalidCredentialError} from '../../credentials/errors.js';
import {GCLOUD_OAUTH_CLIENT_ID, isServiceAccountEmail} from '../../credentials/gcloud-identity.js';
import {jwtExpiresAt} from '../jwt-claims.js';
import type {CredentialDescription, Token, TokenRequest, TokenSource} from '../token-source.js';
import {describeRequest} from './exchange-failure.js';
import {runGcloud} from './gcloud-cli.js';
import {gcloudSourceId} from './gcloud-config.js';
import {gcloudFailure, type GcloudFailureContext} from './gcloud-failures.js';

/** Default of {@link GcloudSourceOptions.timeoutMs}: 30 seconds. */
export const DEFAULT_GCLOUD_TIMEOUT_MS = 30_000;

/** Default of {@link GcloudSourceOptions.maxOutputBytes}: 64 KiB (an ID token is about 1 KiB). */
export const DEFAULT_GCLOUD_MAX_OUTPUT_BYTES = 64 * 1024;

/** Options of {@link GcloudSource}. */
export interface GcloudSourceOptions {
  /** `--account`. Default is gcloud's active account. */
  readonly account?: string | undefined;
  /** `--impersonate-service-account`: the service account to mint for (email). Default is none. */
  readonly impersonate?: string | undefined;
  /** Delegation chain before the impersonated account (emails). Default is none. */
  readonly delegates?: readonly string[] | undefined;
  /** The environment gcloud runs in (`PATH`, `CLOUDSDK_CONFIG`, ...). */
  readonly env: NodeJS.ProcessEnv;
  /** The executable, a name looked up on `env.PATH` or a path. Default is `gcloud`. */
  readonly command?: string | undefined;
  /** How long one gcloud run may take, in milliseconds. Default is 30000 (30 seconds). */
  readonly timeoutMs?: number | undefined;
  /** Most bytes gcloud may print on stdout or on stderr. Default is 65536 (64 KiB). */
  readonly maxOutputBytes?: number | undefined;
}

/** How much longer than a gcloud run the cache's attempt timer waits, in milliseconds. */
const ATTEMPT_GRACE_MS = 1000;

/** One JWT on a line of its own. */
const JWT_LINE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/m;

/**
 * ID tokens from the installed gcloud CLI: `gcloud auth print-identity-token`, run without a
 * shell, once per token (the {@link TokenCache} decides when; this source caches nothing).
 *
 * - A user account (or gcloud's active account): no `--audiences`, which gcloud refuses for
 *   users; the token's `aud` is gcloud's OAuth client id whatever audience was asked for,
 *   and Cloud Run accepts it from a user with `roles/run.invoker`.
 * - A service account (`account` is `…@….gserviceaccount.com`): `--audiences=AUD`, so the
 *   token carries the requested audience.
 * - Impersonation: `--impersonate-service-account=[DELEGATES,…]SA --audiences=AUD
 *   --include-email` (gcloud refuses `--include-email` for anything but impersonation).
 *
 * Failures are `CredentialExchangeError`s with a `gcloud_*` code (or `forbidden` for a refused
 * impersonation) that say what to do; gcloud's stderr is scrubbed before it is shown.
 */
export class GcloudSource implements TokenSource {
  readonly id: string;
  /**
   * A gcloud run takes seconds (Python starts, the login may be refreshed): the cache's retry
   * policy waits for it rather than ending it after one request's time. The run's own timeout
   * comes first, so its words (and its kill) are what a caller sees.
   */
  readonly attemptTimeoutMs: number;
  readonly #account: string | undefined;
  readonly #impersonate: string | undefined;
  readonly #chain: readonly string[];
  readonly #env: NodeJS.ProcessEnv;
  readonly #command: string;
  readonly #timeoutMs: number;
  readonly #maxOutputBytes: number;

  constructor(options: GcloudSourceOptions) {
    this.#account = options.account;
    this.#impersonate = options.impersonate;
    this.#chain = options.impersonate ? [...(options.delegates ?? []), options.impersonate] : [];
    this.#command = options.command ?? 'gcloud';
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_GCLOUD_TIMEOUT_MS;
    this.#maxOutputBytes = options.maxOutputBytes ?? DEFAULT_GCLOUD_MAX_OUTPUT_BYTES;
    this.attemptTimeoutMs = this.#timeoutMs + ATTEMPT_GRACE_MS;
    // Prompts would wait on a terminal nobody watches: gcloud must fail instead.
    this.#env = {...options.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1'};
    this.id = gcloudSourceId({account: this.#account, impersonation: this.#chain}, options.env);
  }

  /** Whether gcloud mints for the requested audience (a service account, or impersonation). */
  get #forAudience(): boolean {
    return (
      this.#impersonate !== undefined ||
      (this.#account !== undefined && isServiceAccountEmail(this.#account))
    );
  }

  async getToken(request: TokenRequest, signal?: AbortSignal): Promise<Token> {
    signal?.throwIfAborted();
    if (request.kind !== 'id') {
      throw new CredentialExchangeError(
        `Could not get ${describeRequest(request)} from the gcloud CLI: useGcloudCredential mints identity tokens only. Set serviceAccount.useIdToken: true.`,
        {
          cause: new Error('gcloud source asked for an access token'),
          code: 'unsupported_credential',
        },
      );
    }
    const args = ['auth', 'print-identity-token'];
    if (this.#account) args.push(`--account=${this.#account}`);
    if (this.#impersonate) args.push(`--impersonate-service-account=${this.#chain.join(',')}`);
    if (this.#forAudience) {
      if (request.audience.includes(',')) {
        throw new InvalidCredentialError(
          'serviceAccount.audience',
          'must not contain a comma with useGcloudCredential: gcloud reads --audiences as a comma-separated list',
        );
      }
      args.push(`--audiences=${request.audience}`);
      // gcloud takes --include-email only with impersonation (its tokens for an activated
      // service-account key carry the email anyway) and refuses it otherwise.
      if (this.#impersonate) args.push('--include-email');
    }
    const context: GcloudFailureContext = {
      what: this.#forAudience
        ? describeRequest(request)
        : `an identity token (audience ${GCLOUD_OAUTH_CLIENT_ID}, gcloud's client id)`,
      account: this.#account,
      impersonate: this.#impersonate,
      command: this.#command,
      timeoutMs: this.#timeoutMs,
    };
    let stdout: string;
    try {
      ({stdout} = await runGcloud(args, {
        command: this.#command,
        env: this.#env,
        timeoutMs: this.#timeoutMs,
        maxOutputBytes: this.#maxOutputBytes,
        signal,
      }));
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw gcloudFailure(context, error);
    }
    const value = JWT_LINE.exec(stdout)?.[0];
    const expiresAt = value === undefined ? undefined : jwtExpiresAt(value);
    if (value === undefined || expiresAt === undefined) {
      throw new CredentialExchangeError(
        `Could not get ${context.what} from the gcloud CLI: gcloud exited with status 0 but printed no identity token (a JWT with an \`exp\` claim). Check that ${JSON.stringify(this.#command)} is the Google Cloud CLI.`,
        {cause: new Error('gcloud printed no JWT'), code: 'gcloud_failed'},
      );
    }
    return {value, expiresAt};
  }

  async describe(): Promise<CredentialDescription> {
    const account = this.#account ? `--account=${this.#account}` : 'its active account';
    const principal = this.#impersonate ?? this.#account;
    return {
      kind: 'gcloud_cli',
      ...(principal ? {principal} : {}),
      origin: `gcloud CLI (${account}${this.#impersonate ? `, impersonating ${this.#impersonate}` : ''})`,
      canMintIdTokens: true,
      note: this.#forAudience
        ? 'gcloud mints the ID token for the requested audience (gcloud auth print-identity-token --audiences).'
        : `gcloud mints a user's ID token for its own client id (aud ${GCLOUD_OAUTH_CLIENT_ID}): Cloud Run accepts it from a user with roles/run.invoker; IAP, Cloud Run functions and custom audiences need impersonateServiceAccount (--impersonate).`,
    };
  }
}
