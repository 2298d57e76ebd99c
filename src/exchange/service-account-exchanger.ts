import {CredentialExchangeError, InvalidCredentialError} from '../credentials/errors.js';
import {gcloudUserAudience} from '../credentials/gcloud-identity.js';
import {parseServiceAccount} from '../credentials/parse.js';
import {
  AuthCredentialTypes,
  type AuthCredential,
  type AuthScheme,
  type ServiceAccount,
} from '../credentials/types.js';
import {createTokenSource, type TokenSourceOptions} from '../tokens/create-token-source.js';
import {defaultTokenCache, type TokenCache} from '../tokens/token-cache.js';
import type {Token, TokenRequest, TokenSource} from '../tokens/token-source.js';

/** The default scope of access tokens, as in ADK. */
export const DEFAULT_SCOPES: readonly string[] = ['https://www.googleapis.com/auth/cloud-platform'];

/** What {@link ServiceAccountCredentialExchanger.exchange} returns, as in ADK. */
export interface ExchangeResult {
  /** An HTTP bearer credential: `{authType: 'http', http: {scheme: 'bearer', credentials: {token}, expiresAt}}`. */
  credential: AuthCredential;
  /** Whether the credential was exchanged (always true for service accounts). */
  wasExchanged: boolean;
}

/** Options of {@link ServiceAccountCredentialExchanger}. */
export interface ServiceAccountCredentialExchangerOptions {
  /** Where tokens are kept. Default is the process-wide {@link defaultTokenCache}. */
  cache?: TokenCache;
  /** How sources reach Google (emulator host, fetch). Default reads the environment. */
  tokenSourceOptions?: TokenSourceOptions;
}

/**
 * ADK's `ServiceAccountCredentialExchanger`, with the ID-token path that Cloud Run needs:
 * with `useIdToken` it returns an OIDC ID token for `audience`, otherwise an OAuth2 access
 * token for `scopes` (default cloud-platform). Tokens come from a shared cache, so repeated
 * and concurrent exchanges cost one token request per principal and audience.
 *
 * @example
 * const exchanger = new ServiceAccountCredentialExchanger();
 * const {credential} = await exchanger.exchange({
 *   authCredential: {
 *     authType: AuthCredentialTypes.SERVICE_ACCOUNT,
 *     serviceAccount: {useDefaultCredential: true, useIdToken: true, audience: 'https://svc-abc.a.run.app'},
 *   },
 * });
 * // credential.http.credentials.token is an ID token whose aud is the service URL
 */
export class ServiceAccountCredentialExchanger {
  readonly #cache: TokenCache;
  readonly #sourceOptions: TokenSourceOptions | undefined;
  /**
   * Validated plans per credential object, so a repeated exchange costs a map lookup, not a
   * key parse. A plan is rebuilt when the object's fields were changed since.
   */
  readonly #plans = new WeakMap<ServiceAccount, Plan>();

  constructor(options: ServiceAccountCredentialExchangerOptions = {}) {
    this.#cache = options.cache ?? defaultTokenCache();
    this.#sourceOptions = options.tokenSourceOptions;
  }

  /**
   * Exchange a service-account credential for an HTTP bearer credential. Throws
   * {@link InvalidCredentialError} for bad input (e.g. `useIdToken` without `audience`) and
   * {@link CredentialExchangeError} (with `cause`) when no token could be had.
   */
  async exchange({
    authCredential,
  }: {
    authCredential: AuthCredential;
    authScheme?: AuthScheme;
  }): Promise<ExchangeResult> {
    if (authCredential?.authType !== AuthCredentialTypes.SERVICE_ACCOUNT) {
      throw new CredentialExchangeError(
        `ServiceAccountCredentialExchanger exchanges only authType 'serviceAccount' credentials, got ${JSON.stringify(authCredential?.authType)}`,
        {code: 'unsupported_credential'},
      );
    }
    if (!authCredential.serviceAccount) {
      throw new InvalidCredentialError(
        'serviceAccount',
        "is required when authType is 'serviceAccount'",
      );
    }
    const token = await this.#token(this.#plan(authCredential.serviceAccount));
    return {
      credential: {
        authType: AuthCredentialTypes.HTTP,
        http: {
          scheme: 'bearer',
          credentials: {token: token.value},
          expiresAt: Math.floor(token.expiresAt / 1000),
        },
      },
      wasExchanged: true,
    };
  }

  #plan(input: ServiceAccount): Plan {
    let plan = this.#plans.get(input);
    if (!plan || !sameFields(plan.fields, input)) {
      const fields = fieldsOf(input);
      const serviceAccount = parseServiceAccount(input);
      plan = {
        fields,
        source: createTokenSource(serviceAccount, {...this.#sourceOptions, cache: this.#cache}),
        request: serviceAccount.useIdToken
          ? {
              kind: 'id',
              // A gcloud user credential has no audience of its own: gcloud's client id is it.
              audience: (serviceAccount.audience ?? gcloudUserAudience(serviceAccount)) as string,
            }
          : {kind: 'access', scopes: serviceAccount.scopes ?? DEFAULT_SCOPES},
      };
      this.#plans.set(input, plan);
    }
    return plan;
  }

  async #token({source, request}: Plan): Promise<Token> {
    try {
      return await this.#cache.get(source, request);
    } catch (error) {
      if (error instanceof CredentialExchangeError || error instanceof InvalidCredentialError)
        throw error;
      const what =
        request.kind === 'id'
          ? `an ID token for audience ${JSON.stringify(request.audience)}`
          : 'an access token';
      throw new CredentialExchangeError(
        `Could not get ${what} from the service-account credential: ${describeCause(error)}. Check the credential (doctor: npx mcp-google-auth doctor <url>).`,
        {cause: error},
      );
    }
  }
}

interface Plan {
  /** The input's fields when the plan was made. */
  fields: PlannedFields;
  source: TokenSource;
  request: TokenRequest;
}

/** The fields of a `ServiceAccount` a plan depends on (the key and arrays by identity). */
type PlannedFields = Readonly<ServiceAccount> & {scopeCount?: number; delegateCount?: number};

function fieldsOf(sa: ServiceAccount): PlannedFields {
  return {...sa, scopeCount: sa.scopes?.length, delegateCount: sa.delegates?.length};
}

function sameFields(fields: PlannedFields, sa: ServiceAccount): boolean {
  return (
    fields.serviceAccountCredential === sa.serviceAccountCredential &&
    fields.useDefaultCredential === sa.useDefaultCredential &&
    fields.useGcloudCredential === sa.useGcloudCredential &&
    fields.gcloudAccount === sa.gcloudAccount &&
    fields.useIdToken === sa.useIdToken &&
    fields.audience === sa.audience &&
    fields.scopes === sa.scopes &&
    fields.scopeCount === sa.scopes?.length &&
    fields.impersonateServiceAccount === sa.impersonateServiceAccount &&
    fields.delegates === sa.delegates &&
    fields.delegateCount === sa.delegates?.length
  );
}

function describeCause(error: unknown): string {
  if (error instanceof Error) return error.name === 'Error' ? 'request failed' : error.name;
  return 'request failed';
}
