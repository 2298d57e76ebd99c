import type {AuthCredential} from '../credentials/types.js';
import type {TokenSourceOptions} from '../tokens/create-token-source.js';
import {defaultTokenCache} from '../tokens/token-cache.js';
import type {TokenCache} from '../tokens/token-cache.js';
import type {TokenRequest, TokenSource} from '../tokens/token-source.js';
import {emitWarning, planCredential, tokenRequestFor} from './credential-plan.js';

/** Options of {@link googleAuthProvider}. Validated once, when the provider is built. */
export interface GoogleAuthProviderOptions {
  /**
   * The credential: a service account (ID token with `serviceAccount.useIdToken`, else an
   * access token), or a fixed bearer token (`authType: 'http'` with scheme `bearer`, or
   * `authType: 'oauth2'` with `accessToken`).
   */
  authCredential: AuthCredential;
  /**
   * The ID token's audience. Default is `serviceAccount.audience`, else the origin of
   * `targetUrl`. One of them is required with `useIdToken` (a provider never sees URLs).
   */
  audience?: string;
  /** The service the tokens are for; its origin is the default audience. */
  targetUrl?: string | URL;
  /** The token cache. Default is the process-wide `defaultTokenCache()`. */
  cache?: TokenCache;
  /** Mint service-account tokens from this source instead of one built from the credential. */
  tokenSource?: TokenSource;
  /** Options for `createTokenSource` (emulator host, fetch, environment). */
  tokenSourceOptions?: TokenSourceOptions;
  /** Where one-time warnings go. Default is `process.emitWarning`. */
  onWarning?: (message: string, code: string) => void;
}

/**
 * The `AuthProvider` shape of the MCP TypeScript SDK 2.x:
 * `token()` before every request, `onUnauthorized()` after a 401 (then the transport retries
 * once).
 */
export interface GoogleAuthProvider {
  /** A valid bearer token (without the `Bearer ` prefix), from the shared cache. */
  token(): Promise<string>;
  /** Drops the last token this provider handed out from the cache, so the next `token()` fetches a fresh one. */
  onUnauthorized(context?: unknown): Promise<void>;
}

/**
 * An `AuthProvider` (`{token(), onUnauthorized()}`) backed by the shared token cache, for
 * MCP SDK 2.x transports (for SDK 1.x clients such as LangChain's and Mastra's, use
 * `googleOAuthClientProvider`). The transport decides where the
 * token goes; prefer {@link googleAuthFetch} when you can, since it also keeps the token to
 * the target's origin.
 *
 * @example
 * const authProvider = googleAuthProvider({
 *   authCredential: {authType: 'serviceAccount', serviceAccount: {useDefaultCredential: true, useIdToken: true}},
 *   targetUrl: 'https://svc-abc.a.run.app/mcp',
 * });
 * const transport = new StreamableHTTPClientTransport(url, {authProvider});
 */
export function googleAuthProvider(options: GoogleAuthProviderOptions): GoogleAuthProvider {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('googleAuthProvider options must be an object with authCredential');
  }
  const plan = planCredential({
    authCredential: options.authCredential,
    audience: options.audience,
    tokenSource: options.tokenSource,
    tokenSourceOptions: options.tokenSourceOptions,
    cache: options.cache,
    owner: 'googleAuthProvider',
    headerOption: 'header',
  });
  if (plan.kind === 'static') {
    if (plan.placement !== 'header' || !plan.value.startsWith('Bearer ')) {
      throw new TypeError(
        `googleAuthProvider carries bearer tokens only; a ${plan.label} does not fit an AuthProvider (use googleAuthFetch)`,
      );
    }
    const value = plan.value.slice('Bearer '.length);
    return {token: () => Promise.resolve(value), onUnauthorized: () => Promise.resolve()};
  }
  let origin: string | undefined;
  if (options.targetUrl !== undefined) {
    try {
      origin = new URL(options.targetUrl).origin;
    } catch {
      throw new TypeError(
        `googleAuthProvider targetUrl must be a URL, got ${JSON.stringify(String(options.targetUrl))}`,
      );
    }
  }
  if (
    plan.useIdToken &&
    plan.fixedAudience === undefined &&
    plan.audience === undefined &&
    origin === undefined
  ) {
    throw new TypeError(
      'googleAuthProvider needs audience (or serviceAccount.audience) or targetUrl for an ID token',
    );
  }
  const request: TokenRequest = tokenRequestFor(plan, origin, options.onWarning ?? emitWarning);
  const cache = options.cache ?? defaultTokenCache();
  let last: string | undefined;
  return {
    token: () =>
      cache.get(plan.source, request).then((token) => {
        last = token.value;
        return token.value;
      }),
    onUnauthorized: () => {
      if (last !== undefined) cache.invalidate(last);
      return Promise.resolve();
    },
  };
}
