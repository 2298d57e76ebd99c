import {INVALID_REQUEST, PARSE_ERROR, errorAnswer, isId} from './json-rpc.js';
import type {JsonRpcId} from './json-rpc.js';

/** One line of the stdio client, classified. `bytes` is the line as it came (what is forwarded). */
export type StdioMessage =
  | {
      readonly kind: 'request';
      readonly id: JsonRpcId;
      readonly method: string;
      readonly bytes: Uint8Array;
      readonly params: unknown;
    }
  | {
      readonly kind: 'notification';
      readonly method: string;
      readonly bytes: Uint8Array;
      readonly params: unknown;
    }
  | {readonly kind: 'response'; readonly id: JsonRpcId; readonly bytes: Uint8Array}
  /** Not a JSON-RPC 2.0 message: `answer` is the error to write back. */
  | {readonly kind: 'invalid'; readonly answer: ReturnType<typeof errorAnswer>};

/**
 * Classifies one line of newline-delimited JSON-RPC from a stdio client. Every line is parsed
 * once (a client that sent something malformed must be told, or it waits forever), and only
 * its shape is checked; the bytes go on unchanged. Answers for malformed input: `-32700`
 * (not JSON, `id: null`), `-32600` (a batch, which MCP over stdio does not take; a value that
 * is not an object; no `"jsonrpc": "2.0"`; a bad `method` or `id`), with the message's id
 * when it had a usable one, else `null`.
 */
export function classifyLine(bytes: Uint8Array): StdioMessage {
  let value: unknown;
  try {
    value = JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
    );
  } catch {
    return invalid(PARSE_ERROR, 'Parse error: the line is not JSON.');
  }
  if (Array.isArray(value)) {
    return invalid(
      INVALID_REQUEST,
      'Invalid Request: batches are not supported on stdio; send one JSON-RPC message per line.',
    );
  }
  if (value === null || typeof value !== 'object') {
    return invalid(INVALID_REQUEST, 'Invalid Request: a JSON-RPC message must be a JSON object.');
  }
  const message = value as {
    jsonrpc?: unknown;
    id?: unknown;
    method?: unknown;
    params?: unknown;
    result?: unknown;
    error?: unknown;
  };
  const id = isId(message.id) ? message.id : null;
  if (message.jsonrpc !== '2.0') {
    return invalid(INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0".', id);
  }
  if ('method' in message) {
    if (typeof message.method !== 'string' || message.method === '') {
      return invalid(INVALID_REQUEST, 'Invalid Request: "method" must be a non-empty string.', id);
    }
    if (!('id' in message)) {
      return {kind: 'notification', method: message.method, bytes, params: message.params};
    }
    if (id === null) {
      return invalid(INVALID_REQUEST, 'Invalid Request: "id" must be a string or a number.');
    }
    return {kind: 'request', id, method: message.method, bytes, params: message.params};
  }
  if (id !== null && 'result' in message !== 'error' in message) {
    return {kind: 'response', id, bytes};
  }
  return invalid(
    INVALID_REQUEST,
    'Invalid Request: a message needs a "method" (request or notification), or an "id" with either "result" or "error" (response).',
    id,
  );
}

function invalid(code: number, message: string, id: JsonRpcId | null = null): StdioMessage {
  return {kind: 'invalid', answer: errorAnswer(code, message, id)};
}

/**
 * Splits a byte stream into lines (`\n`, with an optional `\r` before it), at most
 * `maxLineBytes` each. A longer line is dropped up to its end and reported with
 * `onOversized`; empty lines are skipped.
 */
export class LineSplitter {
  readonly #onLine: (line: Uint8Array) => void;
  readonly #onOversized: () => void;
  readonly #max: number;
  #parts: Buffer[] = [];
  #size = 0;
  #skipping = false;

  constructor(maxLineBytes: number, onLine: (line: Uint8Array) => void, onOversized: () => void) {
    this.#max = maxLineBytes;
    this.#onLine = onLine;
    this.#onOversized = onOversized;
  }

  /** The next bytes of the stream. */
  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      if (newline === -1) {
        this.#keep(chunk.subarray(start));
        return;
      }
      this.#keep(chunk.subarray(start, newline));
      start = newline + 1;
      this.#flush();
    }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    this.#flush();
  }

  #keep(part: Buffer): void {
    if (part.length === 0 || this.#skipping) return;
    if (this.#size + part.length > this.#max) {
      this.#skipping = true;
      this.#parts = [];
      this.#size = 0;
      this.#onOversized();
      return;
    }
    this.#parts.push(part);
    this.#size += part.length;
  }

  #flush(): void {
    const parts = this.#parts;
    const size = this.#size;
    this.#parts = [];
    this.#size = 0;
    if (this.#skipping) {
      this.#skipping = false;
      return;
    }
    if (size === 0) return;
    let line = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
    if (line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
    for (const byte of line) {
      if (byte !== 0x20 && byte !== 0x09) {
        this.#onLine(line);
        return;
      }
    }
  }
}
