import {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js';
import type {CallToolResult} from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import {ANONYMOUS, forwardedEmail} from './forwarded-identity.js';

/** Largest `n` `slow_count` accepts. */
const MAX_COUNT = 1000;
/** Largest pause after each `slow_count` step, in milliseconds. */
const MAX_STEP_DELAY_MS = 5000;
/**
 * Default pause after each `slow_count` step, in milliseconds. Not zero on purpose: the MCP
 * SDK 1.x client handles a progress notification one microtask after it parses it, so a
 * result read in the same chunk as the last notification would remove the progress handler
 * first and the notification would be lost. 5 ms was too little through a proxy and a
 * bridge on a loaded machine: the last notification and the result arrived together.
 */
const DEFAULT_STEP_DELAY_MS = 20;

/** Called once per tool call, before the tool runs (or when a running call was cancelled). */
export type ToolCallListener = (toolName: string) => void;

function text(value: string): CallToolResult {
  return {content: [{type: 'text', text: value}]};
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, {once: true});
  });
}

/**
 * A fresh MCP SDK server holding the demo tools (one per MCP session, since an SDK server
 * serves one transport):
 * - `echo {text}` answers `text`;
 * - `add {a, b}` answers the sum as text;
 * - `whoami` answers the caller's email from the forwarded token (see {@link forwardedEmail}),
 *   or `anonymous`;
 * - `slow_count {n, delayMs?}` counts to `n`, sending a `notifications/progress` per step
 *   when the request carries a `progressToken`, pausing `delayMs` after each step (default 20
 *   milliseconds, so that each notification reaches the client before the result).
 */
export function createDemoToolServer(
  onToolCall: ToolCallListener,
  onCancelled: ToolCallListener = () => undefined,
): McpServer {
  const server = new McpServer({name: 'mcp-google-auth-demo', version: '1.0.0'});

  server.registerTool(
    'echo',
    {description: 'Answers the text it is given.', inputSchema: {text: z.string()}},
    ({text: value}) => {
      onToolCall('echo');
      return text(value);
    },
  );

  server.registerTool(
    'add',
    {
      description: 'Adds two numbers and answers the sum as text.',
      inputSchema: {a: z.number(), b: z.number()},
    },
    ({a, b}) => {
      onToolCall('add');
      return text(String(a + b));
    },
  );

  server.registerTool(
    'whoami',
    {
      description:
        'Answers the email of the caller, read from the token the Cloud Run front forwarded ' +
        '(decoded without verification, as a container does), or "anonymous".',
    },
    (extra) => {
      onToolCall('whoami');
      const headers = extra.requestInfo?.headers ?? {};
      return text(forwardedEmail(headers) ?? ANONYMOUS);
    },
  );

  server.registerTool(
    'slow_count',
    {
      description:
        'Counts from 1 to n, sending a progress notification per step when asked for progress.',
      inputSchema: {
        n: z.number().int().min(1).max(MAX_COUNT),
        delayMs: z.number().int().min(0).max(MAX_STEP_DELAY_MS).optional(),
      },
    },
    async ({n, delayMs}, extra) => {
      onToolCall('slow_count');
      const progressToken = extra._meta?.progressToken;
      for (let step = 1; step <= n; step++) {
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: {progressToken, progress: step, total: n, message: `counted ${step}`},
          });
        }
        await pause(delayMs ?? DEFAULT_STEP_DELAY_MS, extra.signal);
        if (extra.signal.aborted) {
          onCancelled('slow_count');
          return text(`cancelled at ${step}`);
        }
      }
      return text(`counted to ${n}`);
    },
  );

  return server;
}
