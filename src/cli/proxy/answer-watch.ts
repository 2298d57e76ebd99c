import {answeredIds, isBatch, requestsIn} from './json-rpc.js';
import type {JsonRpcId, RequestRef} from './json-rpc.js';
import {SseParser} from './sse-parser.js';

/**
 * Watches the event stream that answers one POST, to tell when it has delivered the answers
 * the POST asked for, and whether it ended without them. The stream passes through
 * untouched; the watch frames its events and reads each message event's JSON only to see
 * whether it is an answer (one parse per event; the request body is parsed only for a batch,
 * or when an answer is missing). A stream whose events carry ids is resumable: the client may
 * ask for the rest with `Last-Event-ID`, so its end is not taken as final.
 */
export class AnswerWatch {
  readonly #body: Uint8Array;
  readonly #parser: SseParser;
  /** For a batch, the ids still owed; for a single request, undefined. */
  readonly #owed: Set<JsonRpcId> | undefined;
  #complete = false;
  #resumable = false;

  /** @param body - The POST body whose requests the stream answers. */
  constructor(body: Uint8Array) {
    this.#body = body;
    const owed = isBatch(body) ? new Set(requestsIn(body).map((request) => request.id)) : undefined;
    this.#owed = owed;
    this.#parser = new SseParser((event) => {
      if (event.id !== undefined) this.#resumable = true;
      if (event.event !== 'message' || this.#complete) return;
      const ids = answeredIds(event.data);
      if (owed === undefined) {
        if (ids.length > 0) this.#complete = true;
        return;
      }
      for (const id of ids) owed.delete(id);
      if (owed.size === 0) this.#complete = true;
    });
  }

  /** The next bytes of the stream. */
  feed(chunk: Uint8Array): void {
    this.#parser.feed(chunk);
  }

  /** Whether every answer the POST asked for went by (the server should end the stream now). */
  get complete(): boolean {
    return this.#complete;
  }

  /** Whether events carried ids (the client can resume the stream). */
  get resumable(): boolean {
    return this.#resumable;
  }

  /** The requests of the POST that the stream ended without answering. */
  unanswered(): RequestRef[] {
    this.#parser.end();
    if (this.#complete) return [];
    const owed = this.#owed;
    const requests = requestsIn(this.#body);
    return owed === undefined ? requests : requests.filter((request) => owed.has(request.id));
  }
}
