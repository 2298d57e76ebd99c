/**
 * The MCP layer: ADK-compatible `McpToolset` and `McpTool` with Google credentials. Every
 * export here is public API.
 */
export type {
  McpConnectionParams,
  SseConnectionParams,
  StdioConnectionParams,
  StreamableHTTPConnectionParams,
} from './connection-params.js';
export {McpConnectionError, McpToolError} from './mcp-errors.js';
export type {McpErrorCode} from './mcp-errors.js';
export {McpTool} from './mcp-tool.js';
export type {McpToolRunRequest} from './mcp-tool.js';
export {McpToolset} from './mcp-toolset.js';
export type {McpHeaderProvider, McpToolPredicate, McpToolsetOptions} from './mcp-toolset.js';
