/**
 * One probe of `doctor`: a plain MCP `initialize` POST to the URL, with or without a token,
 * read just far enough to tell what answered. Redirects are not followed (a token never
 * goes to another origin), and a session the probe opened is ended again. Whatever text the
 * server sent is scrubbed as it is read: a server may quote the request's Authorization.
 */
import {LATEST_PROTOCOL_VERSION} from '@modelcontextprotocol/sdk/types.js';
import type {AuthHeaderMode} from '../../http/auth-header-mode.js';
import {networkCode} from '../run-action.js';
import {quoteServerText} from '../scrub-text.js';

/** Longest wait for one probe, in milliseconds. */
export const PROBE_TIMEOUT_MS = 10_000;
/** Most response bytes read from one probe. */
const MAX_BODY_BYTES = 64 * 1024;

/** What a probe saw. */
export type ProbeResult =
  | {
      reachable: true;
      status: number;
      /** `content-type` of the answer. */
      contentType: string;
      /** `location` of a redirect. */
      location?: string;
      /** `www-authenticate`, when present (scrubbed, at most 300 characters). */
      wwwAuthenticate?: string;
      /** Whether the answer looks like it came from IAP. */
      iap: boolean;
      /** The start of the body as text (scrubbed, at most 200 characters, whitespace folded). */
      bodySnippet: string;
      /** The MCP initialize result, when the answer was one. */
      mcp?: {serverName: string; serverVersion?: string; protocolVersion: string};
      /** A JSON-RPC error in the answer, when there was one (its message scrubbed, at most 200 characters). */
      rpcError?: {code: number; message: string};
    }
  | {reachable: false; error: string};

/** Sends an MCP `initialize` request to `url`, with `token` in `header` when given. */
export async function probe(
  url: URL,
  options: {token?: string; header?: AuthHeaderMode; timeoutMs?: number} = {},
): Promise<ProbeResult> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  if (options.token !== undefined)
    headers[options.header ?? 'authorization'] = `Bearer ${options.token}`;
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: {name: 'mcp-google-auth-doctor', version: '1'},
    },
  });
  const signal = AbortSignal.timeout(options.timeoutMs ?? PROBE_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, {method: 'POST', headers, body, redirect: 'manual', signal});
  } catch (error) {
    if (signal.aborted)
      return {
        reachable: false,
        error: `no answer within ${Math.round((options.timeoutMs ?? PROBE_TIMEOUT_MS) / 1000)} seconds`,
      };
    return {
      reachable: false,
      error:
        networkCode(error) ??
        quoteServerText(error instanceof Error ? error.message : String(error)),
    };
  }
  const contentType = response.headers.get('content-type') ?? '';
  let text = '';
  try {
    text = await readSome(response, signal);
  } catch {
    // A cut answer still has a status; the body is only for diagnosis.
  }
  const result: ProbeResult = {
    reachable: true,
    status: response.status,
    contentType,
    iap:
      response.headers.get('x-goog-iap-generated-response') === 'true' ||
      /\bIAP\b/.test(text.slice(0, 500)),
    bodySnippet: quoteServerText(text.slice(0, 4096), 200),
  };
  const location = response.headers.get('location');
  if (location) result.location = location;
  const www = response.headers.get('www-authenticate');
  if (www) result.wwwAuthenticate = quoteServerText(www);
  if (response.ok) {
    const message = parseJsonRpc(text, contentType);
    const init = message?.result as
      {protocolVersion?: unknown; serverInfo?: {name?: unknown; version?: unknown}} | undefined;
    if (
      init &&
      typeof init.protocolVersion === 'string' &&
      init.serverInfo &&
      typeof init.serverInfo.name === 'string'
    ) {
      result.mcp = {
        serverName: init.serverInfo.name,
        protocolVersion: init.protocolVersion,
        ...(typeof init.serverInfo.version === 'string'
          ? {serverVersion: init.serverInfo.version}
          : {}),
      };
    }
    const error = message?.error as {code?: unknown; message?: unknown} | undefined;
    if (error && typeof error.code === 'number') {
      result.rpcError = {
        code: error.code,
        message: quoteServerText(String(error.message ?? ''), 200),
      };
    }
    const session = response.headers.get('mcp-session-id');
    if (session) await endSession(url, session, headers);
  }
  return result;
}

/** Reads up to {@link MAX_BODY_BYTES}; for an event stream, stops at the first complete event. */
async function readSome(response: Response, signal: AbortSignal): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const sse = (response.headers.get('content-type') ?? '').includes('text/event-stream');
  try {
    while (text.length < MAX_BODY_BYTES && !signal.aborted) {
      const {done, value} = await reader.read();
      if (done) break;
      text += decoder.decode(value, {stream: true});
      if (sse && /\r?\n\r?\n/.test(text) && /^data:/m.test(text)) break;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text;
}

function parseJsonRpc(
  text: string,
  contentType: string,
): {result?: unknown; error?: unknown} | undefined {
  const candidates: string[] = [];
  if (contentType.includes('text/event-stream')) {
    for (const event of text.split(/\r?\n\r?\n/)) {
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data) candidates.push(data);
    }
  } else {
    candidates.push(text);
  }
  for (const candidate of candidates) {
    try {
      const value: unknown = JSON.parse(candidate);
      const message = Array.isArray(value) ? (value[0] as unknown) : value;
      if (
        message &&
        typeof message === 'object' &&
        (message as {jsonrpc?: unknown}).jsonrpc === '2.0'
      ) {
        return message as {result?: unknown; error?: unknown};
      }
    } catch {
      // not JSON; try the next event
    }
  }
  return undefined;
}

async function endSession(
  url: URL,
  session: string,
  headers: Record<string, string>,
): Promise<void> {
  const {['content-type']: _omit, ...rest} = headers;
  try {
    const response = await fetch(url, {
      method: 'DELETE',
      headers: {...rest, 'mcp-session-id': session},
      redirect: 'manual',
      signal: AbortSignal.timeout(2_000),
    });
    await response.body?.cancel();
  } catch {
    // Best effort: the server forgets idle sessions on its own.
  }
}
