/**
 * The little the proxy reads of JSON-RPC, where it must answer (or decide) itself: which
 * requests a body carried, whether an event answered one, whether a message is
 * `initialize`. Everything else passes as bytes, never parsed.
 */

/** A JSON-RPC request id. */
export type JsonRpcId = string | number;

/** A request of the client, as far as the proxy needs it. */
export interface RequestRef {
  readonly id: JsonRpcId;
  readonly method: string;
}

/** JSON-RPC error codes the proxy answers malformed input with. */
export const PARSE_ERROR = -32700;
/** The message is JSON but not a valid JSON-RPC 2.0 message. */
export const INVALID_REQUEST = -32600;

/** Whether `value` can be a JSON-RPC id (a string or a number, never null here). */
export function isId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** What {@link parseJson} returns for text that is not JSON. */
export const NOT_JSON = Symbol('not JSON');

/** Parses JSON text or UTF-8 bytes; {@link NOT_JSON} when it is not JSON. */
export function parseJson(text: string | Uint8Array): unknown {
  try {
    return JSON.parse(
      typeof text === 'string'
        ? text
        : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8'),
    );
  } catch {
    return NOT_JSON;
  }
}

function parse(text: string | Uint8Array): unknown {
  const value = parseJson(text);
  return value === NOT_JSON ? undefined : value;
}

function messagesOf(parsed: unknown): unknown[] {
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** The requests (method and id) in a POST body: one message or a batch. */
export function requestsIn(body: string | Uint8Array): RequestRef[] {
  return requestsOf(parse(body));
}

/** The requests (method and id) in parsed JSON: one message or a batch. */
export function requestsOf(parsed: unknown): RequestRef[] {
  const out: RequestRef[] = [];
  for (const message of messagesOf(parsed)) {
    if (message === null || typeof message !== 'object') continue;
    const {id, method} = message as {id?: unknown; method?: unknown};
    if (typeof method === 'string' && isId(id)) out.push({id, method});
  }
  return out;
}

/** Whether a POST body carries an `initialize` request. */
export function carriesInitialize(body: string | Uint8Array): boolean {
  return requestsIn(body).some((request) => request.method === 'initialize');
}

/** Whether a body is a JSON-RPC batch (starts with `[`), without parsing it. */
export function isBatch(body: Uint8Array): boolean {
  for (const byte of body) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === 0x5b;
  }
  return false;
}

/** Whether a body is the `notifications/initialized` notification. */
export function isInitializedNotification(body: Uint8Array): boolean {
  if (
    !Buffer.from(body.buffer, body.byteOffset, body.byteLength).includes(
      'notifications/initialized',
    )
  ) {
    return false;
  }
  const message = parse(body);
  return (
    message !== null &&
    typeof message === 'object' &&
    !Array.isArray(message) &&
    (message as {method?: unknown}).method === 'notifications/initialized'
  );
}

/** The answers (responses: a `result` or an `error`) in an event's data, by id. */
export function answeredIds(data: string): JsonRpcId[] {
  const out: JsonRpcId[] = [];
  for (const message of messagesOf(parse(data))) {
    if (message === null || typeof message !== 'object') continue;
    const m = message as {id?: unknown; result?: unknown; error?: unknown; method?: unknown};
    if (m.method === undefined && isId(m.id) && ('result' in m || 'error' in m)) out.push(m.id);
  }
  return out;
}

/** The `result.protocolVersion` of an `initialize` answer, if the data is one. */
export function negotiatedVersion(data: string): string | undefined {
  const message = parse(data) as {result?: {protocolVersion?: unknown}} | undefined;
  const version = message?.result?.protocolVersion;
  return typeof version === 'string' ? version : undefined;
}

/** A JSON-RPC error object without a request (`id: null` unless given). */
export function errorAnswer(
  code: number,
  message: string,
  id: JsonRpcId | null = null,
): {jsonrpc: '2.0'; id: JsonRpcId | null; error: {code: number; message: string}} {
  return {jsonrpc: '2.0', id, error: {code, message}};
}
