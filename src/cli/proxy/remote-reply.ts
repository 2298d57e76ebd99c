import type {IncomingHttpHeaders} from 'node:http';
import {Readable} from 'node:stream';
import type {ReadableStream as NodeWebReadableStream} from 'node:stream/web';
import {takeNodeResponse} from './node-http-fetch.js';

/** A remote answer as the proxy forwards it: status, raw headers and the body as bytes. */
export interface RemoteReply {
  /** The HTTP status. */
  readonly status: number;
  /** The headers, names in lower case (as node:http gives them). */
  readonly headers: IncomingHttpHeaders;
  /** The body, or `undefined` when there is none. */
  readonly body: Readable | undefined;
  /** The Response it came from (for `explainAuthFailure`). */
  readonly response: Response;
}

/**
 * The bytes of `response` as a node stream. A Response from `nodeHttpFetch` (also through
 * `googleAuthFetch`, which returns it unchanged) gives its node:http message directly, with
 * no WHATWG stream in between; any other is adapted.
 */
export function remoteReply(response: Response): RemoteReply {
  const message = takeNodeResponse(response);
  if (message !== undefined) {
    return {status: response.status, headers: message.headers, body: message, response};
  }
  const headers: IncomingHttpHeaders = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const setCookie = response.headers.getSetCookie();
  if (setCookie.length > 0) headers['set-cookie'] = setCookie;
  return {
    status: response.status,
    headers,
    body:
      response.body === null
        ? undefined
        : Readable.fromWeb(response.body as unknown as NodeWebReadableStream<Uint8Array>),
    response,
  };
}

/** The first value of a response header. */
export function replyHeader(reply: RemoteReply, name: string): string | undefined {
  const value = reply.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Whether the reply is an event stream. */
export function isEventStream(reply: RemoteReply): boolean {
  return /^\s*text\/event-stream\b/i.test(replyHeader(reply, 'content-type') ?? '');
}

/** Throws the body away (closing the stream, so the connection is not held). */
export function discardReply(reply: RemoteReply): void {
  reply.body?.destroy();
}

/**
 * Reads at most `limit` bytes of the body as text; what is beyond is dropped (and the stream
 * closed). For error pages and small answers only.
 */
export async function readReplyText(reply: RemoteReply, limit: number): Promise<string> {
  const body = reply.body;
  if (body === undefined) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      if (size + buffer.length > limit) {
        chunks.push(buffer.subarray(0, limit - size));
        size = limit;
        break;
      }
      chunks.push(buffer);
      size += buffer.length;
    }
  } catch {
    // A body that breaks off is read as far as it came.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
