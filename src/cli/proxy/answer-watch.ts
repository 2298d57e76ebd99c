import {answeredIds, isBatch, requestsIn} from './json-rpc.js';
import type {JsonRpcId, RequestRef} from './json-rpc.js';
import {SseParser} from './sse-parser.js';

/**
 * Watches the event stream that answers one POST, to tell whether it delivered the answers
 * the POST asked for. The stream passes through untouched; the watch frames its events and
 * keeps the last one. Only when the stream ends is anything parsed: that last event (a
 * response closes the stream of a single request), or, for a batch, every event as it goes.
 * A stream whose events carry ids is resumable: the client may ask for the rest with
 * `Last-Event-ID`, so its end is not taken as final.
 */
export class AnswerWatch {
  readonly #body: Uint8Array;
  readonly #parser: SseParser;
  readonly #answered: Set<JsonRpcId> | undefined;
  #last: string | undefined;
  #resumable = false;

  /** @param body - The POST body whose requests the stream answers. */
  constructor(body: Uint8Array) {
    this.#body = body;
    const answered = isBatch(body) ? new Set<JsonRpcId>() : undefined;
    this.#answered = answered;
    this.#parser = new SseParser((event) => {
      if (event.id !== undefined) this.#resumable = true;
      if (event.event !== 'message') return;
      if (answered) for (const id of answeredIds(event.data)) answered.add(id);
      else this.#last = event.data;
    });
  }

  /** The next bytes of the stream. */
  feed(chunk: Uint8Array): void {
    this.#parser.feed(chunk);
  }

  /** Whether events carried ids (the client can resume the stream). */
  get resumable(): boolean {
    return this.#resumable;
  }

  /** The requests of the POST that the stream ended without answering. */
  unanswered(): RequestRef[] {
    this.#parser.end();
    if (this.#answered === undefined) {
      if (this.#last !== undefined && answeredIds(this.#last).length > 0) return [];
      return requestsIn(this.#body);
    }
    const answered = this.#answered;
    return requestsIn(this.#body).filter((request) => !answered.has(request.id));
  }
}
