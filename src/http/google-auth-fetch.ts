import type {AuthCredential, AuthScheme} from '../credentials/types.js';
import type {TokenSourceOptions} from '../tokens/create-token-source.js';
import type {FetchLike} from '../tokens/google-routing.js';
import {decodeJwtPayload} from '../tokens/jwt-claims.js';
import {defaultTokenCache} from '../tokens/token-cache.js';
import type {TokenCache} from '../tokens/token-cache.js';
import type {TokenRequest, TokenSource} from '../tokens/token-source.js';
import type {AuthHeaderMode} from './auth-header-mode.js';
import {emitWarning, planCredential, tokenRequestFor} from './credential-plan.js';
import type {CredentialPlan, WarningHandler} from './credential-plan.js';
import {rememberAuthFailure} from './explain-auth-failure.js';
import type {AuthFailureContext} from './explain-auth-failure.js';
import {replayableBody} from './replayable-body.js';
import {linkCallSignal} from './call-signal.js';
import {
  recordUnauthorizedSuppressed,
  startUnauthorizedRetry,
} from '../telemetry/fetch-telemetry.js';
import type {UnauthorizedRetry} from '../telemetry/fetch-telemetry.js';

/** Options of {@link googleAuthFetch}. Validated once, when the fetch is built. */
export interface GoogleAuthFetchOptions {
  /**
   * The credential. A service account (`authType: 'serviceAccount'`) gets tokens through
   * `createTokenSource` and the shared cache: an OIDC ID token with
   * `serviceAccount.useIdToken`, else an OAuth2 access token for `serviceAccount.scopes`
   * (default `cloud-platform`). Also accepted, sent as they are: HTTP bearer and basic
   * (`authType: 'http'`), an OAuth2 access token (`authType: 'oauth2'`), an API key
   * (`authType: 'apiKey'`, where `authScheme` names the header or query parameter).
   */
  authCredential: AuthCredential;
  /** The OpenAPI security scheme. Required for API keys (`{type: 'apiKey', in: 'header' | 'query', name}`); otherwise informative. */
  authScheme?: AuthScheme;
  /**
   * The ID token's audience. Default is `serviceAccount.audience`, else the origin of
   * `targetUrl`, else the origin of the first request (Cloud Run's rule: the service URL
   * without a path). A path on the target's origin (right for Cloud Run functions 1st gen,
   * wrong for Cloud Run) gets a one-time warning.
   */
  audience?: string;
  /**
   * The service the token is for. Only requests to this URL's origin carry the credential;
   * requests to any other origin are sent without it. Default is the URL of the first request
   * (its origin is then pinned for the life of this fetch).
   */
  targetUrl?: string | URL;
  /**
   * Which header carries `Bearer <token>`. `authorization` (default) replaces a caller's own
   * `Authorization`; `x-serverless-authorization` leaves the caller's `Authorization` untouched
   * for the container behind Cloud Run; `proxy-authorization` is for IAP.
   */
  header?: AuthHeaderMode;
  /**
   * The fetch to wrap. Default is the global `fetch`. It is called with `redirect: 'manual'`
   * (this fetch follows redirects itself) and `init.headers` as a plain object with lower-case
   * names.
   */
  fetch?: FetchLike;
  /** The token cache. Default is the process-wide `defaultTokenCache()`. */
  cache?: TokenCache;
  /** Mint service-account tokens from this source instead of one built from `authCredential.serviceAccount` (tests, custom credentials). */
  tokenSource?: TokenSource;
  /** Options for `createTokenSource` (emulator host, fetch, environment). */
  tokenSourceOptions?: TokenSourceOptions;
  /** Redirects followed per request (`redirect: 'follow'`), 0 to 20. Default is 5. */
  maxRedirects?: number;
  /** Where one-time warnings go (audience with a path, audience without `useIdToken`). Default is `process.emitWarning`. */
  onWarning?: (message: string, code: string) => void;
  /**
   * How long, in milliseconds, this fetch stops refetching on a 401 once a fresh token was
   * refused as well (the retry after a 401 got a 401 again: a wrong audience, an access token
   * where an ID token is needed, or the container refusing its own `Authorization`). During
   * that time a 401 from the target is returned as it is: the token is not invalidated and no
   * new token is requested from Google, so a misconfigured client cannot flood the token
   * endpoint. Any response other than a 401 to a request that carried the token ends the
   * cooldown early. `0` turns the cooldown off (every 401 then costs one refetch, as without
   * this option). Default is 30000 (30 seconds).
   */
  unauthorizedRetryCooldownMs?: number;
  /** The clock for {@link GoogleAuthFetchOptions.unauthorizedRetryCooldownMs}, in epoch milliseconds. Default is `Date.now`. */
  now?: () => number;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location'];
const CREDENTIAL_HEADERS = [
  'authorization',
  'proxy-authorization',
  'x-serverless-authorization',
  'cookie',
];
const EMPTY_INIT: RequestInit = {};
const DEFAULT_UNAUTHORIZED_RETRY_COOLDOWN_MS = 30_000;

/**
 * A `fetch` that authenticates every request to one service with a Google credential.
 *
 * - The token comes from the shared {@link TokenCache} per request (one fetch for any number
 *   of concurrent callers, refreshed ahead of expiry), so long-lived clients never hold a
 *   stale token.
 * - Only requests to the target's origin carry it. A request to any other origin is sent
 *   **without** the credential (not refused); a redirect is followed by this fetch itself
 *   (`redirect: 'manual'` below it) and a hop to another origin never carries it (nor the
 *   caller's `Authorization`, `Proxy-Authorization` or `Cookie`); once a chain leaves the
 *   origin it never gets the credential back.
 * - A 401 from the target invalidates that token in the cache and retries once with a fresh
 *   one (the body is buffered so it can be sent again). When the fresh token is refused too,
 *   the cause is not a stale token: for `unauthorizedRetryCooldownMs` (default 30 s) further
 *   401s are returned as they are, without asking Google for another token. A 403 is
 *   returned as it is, never retried; {@link explainAuthFailure} says what a 401 or 403
 *   usually means.
 *
 * @example
 * const transport = new StreamableHTTPClientTransport(new URL('https://svc-abc.a.run.app/mcp'), {
 *   fetch: googleAuthFetch({
 *     authCredential: {authType: 'serviceAccount', serviceAccount: {useDefaultCredential: true, useIdToken: true}},
 *   }),
 * });
 */
export function googleAuthFetch(options: GoogleAuthFetchOptions): FetchLike {
  const impl = new AuthorizedFetch(options);
  return (input, init) => impl.fetch(input, init);
}

class AuthorizedFetch {
  readonly #plan: CredentialPlan;
  readonly #base: FetchLike;
  readonly #cache: TokenCache;
  readonly #maxRedirects: number;
  readonly #warn: WarningHandler;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  /** Epoch ms until which a 401 is not retried; 0 when no cooldown is running. */
  #refusedUntil = 0;
  #origin: string | undefined;
  #originSlash = '';
  #request: TokenRequest | undefined;
  #lastToken = '';
  #lastBearer = '';

  constructor(options: GoogleAuthFetchOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('googleAuthFetch options must be an object with authCredential');
    }
    if (options.fetch !== undefined && typeof options.fetch !== 'function') {
      throw new TypeError('googleAuthFetch fetch must be a function');
    }
    if (options.onWarning !== undefined && typeof options.onWarning !== 'function') {
      throw new TypeError('googleAuthFetch onWarning must be a function (message, code) => void');
    }
    const max = options.maxRedirects ?? 5;
    if (!Number.isInteger(max) || max < 0 || max > 20) {
      throw new TypeError(
        `googleAuthFetch maxRedirects must be an integer from 0 to 20, got ${String(max)}`,
      );
    }
    this.#maxRedirects = max;
    const cooldown = options.unauthorizedRetryCooldownMs ?? DEFAULT_UNAUTHORIZED_RETRY_COOLDOWN_MS;
    if (typeof cooldown !== 'number' || !Number.isFinite(cooldown) || cooldown < 0) {
      throw new TypeError(
        `googleAuthFetch unauthorizedRetryCooldownMs must be a finite number of milliseconds >= 0, got ${String(cooldown)}`,
      );
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TypeError('googleAuthFetch now must be a function returning epoch milliseconds');
    }
    this.#cooldownMs = cooldown;
    this.#now = options.now ?? Date.now;
    this.#warn = options.onWarning ?? emitWarning;
    this.#cache = options.cache ?? defaultTokenCache();
    this.#base = options.fetch ?? ((input, init) => fetch(input, init));
    this.#plan = planCredential({
      authCredential: options.authCredential,
      authScheme: options.authScheme,
      audience: options.audience,
      header: options.header,
      tokenSource: options.tokenSource,
      tokenSourceOptions: options.tokenSourceOptions,
      cache: options.cache,
      owner: 'googleAuthFetch',
      headerOption: 'header',
    });
    if (options.targetUrl !== undefined) {
      const url = parseHttpUrl(options.targetUrl);
      if (!url) {
        throw new TypeError(
          `googleAuthFetch targetUrl must be an http(s) URL, got ${JSON.stringify(String(options.targetUrl))}`,
        );
      }
      this.#pin(url.origin);
    }
  }

  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    let href: string;
    let request: Request | undefined;
    if (typeof input === 'string') href = input;
    else if (input instanceof URL) href = input.href;
    else {
      request = input;
      href = input.url;
    }
    if (this.#origin === undefined) {
      const url = parseHttpUrl(href);
      if (!url) return this.#base(input, init);
      this.#pin(url.origin);
    }
    if (!this.#isTarget(href)) return this.#passThrough(input, init, href);
    return this.#send(href, init, request);
  }

  #pin(origin: string): void {
    this.#origin = origin;
    this.#originSlash = `${origin}/`;
    if (this.#plan.kind === 'google')
      this.#request = tokenRequestFor(this.#plan, origin, this.#warn);
  }

  #isTarget(href: string): boolean {
    if (href.startsWith(this.#originSlash) || href === this.#origin) return true;
    return parseHttpUrl(href)?.origin === this.#origin;
  }

  #passThrough(
    input: string | URL | Request,
    init: RequestInit | undefined,
    href: string,
  ): Promise<Response> {
    const call = linkCallSignal(init?.signal);
    const sent = call ? this.#base(input, {...init, signal: call.signal}) : this.#base(input, init);
    return sent.then((answer) => {
      const response = call ? call.settle(answer) : answer;
      return response.status === 401 || response.status === 403
        ? rememberAuthFailure(response, {
            url: href,
            credentialSent: false,
            withheldReason: `the request went to another origin than the target ${String(this.#origin)}, and the credential is only ever sent to the target`,
          })
        : response;
    });
  }

  async #send(
    href: string,
    init: RequestInit | undefined,
    request: Request | undefined,
  ): Promise<Response> {
    let headers: HeaderRecord;
    let method: string;
    let body: RequestInit['body'];
    let redirect: RequestInit['redirect'];
    let base: RequestInit;
    let callerSignal: AbortSignal | null | undefined;
    if (request) {
      // The merged request gets no signal of its own: building one from the caller's would
      // add a listener to it (see call-signal.ts); the call links to it once, below.
      const merged = init ? new Request(request, {...init, signal: null}) : request;
      headers = copyHeaders(merged.headers);
      method = merged.method;
      body = merged.body === null ? undefined : new Uint8Array(await merged.arrayBuffer());
      redirect = merged.redirect;
      callerSignal = init?.signal ?? request.signal;
      base = EMPTY_INIT;
    } else {
      base = init ?? EMPTY_INIT;
      headers = copyHeaders(base.headers);
      method = base.method === undefined ? 'GET' : base.method.toUpperCase();
      body = base.body;
      if (body !== undefined && body !== null && typeof body !== 'string')
        body = await replayableBody(body);
      redirect = base.redirect ?? 'follow';
      callerSignal = base.signal;
    }
    const call = linkCallSignal(callerSignal);
    if (call) base = {...base, signal: call.signal};
    const {response, failure} = await this.#exchange(href, base, headers, method, body, redirect);
    if (call) call.settle(response);
    return failure ? rememberAuthFailure(response, failure) : response;
  }

  /** Sends the request (attaching the credential on the target), retrying once on a 401 and following redirects. */
  async #exchange(
    href: string,
    base: RequestInit,
    headers: HeaderRecord,
    method: string,
    body: RequestInit['body'],
    redirect: RequestInit['redirect'],
  ): Promise<{response: Response; failure?: AuthFailureContext}> {
    const plan = this.#plan;
    let url = href;
    let onTarget = true;
    let retried = false;
    let coolingDown = false;
    let hops = 0;
    let unauthorized: UnauthorizedRetry | undefined;
    for (;;) {
      let sent: string | undefined;
      let target = url;
      if (onTarget) {
        if (plan.kind === 'google') {
          const token = await this.#cache.get(plan.source, this.#request as TokenRequest);
          sent = token.value;
          headers[plan.headerName] = this.#bearer(sent);
        } else {
          for (const [name, value] of plan.extraHeaders) headers[name] = value;
          if (plan.placement === 'header') headers[plan.name] = plan.value;
          else target = withQueryParam(url, plan.name, plan.value);
        }
      }
      let response: Response;
      try {
        response = await this.#base(target, {
          ...base,
          method,
          headers,
          body,
          redirect: 'manual',
        });
      } catch (error) {
        unauthorized?.end(undefined);
        throw error;
      }
      const status = response.status;
      unauthorized?.end(status);
      if (status === 401 && sent !== undefined) {
        if (retried) {
          // The fresh token was refused too: the cause is not a stale token.
          if (this.#cooldownMs > 0) this.#refusedUntil = this.#now() + this.#cooldownMs;
        } else if (this.#refusedUntil === 0 || this.#now() >= this.#refusedUntil) {
          retried = true;
          unauthorized = startUnauthorizedRetry(this.#request?.kind ?? 'id');
          this.#cache.invalidate(sent);
          await discard(response);
          continue;
        } else {
          coolingDown = true;
          recordUnauthorizedSuppressed(this.#request?.kind ?? 'id');
        }
      } else if (sent !== undefined && this.#refusedUntil !== 0) {
        this.#refusedUntil = 0;
      }
      if (status === 401 || status === 403) {
        return {
          response,
          failure: this.#failureContext(url, onTarget, sent, retried, coolingDown),
        };
      }
      if (redirect === 'manual' || !REDIRECT_STATUSES.has(status)) return {response};
      const location = response.headers.get('location');
      if (location === null) return {response};
      await discard(response);
      if (redirect === 'error') {
        throw new TypeError(
          `fetch failed: ${originOf(url)} answered a redirect and the redirect mode is 'error'`,
        );
      }
      if (++hops > this.#maxRedirects) {
        throw new TypeError(
          `fetch failed: more than ${this.#maxRedirects} redirects (googleAuthFetch maxRedirects)`,
        );
      }
      const next = parseHttpUrl(location, url);
      if (!next)
        throw new TypeError('fetch failed: a redirect pointed to a URL that is not http(s)');
      if (
        (status === 303 && method !== 'GET' && method !== 'HEAD') ||
        ((status === 301 || status === 302) && method === 'POST')
      ) {
        method = 'GET';
        body = undefined;
        for (const name of BODY_HEADERS) delete headers[name];
      }
      url = next.href;
      if (onTarget && next.origin !== this.#origin) {
        onTarget = false;
        this.#strip(headers);
      }
    }
  }

  /** `Bearer <token>`, built once per token rather than once per request. */
  #bearer(token: string): string {
    if (token !== this.#lastToken) {
      this.#lastToken = token;
      this.#lastBearer = `Bearer ${token}`;
    }
    return this.#lastBearer;
  }

  /** Removes every credential header before a hop to another origin. */
  #strip(headers: HeaderRecord): void {
    for (const name of CREDENTIAL_HEADERS) delete headers[name];
    const plan = this.#plan;
    if (plan.kind === 'google') delete headers[plan.headerName];
    else {
      if (plan.placement === 'header') delete headers[plan.name];
      for (const [name] of plan.extraHeaders) delete headers[name];
    }
  }

  #failureContext(
    url: string,
    onTarget: boolean,
    sent: string | undefined,
    retried: boolean,
    coolingDown: boolean,
  ): AuthFailureContext {
    if (!onTarget) {
      return {
        url,
        credentialSent: false,
        withheldReason: `a redirect led away from the target ${String(this.#origin)}, and the credential is never sent to another origin`,
      };
    }
    const plan = this.#plan;
    if (plan.kind === 'static') {
      return {
        url,
        credentialSent: true,
        header: plan.placement === 'header' ? plan.name : undefined,
        tokenKind: 'static',
        label: plan.label,
      };
    }
    const context: AuthFailureContext = {
      url,
      credentialSent: true,
      header: plan.headerName,
      retried,
    };
    if (coolingDown) context.retrySuppressed = true;
    const request = this.#request;
    if (request?.kind === 'id') {
      context.tokenKind = 'id';
      const claims = sent === undefined ? undefined : decodeJwtPayload(sent);
      const aud = claims?.aud;
      context.audience = typeof aud === 'string' ? aud : request.audience;
      if (typeof claims?.email === 'string') context.principal = claims.email;
    } else {
      context.tokenKind = 'access';
    }
    return context;
  }
}

function parseHttpUrl(value: string | URL, base?: string): URL | undefined {
  let url: URL;
  try {
    url = value instanceof URL ? value : new URL(value, base);
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
}

/**
 * Request headers as a null-prototype record with lower-case names. Values are not checked
 * here: the fetch below checks them once, so a request pays for one header validation (a
 * `Headers` built here would validate every value, the token included, a second time).
 */
type HeaderRecord = Record<string, string>;

/** A copy of the caller's headers (a `Headers`, pairs or a record); repeated names are joined with `, `, as `Headers` does. */
function copyHeaders(init: RequestInit['headers']): HeaderRecord {
  const out = Object.create(null) as HeaderRecord;
  if (init === undefined || init === null) return out;
  if (init instanceof Headers) {
    init.forEach((value, name) => addHeader(out, name, value));
  } else if (Symbol.iterator in init) {
    for (const pair of init as Iterable<readonly string[]>) {
      if (pair.length !== 2) {
        throw new TypeError('fetch failed: each header pair must hold a name and a value');
      }
      addHeader(out, String(pair[0]), String(pair[1]));
    }
  } else {
    for (const name of Object.keys(init)) addHeader(out, name, String(init[name]));
  }
  return out;
}

function addHeader(headers: HeaderRecord, name: string, value: string): void {
  const key = name.toLowerCase();
  const prior = headers[key];
  headers[key] = prior === undefined ? value : `${prior}, ${value}`;
}

function withQueryParam(url: string, name: string, value: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set(name, value);
  return parsed.href;
}

function originOf(url: string): string {
  return parseHttpUrl(url)?.origin ?? 'the server';
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // The body is not needed; a failure to cancel it changes nothing for the caller.
  }
}
