/**
 * `@google/adk`'s toolset shape over our `McpToolset`: one MCP session for every `getTools`
 * and every call, tokens from the shared cache, a forgotten session re-opened once, and a
 * `close()` that ends the session on the server.
 */
import {createHash} from 'node:crypto';
import {BaseToolset, getLogger} from '@google/adk';
import type {
  BaseTool,
  Context,
  ReadonlyContext,
  RunAsyncToolRequest,
  ToolPredicate,
} from '@google/adk';
import {parseAuthCredential} from '../credentials/parse.js';
import {McpToolError} from '../mcp/mcp-errors.js';
import type {McpTool} from '../mcp/mcp-tool.js';
import {McpToolset} from '../mcp/mcp-toolset.js';
import type {McpToolsetOptions} from '../mcp/mcp-toolset.js';
import {scrubSecrets} from '../tokens/sources/redact.js';
import {AdkAuthFlow, isSelfSufficient, pendingAuthResult} from './adk-auth-flow.js';
import {AdkMcpTool} from './adk-mcp-tool.js';

/**
 * Extra headers for the MCP requests, computed per HTTP request (sync or async). It gets
 * ADK's context: the `ReadonlyContext` given to `getTools`, or the tool `Context` of the call.
 */
export type AdkMcpHeaderProvider = (
  context: ReadonlyContext | undefined,
) => Record<string, string> | undefined | Promise<Record<string, string> | undefined>;

/**
 * Options of {@link AdkMcpToolset}: those of `McpToolset` (see `McpToolsetOptions` for every
 * field, unit and default), with ADK's types for `toolFilter` and `headerProvider`, plus
 * `credentialKey`. Validated once, in the constructor.
 */
export interface AdkMcpToolsetOptions extends Omit<
  McpToolsetOptions,
  'toolFilter' | 'headerProvider'
> {
  /**
   * Which tools `getTools()` returns: names (with or without `toolNamePrefix`) or ADK's
   * `ToolPredicate` `(tool, readonlyContext) => boolean`, applied, as ADK's `MCPToolset`
   * does, only when `getTools` is given a context. Default is every tool.
   */
  toolFilter?: ToolPredicate | readonly string[];
  /**
   * Extra headers per request from ADK's context, merged **under** the credential's header.
   * Default is none.
   */
  headerProvider?: AdkMcpHeaderProvider;
  /**
   * The `AuthConfig.credentialKey` of ADK's agent auth flow, used when `authScheme` is set
   * and `authCredential` cannot authenticate by itself (it is missing, or an OAuth2 / OpenID
   * Connect credential has no `accessToken`). The credential the client supplies is then kept
   * in session state under `<credentialKey>_exchanged_credential`. Default is
   * `mcp_google_auth_` followed by 12 hex digits of the SHA-256 of the server URL (origin and
   * path), so that toolsets of different servers never share a credential.
   */
  credentialKey?: string;
}

/** What the inner `McpToolset` hands to its header provider: ADK's context and the call's credential. */
interface CallContext {
  readonly adk: ReadonlyContext | undefined;
  readonly headers: Record<string, string> | undefined;
}

/**
 * The tools of one MCP server for an `@google/adk` agent: a `BaseToolset` for
 * `LlmAgent({tools: [...]})`, taking the options of our `McpToolset`. Its tools are ADK
 * `BaseTool`s whose declarations, results, errors and `toolContext` handling are those of
 * ADK's own `MCPTool`; underneath is one `McpToolset`, so:
 * - one MCP session serves every `getTools` and every call (ADK's `MCPToolset` opens one per
 *   `getTools` and per call, and never ends them on the server);
 * - the token comes from the shared cache per request, once per audience for its lifetime,
 *   and a 401 is retried once with a fresh token;
 * - a session the server forgot (HTTP 404) is re-initialized once, transparently;
 * - `close()` ends the session with an HTTP DELETE, without logging anything.
 *
 * When `authScheme` is set and `authCredential` cannot authenticate by itself (see
 * {@link AdkMcpToolsetOptions.credentialKey}), a call takes the credential ADK's agent auth
 * flow supplied through the tool context, or asks the client for one
 * (`toolContext.requestCredential`) and answers `{pending: true, message}`, as ADK's
 * `RestApiTool` does. Every call carries its own credential, on the toolset's one session.
 *
 * @example
 * import {LlmAgent} from '@google/adk';
 * import {AdkMcpToolset} from 'mcp-google-auth/adk';
 *
 * const toolset = new AdkMcpToolset({
 *   connectionParams: {type: 'StreamableHTTPConnectionParams', url: 'https://svc-abc.a.run.app/mcp'},
 *   authCredential: {authType: 'serviceAccount', serviceAccount: {useDefaultCredential: true, useIdToken: true}},
 * });
 * const agent = new LlmAgent({name: 'caller', model: 'gemini-2.5-flash', tools: [toolset]});
 * // ... run the agent ...
 * await toolset.close();
 */
export class AdkMcpToolset extends BaseToolset {
  readonly #toolset: McpToolset;
  readonly #auth: AdkAuthFlow | undefined;
  /** `getTools` and calls under way; `close()` lets them finish first. */
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(options: AdkMcpToolsetOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('AdkMcpToolset options must be an object with connectionParams');
    }
    const filter = options.toolFilter;
    if (
      filter !== undefined &&
      typeof filter !== 'function' &&
      !(Array.isArray(filter) && filter.every((name) => typeof name === 'string'))
    ) {
      throw new TypeError(
        'AdkMcpToolset toolFilter must be an array of tool names or a predicate (tool, readonlyContext) => boolean',
      );
    }
    super(typeof filter === 'function' ? filter : [...(filter ?? [])], options.toolNamePrefix);

    const {toolFilter: _filter, headerProvider, credentialKey, ...rest} = options;
    if (headerProvider !== undefined && typeof headerProvider !== 'function') {
      throw new TypeError('AdkMcpToolset headerProvider must be a function (context) => headers');
    }
    const params = options.connectionParams;
    const http =
      params?.type === 'StreamableHTTPConnectionParams' || params?.type === 'SseConnectionParams';
    this.#auth =
      http && options.authScheme != null && !isSelfSufficient(options.authCredential)
        ? new AdkAuthFlow(
            options.authScheme,
            options.authCredential == null
              ? undefined
              : parseAuthCredential(options.authCredential, {requireAudience: false}),
            checkCredentialKey(credentialKey, params.url),
            'AdkMcpToolset',
          )
        : undefined;

    const auth = this.#auth;
    const provider =
      headerProvider === undefined && auth === undefined
        ? undefined
        : async (context: unknown): Promise<Record<string, string> | undefined> => {
            const call = context as CallContext | undefined;
            const own = headerProvider ? await headerProvider(call?.adk) : undefined;
            if (!call?.headers) return own;
            // The credential wins over the provider's headers, whatever their case.
            const merged: Record<string, string> = {};
            for (const [name, value] of Object.entries(own ?? {}))
              merged[name.toLowerCase()] = value;
            for (const [name, value] of Object.entries(call.headers)) merged[name] = value;
            return merged;
          };
    try {
      this.#toolset = new McpToolset({
        ...rest,
        // With ADK's auth flow the credential arrives per call, through the header provider.
        ...(auth ? {authCredential: undefined, authScheme: undefined} : {}),
        headerProvider: provider,
      });
    } catch (error) {
      if (error instanceof TypeError && error.message.startsWith('McpToolset ')) {
        throw new TypeError(`Adk${error.message}`);
      }
      throw error;
    }
  }

  /**
   * The server's tools as ADK `BaseTool`s, prefixed and filtered. Lists them on the toolset's
   * one session (connecting on first use). Throws `McpConnectionError` naming the URL and the
   * HTTP status.
   *
   * @param context - ADK's `ReadonlyContext`: handed to a predicate `toolFilter` and to `headerProvider`.
   */
  override async getTools(context?: ReadonlyContext): Promise<BaseTool[]> {
    const call: CallContext = {adk: context, headers: this.#auth?.headersFor(context)};
    const tools = (await this.#track(this.#toolset.getTools(call))).map(
      (tool) =>
        new AdkMcpTool(tool, (mcpTool, request) => this.#track(this.#run(mcpTool, request))),
    );
    const filter = this.toolFilter;
    if (Array.isArray(filter)) {
      if (filter.length === 0) return tools;
      return tools.filter(
        (tool) => filter.includes(tool.name) || filter.includes(tool.mcpTool.originalName),
      );
    }
    if (context) return tools.filter((tool) => filter(tool, context));
    getLogger().warn(
      'AdkMcpToolset: a ToolPredicate toolFilter was provided but getTools() was called without a ReadonlyContext. The filter will not be applied.',
    );
    return tools;
  }

  /**
   * Ends the MCP session: an HTTP DELETE for Streamable HTTP (unless `terminateOnClose` is
   * false), then the transport closes, quietly. Calls and listings under way finish first:
   * ADK's `Runner` closes every toolset of the agent when an invocation ends, while other
   * invocations may still be calling tools of the same toolset. A later `getTools` or call
   * opens a new session.
   */
  override async close(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.#toolset.close();
  }

  /** MCP sessions this toolset has opened so far (1 for a toolset that never lost its session). */
  get sessionsOpened(): number {
    return this.#toolset.sessionsOpened;
  }

  #track<T>(operation: Promise<T>): Promise<T> {
    this.#inFlight.add(operation);
    operation.then(
      () => this.#inFlight.delete(operation),
      () => this.#inFlight.delete(operation),
    );
    return operation;
  }

  async #run(tool: McpTool, request: RunAsyncToolRequest): Promise<unknown> {
    const toolContext = request?.toolContext as Context | undefined;
    let headers: Record<string, string> | undefined;
    if (this.#auth) {
      const prepared = this.#auth.prepare(toolContext);
      if (prepared.state === 'pending') return pendingAuthResult();
      headers = prepared.headers;
    }
    const parent = toolContext?.abortSignal;
    parent?.throwIfAborted(); // the MCP SDK, too, throws the reason itself before sending
    // A signal per call: the MCP SDK adds an abort listener to the signal it is given and
    // never removes it, so handing it the invocation's signal would pile up one per call.
    const controller = parent ? new AbortController() : undefined;
    const onAbort = () => controller?.abort(parent?.reason);
    parent?.addEventListener('abort', onAbort, {once: true});
    const call: CallContext = {adk: toolContext, headers};
    try {
      return await tool.runAsync({
        args: request?.args ?? {},
        toolContext: call,
        ...(controller ? {signal: controller.signal} : {}),
      });
    } catch (error) {
      throw asAdkError(error);
    } finally {
      parent?.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * ADK's `MCPTool` lets the MCP SDK's `McpError` through (a server's JSON-RPC error, a timeout,
 * a cancelled call), so the model reads `MCP error <code>: <message>`: the same text here
 * (scrubbed of anything token-like, as every server text this package shows), on an
 * `McpToolError` that keeps the tool, URL and cause. Failures below MCP (HTTP status,
 * network) keep `McpToolError`'s own explanation.
 */
function asAdkError(error: unknown): unknown {
  if (error instanceof McpToolError && isMcpError(error.cause)) {
    return new McpToolError(scrubSecrets(error.cause.message), {
      toolName: error.toolName,
      url: error.url,
      status: error.status,
      cause: error,
    });
  }
  return error;
}

/**
 * The MCP SDK's `McpError` (or a subclass), recognised by its shape so that this entry does
 * not load the SDK before the first session does.
 */
function isMcpError(error: unknown): error is Error & {code: number} {
  return (
    error instanceof Error &&
    typeof (error as {code?: unknown}).code === 'number' &&
    error.message.startsWith('MCP error ')
  );
}

function checkCredentialKey(value: unknown, url: string): string {
  if (value === undefined) {
    let where = url;
    try {
      const parsed = new URL(url);
      where = `${parsed.origin}${parsed.pathname}`;
    } catch {
      // McpToolset names the bad URL.
    }
    return `mcp_google_auth_${createHash('sha256').update(where).digest('hex').slice(0, 12)}`;
  }
  if (typeof value !== 'string' || value === '') {
    throw new TypeError('AdkMcpToolset credentialKey must be a non-empty string');
  }
  return value;
}
