/**
 * How to reach an MCP server, in the names and shapes of the Agent Development Kit
 * (`StreamableHTTPConnectionParams`, `SseConnectionParams`, `StdioConnectionParams`, told
 * apart by `type`).
 */
import type {StdioServerParameters} from '@modelcontextprotocol/sdk/client/stdio.js';

/**
 * An MCP server over Streamable HTTP (the current MCP transport).
 *
 * @example
 * const params: StreamableHTTPConnectionParams = {type: 'StreamableHTTPConnectionParams', url: 'https://svc-abc.a.run.app/mcp'};
 */
export interface StreamableHTTPConnectionParams {
  type: 'StreamableHTTPConnectionParams';
  /** The MCP endpoint, e.g. `https://svc-abc.a.run.app/mcp`. Its origin is the default ID-token audience. */
  url: string;
  /** Fixed headers for every request. The auth header wins over them; see `McpToolsetOptions.headerProvider`. */
  headers?: Record<string, string>;
  /** Longest wait for one MCP request (initialize, tools/list, tools/call), in seconds. Default is 60. */
  timeout?: number;
  /** Accepted so ADK configurations load unchanged; the MCP TypeScript SDK has no SSE read timeout, so it has no effect. */
  sseReadTimeout?: number;
  /** Whether `close()` ends the session on the server (HTTP DELETE). Default is true. */
  terminateOnClose?: boolean;
}

/**
 * An MCP server over the legacy HTTP+SSE transport (a GET event stream plus POSTed messages).
 *
 * @example
 * const params: SseConnectionParams = {type: 'SseConnectionParams', url: 'https://svc-abc.a.run.app/sse'};
 */
export interface SseConnectionParams {
  type: 'SseConnectionParams';
  /** The SSE endpoint, e.g. `https://svc-abc.a.run.app/sse`. Its origin is the default ID-token audience. */
  url: string;
  /** Fixed headers for every request. The auth header wins over them. */
  headers?: Record<string, string>;
  /** Longest wait for one MCP request, in seconds. Default is 60. */
  timeout?: number;
  /** Accepted so ADK configurations load unchanged; has no effect (see {@link StreamableHTTPConnectionParams.sseReadTimeout}). */
  sseReadTimeout?: number;
}

/**
 * A local MCP server started as a child process, spoken to over stdin/stdout. Credentials do
 * not apply (pass what the server needs in `serverParams.env`).
 *
 * @example
 * const params: StdioConnectionParams = {type: 'StdioConnectionParams', serverParams: {command: 'npx', args: ['-y', 'some-mcp-server']}};
 */
export interface StdioConnectionParams {
  type: 'StdioConnectionParams';
  /** The command, arguments, environment and working directory of the server process. */
  serverParams: StdioServerParameters;
  /** Longest wait for one MCP request, in seconds. Default is 60. */
  timeout?: number;
}

/** Any of the connection parameter shapes. */
export type McpConnectionParams =
  StreamableHTTPConnectionParams | SseConnectionParams | StdioConnectionParams;
