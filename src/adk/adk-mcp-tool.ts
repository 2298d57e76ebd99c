import {BaseTool, MCPTool} from '@google/adk';
import type {MCPSessionManager, RunAsyncToolRequest} from '@google/adk';
import type {McpTool} from '../mcp/mcp-tool.js';

/** Internal: how an {@link AdkMcpTool} runs, through its toolset's one MCP session. */
export type AdkMcpToolRunner = (tool: McpTool, request: RunAsyncToolRequest) => Promise<unknown>;

/**
 * ADK's own `MCPTool` derives the declaration; it is built without a session manager and
 * never run, so nothing here may reach one.
 */
const NO_SESSIONS = {
  createSession: () => Promise.reject(new Error('AdkMcpTool never runs through ADK sessions')),
  closeSession: () => Promise.resolve(),
  getActiveSessions: () => [],
} as unknown as MCPSessionManager;

/**
 * One tool of an MCP server as an `@google/adk` `BaseTool`, built by
 * {@link AdkMcpToolset.getTools}. Its declaration is the one ADK's own `MCPTool` derives from
 * the MCP schemas (ADK's `MCPTool` computes it, so the model sees exactly what it would see
 * with ADK's toolset); a run goes through the toolset's one MCP session and returns the
 * server's `CallToolResult` as ADK's `MCPTool` does.
 *
 * @example
 * const tools = await toolset.getTools();
 * const result = await tools[0]!.runAsync({args: {a: 2, b: 3}, toolContext});
 */
export class AdkMcpTool extends BaseTool {
  /** The MCP tool underneath: its server name (`originalName`), schemas and annotations. */
  readonly mcpTool: McpTool;
  readonly #declarationSource: MCPTool;
  readonly #run: AdkMcpToolRunner;

  /** Built by `AdkMcpToolset`; not meant to be called directly. */
  constructor(tool: McpTool, run: AdkMcpToolRunner) {
    super({name: tool.name, description: tool.description});
    this.mcpTool = tool;
    this.#run = run;
    // A copy: ADK's schema conversion fills in missing `type`s in the schema it is given.
    this.#declarationSource = new MCPTool(
      {...structuredClone(tool.definition), name: tool.name},
      NO_SESSIONS,
      tool.originalName,
    );
  }

  /** The function declaration the model sees, as ADK's `MCPTool` derives it. */
  override _getDeclaration(): ReturnType<BaseTool['_getDeclaration']> {
    return this.#declarationSource._getDeclaration();
  }

  /**
   * Calls the tool with `request.args`; returns the server's `CallToolResult` (a result with
   * `isError: true` is returned, as ADK's `MCPTool` returns it). `toolContext.abortSignal`
   * cancels the call; a server's JSON-RPC error is thrown with ADK's text
   * (`MCP error <code>: <message>`) as an `McpToolError`.
   */
  override runAsync(request: RunAsyncToolRequest): Promise<unknown> {
    return this.#run(this.mcpTool, request);
  }
}
