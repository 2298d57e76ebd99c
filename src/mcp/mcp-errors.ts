/**
 * Errors of the MCP layer: they name the URL, the tool and the HTTP status, and say what a
 * 401 or 403 usually means. The lower error (from the MCP SDK, the network or the token
 * layer) is kept as `cause`.
 */
import {McpGoogleAuthError} from '../credentials/errors.js';

/** Codes of the MCP layer's errors: `http_error` when the server answered an HTTP error status, else `mcp_error`. */
export type McpErrorCode = 'http_error' | 'mcp_error';

/** Connecting to the MCP server (or listing its tools) failed. */
export class McpConnectionError extends McpGoogleAuthError {
  declare readonly code: McpErrorCode;
  /** The MCP endpoint, without query or credentials (for stdio: `stdio:<command>`). */
  readonly url: string;
  /** The HTTP status the server answered, when there was one. */
  readonly status: number | undefined;

  constructor(message: string, details: {url: string; status?: number; cause?: unknown}) {
    super(details.status === undefined ? 'mcp_error' : 'http_error', message, {
      cause: details.cause,
    });
    this.url = details.url;
    this.status = details.status;
  }
}

/** Calling a tool failed: the connection, the HTTP exchange, or the server's JSON-RPC answer. */
export class McpToolError extends McpGoogleAuthError {
  declare readonly code: McpErrorCode;
  /** The tool's name as the caller knows it (with the toolset's prefix). */
  readonly toolName: string;
  /** The MCP endpoint, without query or credentials (for stdio: `stdio:<command>`). */
  readonly url: string;
  /** The HTTP status the server answered, when there was one. */
  readonly status: number | undefined;

  constructor(
    message: string,
    details: {toolName: string; url: string; status?: number; cause?: unknown},
  ) {
    super(details.status === undefined ? 'mcp_error' : 'http_error', message, {
      cause: details.cause,
    });
    this.toolName = details.toolName;
    this.url = details.url;
    this.status = details.status;
  }
}
