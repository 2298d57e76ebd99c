import type {FetchLike} from '../../tokens/google-routing.js';
import {remoteReply} from './remote-reply.js';
import type {RemoteReply} from './remote-reply.js';

/** Headers of a JSON-RPC POST the proxy makes itself (a replay, or a line from stdio). */
export const JSON_RPC_POST_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
});

/**
 * The remote MCP endpoint and the fetch that reaches it (normally `googleAuthFetch` over
 * `nodeHttpFetch`: it adds the credential header, retries a 401 once with a fresh token,
 * and remembers what a 401/403 was answering).
 */
export class RemoteEndpoint {
  /** The remote MCP endpoint. */
  readonly url: URL;
  readonly #href: string;
  readonly #fetch: FetchLike;

  constructor(url: URL, fetch: FetchLike) {
    this.url = url;
    this.#href = url.href;
    this.#fetch = fetch;
  }

  /** Sends one HTTP request to the endpoint; rejects only when no answer came (network, token, abort). */
  async send(
    method: string,
    headers: Record<string, string>,
    body?: Uint8Array,
    signal?: AbortSignal,
  ): Promise<RemoteReply> {
    const response = await this.#fetch(this.#href, {
      method,
      headers,
      ...(body !== undefined ? {body} : {}),
      ...(signal !== undefined ? {signal} : {}),
      redirect: 'manual',
    });
    return remoteReply(response);
  }
}
