/**
 * `@google/adk`'s `MCPToolset` takes no credential; its `StreamableHTTPConnectionParams` do
 * take `transportOptions`, which ADK hands unchanged to the MCP SDK's
 * `StreamableHTTPClientTransport` for every session it opens. Putting our fetch there is the
 * whole integration.
 */
import type {StreamableHTTPConnectionParams} from '@google/adk';
import type {AuthCredential, AuthScheme} from '../credentials/types.js';
import {googleAuthFetch} from '../http/google-auth-fetch.js';
import type {AuthHeaderMode} from '../http/auth-header-mode.js';
import type {TokenCache} from '../tokens/token-cache.js';
import type {TokenSourceOptions} from '../tokens/create-token-source.js';
import type {FetchLike} from '../tokens/google-routing.js';

/** Options of {@link adkMcpConnectionParams}. Validated once, when the params are built. */
export interface AdkMcpConnectionParamsOptions {
  /** The MCP endpoint, e.g. `https://svc-abc.a.run.app/mcp` (http or https). Required. */
  url: string;
  /**
   * The credential, in ADK's shape (an `AuthCredential` from `@google/adk` is accepted as it
   * is). A service account with `useIdToken` gets OIDC ID tokens whose audience defaults to
   * the origin of `url`. Required.
   */
  authCredential: AuthCredential;
  /** The OpenAPI security scheme, as `McpToolset` takes it. Needed only for API keys. */
  authScheme?: AuthScheme;
  /** The ID token's audience. Default is `serviceAccount.audience`, else the origin of `url`. */
  audience?: string;
  /**
   * Which header carries `Bearer <token>`: `authorization` (default),
   * `x-serverless-authorization` (keeps the caller's own `Authorization` for the container),
   * or `proxy-authorization` (IAP).
   */
  header?: AuthHeaderMode;
  /** Fixed headers for every request; the auth header wins over them. Default is none. */
  headers?: Record<string, string>;
  /** The fetch to wrap. Default is the global `fetch`. */
  fetch?: FetchLike;
  /** The token cache. Default is the process-wide `defaultTokenCache()`. */
  cache?: TokenCache;
  /** Options for `createTokenSource` (emulator host, fetch, environment). */
  tokenSourceOptions?: TokenSourceOptions;
}

/**
 * Connection params for `@google/adk`'s `MCPToolset` that reach an MCP server behind Cloud
 * Run, Cloud Run functions or IAP: every request ADK's MCP client sends carries a fresh
 * Google token from the shared cache, a 401 is retried once with a new token, and the token
 * never leaves the server's origin.
 *
 * **Cost: a session per call.** `MCPToolset` (in `@google/adk` 2.0) opens a new MCP
 * session for every `getTools()` (an agent calls it on every model turn) and for every tool
 * call, never ends them on the server (its `close()` sends no DELETE), and logs an
 * `ERROR: [ADK] … SSE stream disconnected: AbortError` line for each one it drops. The token
 * is still minted once (every session goes through this one fetch). `npm run bench`
 * measures it beside a plain MCP SDK client: 3 to 5 times the latency and CPU per call, and
 * one session left open on the server per call. Prefer `AdkMcpToolset` (this entry), which keeps
 * ADK's toolset shape over one session; use this only where ADK's own class must stay.
 *
 * @example
 * import {MCPToolset} from '@google/adk';
 * import {adkMcpConnectionParams} from 'mcp-google-auth/adk';
 *
 * const toolset = new MCPToolset(
 *   adkMcpConnectionParams({
 *     url: 'https://svc-abc.a.run.app/mcp',
 *     authCredential: {authType: 'serviceAccount', serviceAccount: {useDefaultCredential: true, useIdToken: true}},
 *   }),
 * );
 */
export function adkMcpConnectionParams(
  options: AdkMcpConnectionParamsOptions,
): StreamableHTTPConnectionParams {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      'adkMcpConnectionParams options must be an object with url and authCredential',
    );
  }
  const url = checkUrl(options.url);
  const fetch = googleAuthFetch({
    authCredential: options.authCredential,
    authScheme: options.authScheme,
    audience: options.audience,
    header: options.header,
    targetUrl: url,
    fetch: options.fetch,
    cache: options.cache,
    tokenSourceOptions: options.tokenSourceOptions,
  });
  return {
    type: 'StreamableHTTPConnectionParams',
    url: url.href,
    transportOptions: {
      fetch,
      ...(options.headers === undefined ? {} : {requestInit: {headers: {...options.headers}}}),
    },
  };
}

function checkUrl(value: unknown): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TypeError(
      `adkMcpConnectionParams url must be an http(s) URL, got ${JSON.stringify(String(value))}`,
    );
  }
  return url;
}
