/**
 * Internal: how one {@link AuthCredential} turns into what a request carries. Google
 * service accounts become tokens from a {@link TokenSource} through the shared cache; HTTP
 * bearer and basic, API keys and OAuth2 access tokens are fixed values. Validated once,
 * when a fetch or toolset is built.
 */
import {InvalidCredentialError} from '../credentials/errors.js';
import {gcloudUserAudience} from '../credentials/gcloud-identity.js';
import {parseAuthCredential} from '../credentials/parse.js';
import type {AuthCredential, AuthScheme} from '../credentials/types.js';
import {createTokenSource} from '../tokens/create-token-source.js';
import type {TokenSourceOptions} from '../tokens/create-token-source.js';
import type {TokenCache} from '../tokens/token-cache.js';
import type {TokenRequest, TokenSource} from '../tokens/token-source.js';
import {checkAuthHeaderMode} from './auth-header-mode.js';
import type {AuthHeaderMode} from './auth-header-mode.js';

/** The scope access tokens get when `serviceAccount.scopes` is not set. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** A Google token minted per request from the cache. */
export interface GoogleTokenPlan {
  readonly kind: 'google';
  /** Lower-case header name. */
  readonly headerName: string;
  readonly mode: AuthHeaderMode;
  readonly source: TokenSource;
  readonly useIdToken: boolean;
  /** The configured audience (`options.audience`, else `serviceAccount.audience`). */
  readonly audience: string | undefined;
  /**
   * The audience every token has whatever the target (a gcloud user credential: gcloud's
   * client id), so that one cached token serves every target; else undefined.
   */
  readonly fixedAudience: string | undefined;
  readonly scopes: readonly string[];
}

/** A fixed value (bearer, basic, API key, OAuth2 access token). */
export interface StaticPlan {
  readonly kind: 'static';
  /** Where the value goes. */
  readonly placement: 'header' | 'query';
  /** Lower-case header name, or the query parameter's name. */
  readonly name: string;
  /** The complete header value (`Bearer …`, `Basic …`) or the API key. */
  readonly value: string;
  readonly mode: AuthHeaderMode | undefined;
  /** `http.additionalHeaders` (names in lower case), sent with the credential. */
  readonly extraHeaders: readonly (readonly [string, string])[];
  /** What the value is, for explanations: `bearer`, `basic`, `api key`, `oauth2 access token`. */
  readonly label: string;
}

/** What a request carries. */
export type CredentialPlan = GoogleTokenPlan | StaticPlan;

/** Inputs of {@link planCredential}. */
export interface PlanInput {
  authCredential: AuthCredential | undefined;
  authScheme?: AuthScheme | undefined;
  audience?: string | undefined;
  header?: AuthHeaderMode | undefined;
  tokenSource?: TokenSource | undefined;
  tokenSourceOptions?: TokenSourceOptions | undefined;
  /** The cache tokens go through; also given to `createTokenSource` (for impersonation's base token) unless `tokenSourceOptions.cache` is set. */
  cache?: TokenCache | undefined;
  /** Name of the options object, for messages (`googleAuthFetch`, `McpToolset`). */
  owner: string;
  /** Name of the header-mode option, for messages. */
  headerOption: string;
}

/**
 * Turns the options into a {@link CredentialPlan}, or throws: a TypeError for a misused
 * option, an {@link InvalidCredentialError} (naming the field) for a malformed credential.
 */
export function planCredential(input: PlanInput): CredentialPlan {
  const {owner} = input;
  const explicitMode = input.header;
  const mode = checkAuthHeaderMode(explicitMode, `${owner} ${input.headerOption}`);
  if (
    input.audience !== undefined &&
    (typeof input.audience !== 'string' || input.audience.trim() === '')
  ) {
    throw new TypeError(
      `${owner} audience must be a non-empty string, got ${JSON.stringify(input.audience)}`,
    );
  }
  if (
    input.authCredential === undefined ||
    input.authCredential === null ||
    typeof input.authCredential !== 'object'
  ) {
    throw new TypeError(`${owner} authCredential is required (an AuthCredential object)`);
  }
  // Same rules and messages as everywhere else (camelCase or ADK Python's snake_case); the
  // audience may be left out: it defaults to the target's origin here.
  const credential = parseAuthCredential(input.authCredential, {requireAudience: false});
  switch (credential.authType) {
    case 'serviceAccount': {
      const sa = credential.serviceAccount;
      if (!sa || typeof sa !== 'object') {
        throw new InvalidCredentialError(
          'serviceAccount',
          "is required when authType is 'serviceAccount'",
        );
      }
      const fixedAudience = gcloudUserAudience(sa);
      if (
        fixedAudience !== undefined &&
        input.audience !== undefined &&
        input.audience !== fixedAudience
      ) {
        throw new TypeError(
          `${owner} audience does not apply to a gcloud user account: gcloud mints a user's identity token for its own client id (${fixedAudience}), which Cloud Run accepts from a user with roles/run.invoker. Remove audience, or set serviceAccount.impersonateServiceAccount (or gcloudAccount to a service account) to mint for it`,
        );
      }
      const scopes =
        sa.scopes && sa.scopes.length > 0 ? Object.freeze([...sa.scopes]) : [CLOUD_PLATFORM_SCOPE];
      const source =
        input.tokenSource ??
        createTokenSource(
          sa,
          input.cache && !input.tokenSourceOptions?.cache
            ? {...input.tokenSourceOptions, cache: input.cache}
            : input.tokenSourceOptions,
        );
      return {
        kind: 'google',
        headerName: mode,
        mode,
        source,
        useIdToken: sa.useIdToken === true,
        audience: input.audience ?? sa.audience,
        fixedAudience,
        scopes,
      };
    }
    case 'http': {
      const http = credential.http;
      if (!http || typeof http !== 'object') {
        throw new InvalidCredentialError('http', "is required when authType is 'http'");
      }
      const scheme = String(http.scheme ?? '').toLowerCase();
      const creds = http.credentials ?? {};
      let value: string;
      if (scheme === 'basic') {
        if (!creds.username) {
          throw new InvalidCredentialError(
            'http.credentials.username',
            'is required for the basic scheme',
          );
        }
        value = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`, 'utf8').toString('base64')}`;
      } else {
        if (!creds.token) {
          throw new InvalidCredentialError(
            'http.credentials.token',
            `is required for the ${JSON.stringify(http.scheme)} scheme`,
          );
        }
        value = scheme === 'bearer' ? `Bearer ${creds.token}` : `${http.scheme} ${creds.token}`;
      }
      return {
        kind: 'static',
        placement: 'header',
        name: mode,
        value,
        mode,
        extraHeaders: Object.entries(http.additionalHeaders ?? {}).map(
          ([name, value]) => [name.toLowerCase(), value] as const,
        ),
        label: scheme === 'basic' ? 'HTTP basic credential' : `HTTP ${scheme} token`,
      };
    }
    case 'oauth2':
    case 'openIdConnect': {
      const token = credential.oauth2?.accessToken;
      if (!token) {
        throw new InvalidCredentialError(
          'oauth2.accessToken',
          `is required to authenticate requests with an ${credential.authType} credential`,
        );
      }
      return {
        kind: 'static',
        placement: 'header',
        name: mode,
        value: `Bearer ${token}`,
        mode,
        extraHeaders: [],
        label: 'OAuth2 access token',
      };
    }
    case 'apiKey': {
      if (!credential.apiKey) {
        throw new InvalidCredentialError('apiKey', "is required when authType is 'apiKey'");
      }
      const scheme = input.authScheme;
      if (!scheme || scheme.type !== 'apiKey') {
        throw new TypeError(
          `${owner} authScheme must be {type: 'apiKey', in: 'header' | 'query', name} to send an API key (it names where the key goes)`,
        );
      }
      if (!scheme.name)
        throw new TypeError(
          `${owner} authScheme.name must name the API key's header or query parameter`,
        );
      if (scheme.in !== 'header' && scheme.in !== 'query') {
        throw new TypeError(
          `${owner} authScheme.in must be 'header' or 'query' for an API key, got ${JSON.stringify(scheme.in)}`,
        );
      }
      if (explicitMode !== undefined) {
        throw new TypeError(
          `${owner} ${input.headerOption} does not apply to API keys; authScheme.name names the header`,
        );
      }
      return {
        kind: 'static',
        placement: scheme.in,
        name: scheme.in === 'header' ? scheme.name.toLowerCase() : scheme.name,
        value: credential.apiKey,
        mode: undefined,
        extraHeaders: [],
        label: 'API key',
      };
    }
    default:
      throw new InvalidCredentialError(
        'authType',
        `must be one of 'serviceAccount', 'http', 'oauth2', 'openIdConnect', 'apiKey', got ${JSON.stringify((credential as {authType?: unknown}).authType)}`,
      );
  }
}

/** A warning sink: `(message, code)`. */
export type WarningHandler = (message: string, code: string) => void;

/** The default warning sink: `process.emitWarning` with the code. */
export const emitWarning: WarningHandler = (message, code) => {
  process.emitWarning(message, {code});
};

/**
 * The token to ask the cache for once the target origin is known: an ID token whose
 * audience is the configured one or else `origin` (Cloud Run's rule), or an access token
 * for the scopes. Warns (through `warn`) about a configured audience that carries a path on
 * the target's origin, and about an audience that is ignored because `useIdToken` is off.
 */
export function tokenRequestFor(
  plan: GoogleTokenPlan,
  origin: string | undefined,
  warn: WarningHandler,
): TokenRequest {
  if (!plan.useIdToken) {
    if (plan.audience !== undefined) {
      warn(
        `audience ${JSON.stringify(plan.audience)} is ignored because serviceAccount.useIdToken is not true; an OAuth2 access token is sent instead, which Cloud Run, Cloud Run functions and IAP refuse with 401. Set useIdToken: true for an ID token.`,
        'MCP_GOOGLE_AUTH_AUDIENCE_IGNORED',
      );
    }
    return {kind: 'access', scopes: plan.scopes};
  }
  if (plan.fixedAudience !== undefined) return {kind: 'id', audience: plan.fixedAudience};
  const audience = plan.audience ?? origin;
  if (audience === undefined) {
    throw new TypeError(
      'an ID token needs an audience: set audience (or serviceAccount.audience) or targetUrl',
    );
  }
  if (plan.audience !== undefined && origin !== undefined) {
    const path = pathOnOrigin(plan.audience, origin);
    if (path !== undefined) {
      warn(
        `audience ${JSON.stringify(plan.audience)} carries the path ${JSON.stringify(path)}. That is right for Cloud Run functions (1st gen), which want the full function URL, but Cloud Run refuses it with 401: there the audience is the service URL's origin (${origin}), the default when audience is not set.`,
        'MCP_GOOGLE_AUTH_AUDIENCE_PATH',
      );
    }
  }
  return {kind: 'id', audience};
}

/** The path of `audience` when it is a URL on `origin` with more than `/`; else undefined. */
function pathOnOrigin(audience: string, origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(audience);
  } catch {
    return undefined;
  }
  if (url.origin !== origin) return undefined;
  const rest = `${url.pathname === '/' ? '' : url.pathname}${url.search}`;
  return rest === '' ? undefined : rest;
}
