import type {TokenCache} from '../token-cache.js';
import type {CredentialDescription, Token, TokenRequest, TokenSource} from '../token-source.js';
import {CredentialExchangeError} from '../../credentials/errors.js';
import {
  describeRequest,
  exchangeFailure,
  httpStatusOf,
  type FailureContext,
} from './exchange-failure.js';
import type {GoogleTransport} from './google-auth-transport.js';
import {generateAccessToken, generateIdToken} from './iam-credentials.js';
import {abortable, accessToken, idToken} from './token-results.js';

/** The scope of the caller's access token for IAM Credentials. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Lifetime asked of IAM `generateAccessToken`, in seconds (its maximum without an org policy). */
const ACCESS_TOKEN_LIFETIME_SECONDS = 3600;

/**
 * The `id` of an impersonating source: `impersonate:<target>[<delegates>]<-<base id>`. It
 * inherits the base's holder key, so two callers impersonating the same target never share
 * tokens unless they hold the same credential.
 */
export function impersonatedSourceId(
  target: string,
  delegates: readonly string[],
  baseId: string,
): string {
  const chain = delegates.length > 0 ? `[${delegates.join(',')}]` : '';
  return `impersonate:${target}${chain}<-${baseId}`;
}

/** Options of {@link ImpersonatedSource}. */
export interface ImpersonatedSourceOptions {
  /** The service account to mint tokens for (email). */
  readonly target: string;
  /** Delegation chain, emails, caller side first. Default is none. */
  readonly delegates?: readonly string[];
  /** How to reach IAM Credentials. */
  readonly transport: GoogleTransport;
  /** Where the caller's access token is kept, shared with every other user of the base. */
  readonly cache: TokenCache;
  /** The `describe()` origin, in words. Default is `impersonateServiceAccount on <base origin>`. */
  readonly origin?: string;
  /** The `describe()` kind. Default is `impersonated_service_account`. */
  readonly kind?: CredentialDescription['kind'];
}

/**
 * Tokens for a target service account, minted by IAM Credentials (`generateIdToken`,
 * `generateAccessToken`) on behalf of a base source: the base's cloud-platform access token
 * is the caller's bearer and comes through the shared {@link TokenCache}, so it is fetched
 * once per lifetime, not once per call. Works on top of any source, including user
 * credentials, which cannot mint usable ID tokens on their own.
 */
export class ImpersonatedSource implements TokenSource {
  readonly id: string;
  readonly #base: TokenSource;
  readonly #target: string;
  readonly #delegates: readonly string[];
  readonly #transport: GoogleTransport;
  readonly #cache: TokenCache;
  readonly #origin: string | undefined;
  readonly #kind: CredentialDescription['kind'];

  constructor(base: TokenSource, options: ImpersonatedSourceOptions) {
    this.#base = base;
    this.#target = options.target;
    this.#delegates = options.delegates ?? [];
    this.#transport = options.transport;
    this.#cache = options.cache;
    this.#origin = options.origin;
    this.#kind = options.kind ?? 'impersonated_service_account';
    this.id = impersonatedSourceId(this.#target, this.#delegates, base.id);
  }

  async getToken(request: TokenRequest, signal?: AbortSignal): Promise<Token> {
    signal?.throwIfAborted();
    const callerRequest: TokenRequest = {kind: 'access', scopes: [CLOUD_PLATFORM_SCOPE]};
    let caller: Token;
    try {
      caller = await abortable(this.#cache.get(this.#base, callerRequest), signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      throw await this.#callerFailure(request, error);
    }
    try {
      return await this.#mint(request, caller.value, signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      // The caller's token may have been revoked or expired early: drop it (only if it is
      // still the cached one) and try once more with a fresh one.
      if (httpStatusOf(error) === 401 && this.#cache.invalidate(caller.value)) {
        try {
          const fresh = await abortable(this.#cache.get(this.#base, callerRequest), signal);
          return await this.#mint(request, fresh.value, signal);
        } catch (retryError) {
          if (signal?.aborted) throw retryError;
          throw exchangeFailure(await this.#context(request), retryError);
        }
      }
      throw exchangeFailure(await this.#context(request), error);
    }
  }

  async describe(): Promise<CredentialDescription> {
    const base = await this.#base.describe().catch(() => undefined);
    const caller = base?.principal ?? base?.kind ?? 'the base credential';
    const chain = this.#delegates.length > 0 ? ` through ${this.#delegates.join(' -> ')}` : '';
    return {
      kind: this.#kind,
      principal: this.#target,
      origin:
        this.#origin ?? `impersonateServiceAccount on ${base?.origin ?? 'the base credential'}`,
      ...(base?.projectId ? {projectId: base.projectId} : {}),
      canMintIdTokens: true,
      note: `IAM Credentials mints tokens for ${this.#target} on behalf of ${caller}${chain}; the caller needs roles/iam.serviceAccountTokenCreator on it.`,
    };
  }

  async #mint(
    request: TokenRequest,
    callerToken: string,
    signal: AbortSignal | undefined,
  ): Promise<Token> {
    const transporter = this.#transport.transporter;
    const common = {
      target: this.#target,
      delegates: this.#delegates,
      callerToken,
      ...(signal ? {signal} : {}),
    };
    if (request.kind === 'id') {
      const value = await generateIdToken(transporter, {...common, audience: request.audience});
      return idToken(value, await this.#context(request));
    }
    const answer = await generateAccessToken(transporter, {
      ...common,
      scopes: request.scopes,
      lifetimeSeconds: ACCESS_TOKEN_LIFETIME_SECONDS,
    });
    return accessToken(answer.accessToken, answer.expireTime, await this.#context(request));
  }

  async #callerPrincipal(): Promise<string> {
    const base = await this.#base.describe().catch(() => undefined);
    if (base?.principal) return base.principal;
    return base
      ? `the ${base.kind.replace(/_/g, ' ')} credential (${base.origin})`
      : 'the base credential';
  }

  async #context(request: TokenRequest): Promise<FailureContext> {
    const caller = await this.#callerPrincipal();
    const member = /@/.test(caller)
      ? `${caller.endsWith('gserviceaccount.com') ? 'serviceAccount' : 'user'}:${caller}`
      : 'CALLER';
    const chain =
      this.#delegates.length > 0
        ? ` With delegates, each account in the chain (${[caller, ...this.#delegates].join(' -> ')} -> ${this.#target}) needs that role on the next one.`
        : '';
    const grant =
      `Grant ${caller} the Service Account Token Creator role on ${this.#target}: ` +
      `gcloud iam service-accounts add-iam-policy-binding ${this.#target} --member=${member} --role=roles/iam.serviceAccountTokenCreator.${chain}`;
    return {
      request,
      subject: `service account ${this.#target}, impersonated through IAM Credentials by ${caller}`,
      fixes: {
        forbidden: `IAM refused the impersonation. ${grant}`,
        unauthorized: `IAM did not accept the caller's access token (expired or revoked); it was refreshed once and still refused. Check ${caller}'s credential.`,
        notFound: `Check that ${this.#target} exists and the email is spelled right.`,
        badRequest: `Check the service account email${this.#delegates.length > 0 ? ', the delegates' : ''} and the audience.`,
      },
    };
  }

  async #callerFailure(request: TokenRequest, error: unknown): Promise<CredentialExchangeError> {
    const inner =
      error instanceof CredentialExchangeError
        ? error
        : exchangeFailure(
            {
              request: {kind: 'access', scopes: [CLOUD_PLATFORM_SCOPE]},
              subject: 'the base credential',
            },
            error,
          );
    return new CredentialExchangeError(
      `Could not get ${describeRequest(request)} by impersonating ${this.#target}: the caller's own access token failed first. ${inner.message}`,
      {cause: inner, code: inner.code},
    );
  }
}
