import type {CallToolResult, Tool} from '@modelcontextprotocol/sdk/types.js';

/** The request shape ADK's `BaseTool.runAsync` receives: the arguments and the tool context. */
export interface McpToolRunRequest {
  /** The tool's arguments. */
  args?: Record<string, unknown>;
  /** ADK's `ToolContext`; handed to the toolset's `headerProvider` and otherwise unused. */
  toolContext?: unknown;
  /** Abandons the call when aborted (the server is sent `notifications/cancelled`). Default is none. */
  signal?: AbortSignal;
}

/** Internal: how a tool reaches its toolset's shared session. */
export type McpToolInvoker = (
  tool: McpTool,
  args: Record<string, unknown>,
  context: unknown,
  signal?: AbortSignal,
) => Promise<CallToolResult>;

/**
 * One tool of an MCP server, as an agent sees it. Built by `McpToolset.getTools()`; every
 * tool of a toolset calls through the toolset's one shared MCP session.
 *
 * @example
 * const [add] = await toolset.getTools();
 * const result = await add.runAsync({a: 2, b: 3}); // or ADK's shape: add.runAsync({args: {a: 2, b: 3}, toolContext})
 */
export class McpTool {
  /** The name the caller uses: the server's name, after the toolset's `toolNamePrefix` and `_` when one is set. */
  readonly name: string;
  /** The server's name for the tool (what `tools/call` sends). */
  readonly originalName: string;
  /** What the tool does, from the server (empty when it gave none). */
  readonly description: string;
  /** JSON Schema of the arguments, as the server gave it. */
  readonly inputSchema: Tool['inputSchema'];
  /** JSON Schema of the structured result, when the server gave one. */
  readonly outputSchema: Tool['outputSchema'];
  /** The server's hints about the tool (read-only, destructive, ...), when given. */
  readonly annotations: Tool['annotations'];
  /** The tool definition exactly as the server listed it. */
  readonly definition: Tool;
  readonly #invoke: McpToolInvoker;

  /** Built by `McpToolset`; not meant to be called directly. */
  constructor(definition: Tool, name: string, invoke: McpToolInvoker) {
    this.definition = definition;
    this.name = name;
    this.originalName = definition.name;
    this.description = definition.description ?? '';
    this.inputSchema = definition.inputSchema;
    this.outputSchema = definition.outputSchema;
    this.annotations = definition.annotations;
    this.#invoke = invoke;
  }

  /**
   * Calls the tool and returns the server's `CallToolResult` (a result with `isError: true`
   * is returned, not thrown: the model should see it). Takes the arguments themselves, or
   * ADK's `{args, toolContext}`, optionally with a `signal` that cancels the call. Throws
   * `McpToolError` naming the tool, the URL and the HTTP status when the call could not be
   * made.
   */
  runAsync(request?: Record<string, unknown> | McpToolRunRequest): Promise<CallToolResult> {
    if (this.#isAdkRequest(request)) {
      const {args, toolContext, signal} = request as McpToolRunRequest;
      return this.#invoke(this, args ?? {}, toolContext, signal);
    }
    return this.#invoke(this, (request as Record<string, unknown> | undefined) ?? {}, undefined);
  }

  /** Whether `request` is ADK's `{args, toolContext}` rather than the arguments themselves. */
  #isAdkRequest(request: unknown): boolean {
    if (request === null || typeof request !== 'object' || Array.isArray(request)) return false;
    let sawAdkKey = false;
    for (const [key, value] of Object.entries(request)) {
      if (key === 'signal' && value instanceof AbortSignal) continue;
      if (key !== 'args' && key !== 'toolContext') return false;
      sawAdkKey = true;
    }
    if (!sawAdkKey) return false;
    if ('toolContext' in request || 'signal' in request) return true;
    // `{args: ...}` alone is ADK's shape unless the tool itself takes an argument called `args`.
    const properties = this.inputSchema?.properties as Record<string, unknown> | undefined;
    const args = (request as {args?: unknown}).args;
    return (
      !(properties && 'args' in properties) &&
      (args === undefined || (typeof args === 'object' && args !== null))
    );
  }
}
