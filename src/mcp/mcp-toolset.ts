import {AsyncLocalStorage} from 'node:async_hooks';
import {createRequire} from 'node:module';
import type {Client} from '@modelcontextprotocol/sdk/client/index.js';
import type {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {RequestOptions} from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {Transport} from '@modelcontextprotocol/sdk/shared/transport.js';
import type {CallToolResult, Tool} from '@modelcontextprotocol/sdk/types.js';
import {McpGoogleAuthError} from '../credentials/errors.js';
import type {AuthCredential, AuthScheme} from '../credentials/types.js';
import type {AuthHeaderMode} from '../http/auth-header-mode.js';
import {scrubSecrets} from '../tokens/sources/redact.js';
import {explainAuthFailure} from '../http/explain-auth-failure.js';
import {googleAuthFetch} from '../http/google-auth-fetch.js';
import type {TokenSourceOptions} from '../tokens/create-token-source.js';
import type {FetchLike} from '../tokens/google-routing.js';
import type {TokenCache} from '../tokens/token-cache.js';
import type {TokenSource} from '../tokens/token-source.js';
import type {McpConnectionParams} from './connection-params.js';
import {McpConnectionError, McpToolError} from './mcp-errors.js';
import {httpStatusOf, McpSession} from './mcp-session.js';
import type {LiveSession} from './mcp-session.js';
import {McpTool} from './mcp-tool.js';

/**
 * Extra headers for the MCP requests, computed per HTTP request (sync or async). It gets the
 * context the current call was given (`getTools(context)`, or ADK's `toolContext` in
 * `runAsync({args, toolContext})`), else `undefined`.
 */
export type McpHeaderProvider = (
  context: unknown,
) => Record<string, string> | undefined | Promise<Record<string, string> | undefined>;

/** Selects tools by predicate: gets each tool (after prefixing) and the context given to `getTools`. */
export type McpToolPredicate = (tool: McpTool, context?: unknown) => boolean;

/** Options of {@link McpToolset}. Validated once, in the constructor. */
export interface McpToolsetOptions {
  /** Where the MCP server is: Streamable HTTP, SSE or stdio. */
  connectionParams: McpConnectionParams;
  /** The OpenAPI security scheme, as in ADK. Required for API keys (names the header); informative otherwise. */
  authScheme?: AuthScheme;
  /**
   * The credential for every HTTP request (not for stdio). A service account gets an ID token
   * with `serviceAccount.useIdToken` (audience default: the connection URL's origin) or an
   * access token; also HTTP bearer and basic, an API key, an OAuth2 access token.
   */
  authCredential?: AuthCredential;
  /** Which tools `getTools()` returns: names (with or without the prefix) or a predicate. Default is every tool. */
  toolFilter?: readonly string[] | McpToolPredicate;
  /** When set, tool names become `${toolNamePrefix}_${name}`; calls send the server's own name. */
  toolNamePrefix?: string;
  /**
   * Extra headers per request, merged **under** the auth header: when both set the same
   * header, the credential wins. They also yield to the transport's own protocol headers
   * (`Mcp-Session-Id`, `Content-Type`, ...), and override `connectionParams.headers`.
   */
  headerProvider?: McpHeaderProvider;
  /** Which header carries the Google token: `authorization` (default), `x-serverless-authorization`, `proxy-authorization` (IAP). */
  authHeader?: AuthHeaderMode;
  /** The token cache. Default is the process-wide `defaultTokenCache()`. */
  cache?: TokenCache;
  /** Mint service-account tokens from this source instead of one built from the credential. */
  tokenSource?: TokenSource;
  /** Options for `createTokenSource` (emulator host, fetch, environment). */
  tokenSourceOptions?: TokenSourceOptions;
  /** The fetch under the auth layer (proxies, tests). Default is the global `fetch`. */
  fetch?: FetchLike;
  /** How this client introduces itself in `initialize`. Default is `{name: 'mcp-google-auth', version: <package version>}`. */
  clientInfo?: {name: string; version: string};
  /** Where one-time warnings go. Default is `process.emitWarning`. */
  onWarning?: (message: string, code: string) => void;
}

const require = createRequire(import.meta.url);
const PACKAGE_VERSION = (require('../../package.json') as {version: string}).version;
const MAX_TOOL_PAGES = 100;

/**
 * The tools of one MCP server, for an agent: ADK's `McpToolset` with Google credentials.
 * One MCP session, opened on first use, serves every tool and every call; the token is
 * attached per HTTP request from the shared cache, so the session outlives token rotation.
 * A session the server forgot (HTTP 404) is re-opened once, transparently.
 *
 * @example
 * const toolset = new McpToolset({
 *   connectionParams: {type: 'StreamableHTTPConnectionParams', url: 'https://svc-abc.a.run.app/mcp'},
 *   authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
 *   authCredential: {
 *     authType: AuthCredentialTypes.SERVICE_ACCOUNT,
 *     serviceAccount: {useDefaultCredential: true, useIdToken: true},
 *   },
 * });
 * const tools = await toolset.getTools();
 * await toolset.close();
 */
export class McpToolset {
  readonly #params: McpConnectionParams;
  readonly #url: string;
  readonly #filter: readonly string[] | McpToolPredicate | undefined;
  readonly #prefix: string | undefined;
  readonly #headerProvider: McpHeaderProvider | undefined;
  readonly #fetch: FetchLike | undefined;
  readonly #clientInfo: {name: string; version: string};
  readonly #requestOptions: RequestOptions | undefined;
  readonly #session: McpSession;
  readonly #context = new AsyncLocalStorage<unknown>();
  /** The explanation of the last 401/403 seen, by status. */
  readonly #authFailures = new Map<number, string>();

  constructor(options: McpToolsetOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('McpToolset options must be an object with connectionParams');
    }
    const params = options.connectionParams;
    this.#params = checkConnectionParams(params);
    this.#url = displayUrl(params);
    if (
      options.toolFilter !== undefined &&
      typeof options.toolFilter !== 'function' &&
      !Array.isArray(options.toolFilter)
    ) {
      throw new TypeError(
        'McpToolset toolFilter must be an array of tool names or a predicate (tool, context) => boolean',
      );
    }
    this.#filter = options.toolFilter;
    if (
      options.toolNamePrefix !== undefined &&
      (typeof options.toolNamePrefix !== 'string' || options.toolNamePrefix === '')
    ) {
      throw new TypeError('McpToolset toolNamePrefix must be a non-empty string');
    }
    this.#prefix = options.toolNamePrefix;
    if (options.headerProvider !== undefined && typeof options.headerProvider !== 'function') {
      throw new TypeError('McpToolset headerProvider must be a function (context) => headers');
    }
    this.#headerProvider = options.headerProvider;
    this.#clientInfo = options.clientInfo ?? {name: 'mcp-google-auth', version: PACKAGE_VERSION};
    const timeout = params.timeout;
    if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0))) {
      throw new TypeError(
        `McpToolset connectionParams.timeout must be a number of seconds > 0, got ${String(timeout)}`,
      );
    }
    this.#requestOptions = timeout === undefined ? undefined : {timeout: timeout * 1000};

    if (params.type === 'StdioConnectionParams') {
      if (
        options.authCredential !== undefined ||
        options.headerProvider !== undefined ||
        options.authHeader !== undefined
      ) {
        throw new TypeError(
          'McpToolset authCredential, authHeader and headerProvider apply to HTTP connections only; give a stdio server what it needs in connectionParams.serverParams.env',
        );
      }
      this.#fetch = undefined;
    } else {
      this.#fetch = this.#buildFetch(options, params.url, params.headers);
    }
    this.#session = new McpSession(() => this.#open());
  }

  /**
   * The server's tools (every page of `tools/list`), prefixed and filtered. Connects on first
   * use. Throws {@link McpConnectionError} naming the URL and the HTTP status.
   *
   * @param context - Handed to a predicate `toolFilter` and to `headerProvider` (ADK's `ReadonlyContext`).
   */
  async getTools(context?: unknown): Promise<McpTool[]> {
    let definitions: Tool[];
    try {
      definitions = await this.#withContext(context, () =>
        this.#session.use((client) => listAllTools(client, this.#requestOptions)),
      );
    } catch (error) {
      throw this.#connectionError('listing the tools', error);
    }
    const tools = definitions.map(
      (definition) =>
        new McpTool(
          definition,
          this.#prefix ? `${this.#prefix}_${definition.name}` : definition.name,
          (tool, args, ctx, signal) => this.#callTool(tool, args, ctx, signal),
        ),
    );
    const filter = this.#filter;
    if (filter === undefined) return tools;
    if (typeof filter === 'function') return tools.filter((tool) => filter(tool, context));
    if (filter.length === 0) return tools;
    return tools.filter((tool) => filter.includes(tool.name) || filter.includes(tool.originalName));
  }

  /**
   * Ends the session: an HTTP DELETE for Streamable HTTP (unless `terminateOnClose` is false),
   * then the transport closes. A later call opens a new session.
   */
  async close(): Promise<void> {
    await this.#session.current();
    const live = this.#session.detach();
    if (!live) return;
    const params = this.#params;
    if (params.type === 'StreamableHTTPConnectionParams' && params.terminateOnClose !== false) {
      const transport = live.transport as StreamableHTTPClientTransport;
      try {
        await transport.terminateSession();
      } catch {
        // The server may already have dropped the session; closing goes on.
      }
    }
    await live.client.close();
  }

  /** Sessions this toolset has opened so far (1 for a toolset that never lost its session). */
  get sessionsOpened(): number {
    return this.#session.opened;
  }

  async #callTool(
    tool: McpTool,
    args: Record<string, unknown>,
    context: unknown,
    signal: AbortSignal | undefined,
  ): Promise<CallToolResult> {
    const options = signal ? {...this.#requestOptions, signal} : this.#requestOptions;
    try {
      const result = await this.#withContext(context, () =>
        this.#session.use((client) =>
          client.callTool({name: tool.originalName, arguments: args}, undefined, options),
        ),
      );
      return result as CallToolResult;
    } catch (error) {
      throw this.#toolError(tool.name, error);
    }
  }

  #withContext<T>(context: unknown, run: () => Promise<T>): Promise<T> {
    return this.#headerProvider ? this.#context.run(context, run) : run();
  }

  async #open(): Promise<LiveSession> {
    const transport = await this.#createTransport();
    // The MCP SDK loads with the first session, not with this package: a program that only
    // fetches or verifies tokens never pays for it.
    const {Client} = await import('@modelcontextprotocol/sdk/client/index.js');
    const client = new Client(this.#clientInfo, {capabilities: {}});
    const live: LiveSession = {client, transport, closed: false};
    client.onclose = () => {
      live.closed = true;
    };
    try {
      await client.connect(transport, this.#requestOptions);
    } catch (error) {
      live.closed = true;
      await client.close().catch(() => undefined);
      throw this.#connectionError('connecting', error);
    }
    if (this.#params.type === 'SseConnectionParams') {
      // The legacy SSE transport carries every answer on one event stream, and a server ends
      // it only when it drops the session. Then a new session is opened (instead of letting
      // EventSource reconnect to a fresh, uninitialized one behind our back) and calls in
      // flight run once more on it, as after a 404: their answers were on the lost stream.
      client.onerror = (error) => {
        if (live.closed || error?.constructor?.name !== 'SseError') return;
        live.closed = true;
        live.forgotten = true;
        client.close().catch(() => undefined);
      };
    }
    return live;
  }

  async #createTransport(): Promise<Transport> {
    const params = this.#params;
    switch (params.type) {
      case 'StreamableHTTPConnectionParams': {
        const {StreamableHTTPClientTransport} =
          await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
        return new StreamableHTTPClientTransport(new URL(params.url), {fetch: this.#fetch});
      }
      case 'SseConnectionParams': {
        const {SSEClientTransport} = await import('@modelcontextprotocol/sdk/client/sse.js');
        return new SSEClientTransport(new URL(params.url), {fetch: this.#fetch});
      }
      case 'StdioConnectionParams': {
        const {StdioClientTransport} = await import('@modelcontextprotocol/sdk/client/stdio.js');
        return new StdioClientTransport(params.serverParams);
      }
    }
  }

  /** The fetch every HTTP request goes through: fixed and provided headers, then the credential. */
  #buildFetch(
    options: McpToolsetOptions,
    url: string,
    fixed: Record<string, string> | undefined,
  ): FetchLike {
    let fetchChain: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
    if (options.authCredential !== undefined) {
      fetchChain = googleAuthFetch({
        authCredential: options.authCredential,
        authScheme: options.authScheme,
        targetUrl: url,
        header: options.authHeader,
        fetch: fetchChain,
        cache: options.cache,
        tokenSource: options.tokenSource,
        tokenSourceOptions: options.tokenSourceOptions,
        onWarning: options.onWarning,
      });
    } else if (options.authHeader !== undefined) {
      throw new TypeError('McpToolset authHeader needs authCredential');
    }
    const provider = this.#headerProvider;
    const fixedEntries = Object.entries(fixed ?? {});
    if (provider !== undefined || fixedEntries.length > 0) {
      const inner = fetchChain;
      const store = this.#context;
      fetchChain = async (input, init) => {
        const headers = new Headers(init?.headers);
        const provided = provider ? await provider(store.getStore()) : undefined;
        if (provided) {
          for (const [name, value] of Object.entries(provided))
            if (!headers.has(name)) headers.set(name, value);
        }
        for (const [name, value] of fixedEntries) if (!headers.has(name)) headers.set(name, value);
        return inner(input, {...init, headers});
      };
    }
    const observed = fetchChain;
    return (input, init) =>
      observed(input, init).then((response) => {
        if (response.status === 401 || response.status === 403) {
          const explanation = explainAuthFailure(response);
          if (explanation) this.#authFailures.set(response.status, explanation);
        }
        return response;
      });
  }

  /** `doing` is `connecting`, or what failed on a connected session. */
  #connectionError(doing: string, error: unknown): McpConnectionError {
    if (error instanceof McpConnectionError) return error;
    const status = httpStatusOf(error);
    const connected = doing !== 'connecting';
    return new McpConnectionError(
      `MCP server at ${this.#url}: ${doing} failed: ${this.#describe(status, error, connected)}`,
      {
        url: this.#url,
        status,
        cause: error,
      },
    );
  }

  #toolError(toolName: string, error: unknown): McpToolError {
    const status = error instanceof McpConnectionError ? error.status : httpStatusOf(error);
    const cause =
      error instanceof McpConnectionError && error.cause !== undefined ? error.cause : error;
    const connected = !(error instanceof McpConnectionError);
    const what = connected ? '' : 'could not connect: ';
    return new McpToolError(
      `MCP tool ${JSON.stringify(toolName)} at ${this.#url} failed: ${what}${this.#describe(status, cause, connected)}`,
      {
        toolName,
        url: this.#url,
        status,
        cause: error,
      },
    );
  }

  /**
   * Words for a failure: the status and what it usually means, or the lower error's message.
   * `connected` says whether the failure came on a session that had opened.
   */
  #describe(status: number | undefined, error: unknown, connected: boolean): string {
    if (status === 401 || status === 403) {
      return this.#authFailures.get(status) ?? explainAuthFailure(status) ?? `HTTP ${status}`;
    }
    if (status === 404) {
      // A 404 on an open session means the server lost it; McpSession re-opened it once and
      // the server lost it again.
      return connected
        ? 'HTTP 404: the server lost the MCP session, and lost it again after it was re-opened once (on Cloud Run: several instances without session affinity, or instances restarting).'
        : 'HTTP 404: nothing answers MCP at this URL (check the path, usually /mcp for Streamable HTTP or /sse for SSE).';
    }
    const message = error instanceof Error ? error.message : String(error);
    // This package's own messages are written to be shown whole (and hold no secret); a
    // server's or a library's text is cut short and scrubbed of anything token-like, since a
    // server may echo the request's credentials back.
    const short = error instanceof McpGoogleAuthError ? message : scrubSecrets(message);
    return status === undefined ? short : `HTTP ${status}: ${short}`;
  }
}

async function listAllTools(client: Client, options: RequestOptions | undefined): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_TOOL_PAGES; page++) {
    const result = await client.listTools(cursor === undefined ? undefined : {cursor}, options);
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (cursor === undefined) break;
  }
  return tools;
}

function checkConnectionParams(params: McpConnectionParams): McpConnectionParams {
  if (params === null || typeof params !== 'object') {
    throw new TypeError('McpToolset connectionParams is required');
  }
  switch (params.type) {
    case 'StreamableHTTPConnectionParams':
    case 'SseConnectionParams': {
      let url: URL;
      try {
        url = new URL(params.url);
      } catch {
        throw new TypeError(
          `McpToolset connectionParams.url must be an http(s) URL, got ${JSON.stringify(params.url)}`,
        );
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new TypeError(
          `McpToolset connectionParams.url must be an http(s) URL, got ${JSON.stringify(url.protocol)}`,
        );
      }
      if (
        params.headers !== undefined &&
        (params.headers === null || typeof params.headers !== 'object')
      ) {
        throw new TypeError(
          'McpToolset connectionParams.headers must be an object of header names to values',
        );
      }
      return params;
    }
    case 'StdioConnectionParams':
      if (
        !params.serverParams ||
        typeof params.serverParams.command !== 'string' ||
        params.serverParams.command === ''
      ) {
        throw new TypeError(
          'McpToolset connectionParams.serverParams.command must name the server executable',
        );
      }
      return params;
    default:
      throw new TypeError(
        `McpToolset connectionParams.type must be 'StreamableHTTPConnectionParams', 'SseConnectionParams' or 'StdioConnectionParams', got ${JSON.stringify((params as {type?: unknown}).type)}`,
      );
  }
}

/** The endpoint for messages: origin and path only (a query could hold an API key). */
function displayUrl(params: McpConnectionParams): string {
  if (params.type === 'StdioConnectionParams') return `stdio:${params.serverParams.command}`;
  const url = new URL(params.url);
  return `${url.origin}${url.pathname}`;
}
