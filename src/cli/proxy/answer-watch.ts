import {answeredIds, isBatch, requestsIn} from './json-rpc.js';
import type {JsonRpcId, RequestRef} from './json-rpc.js';
import {SseParser} from './sse-parser.js';

/** Largest event kept to be read at the end of the stream, in bytes (1 MiB). */
const MAX_KEPT_EVENT_BYTES = 1024 * 1024;

/**
 * Watches the event stream that answers one POST, to tell whether it delivered the answers
 * the POST asked for. The stream passes through untouched and nothing is read while it flows:
 * the watch only keeps the chunks of the last event that carried data (a chunk that ends with
 * a blank line closes an event) and notes whether any event had an `id:`. When the stream
 * ends, that last event is parsed: a response closes the stream of a single request. A batch
 * (rare) is followed event by event. A stream whose events carry ids is resumable: the client
 * may ask for the rest with `Last-Event-ID`, so its end is not taken as final.
 */
export class AnswerWatch {
  readonly #body: Uint8Array;
  /** For a batch only: every event is read, and the answers seen are kept. */
  readonly #batch: {parser: SseParser; answered: Set<JsonRpcId>} | undefined;
  /** Chunks since the last event boundary. */
  #open: Buffer[] = [];
  #openBytes = 0;
  /** Chunks of the last closed group of events that carried data. */
  #last: Buffer[] = [];
  #resumable = false;
  /** Too large to keep: whether it answered cannot be told (no error is made up then). */
  #unknown = false;

  /** @param body - The POST body whose requests the stream answers. */
  constructor(body: Uint8Array) {
    this.#body = body;
    if (isBatch(body)) {
      const answered = new Set<JsonRpcId>();
      const parser = new SseParser((event) => {
        if (event.id !== undefined) this.#resumable = true;
        if (event.event === 'message') for (const id of answeredIds(event.data)) answered.add(id);
      });
      this.#batch = {parser, answered};
    }
  }

  /** The next bytes of the stream. */
  feed(chunk: Buffer): void {
    if (this.#batch !== undefined) {
      this.#batch.parser.feed(chunk);
      return;
    }
    if (!this.#resumable && hasIdField(chunk)) this.#resumable = true;
    if (this.#unknown) return;
    this.#open.push(chunk);
    this.#openBytes += chunk.length;
    if (this.#openBytes > MAX_KEPT_EVENT_BYTES) {
      this.#unknown = true;
      this.#open = [];
      this.#last = [];
      return;
    }
    if (endsEvent(chunk)) {
      if (this.#open.some((part) => part.indexOf(DATA) !== -1)) this.#last = this.#open;
      this.#open = [];
      this.#openBytes = 0;
    }
  }

  /** Whether events carried ids (the client can resume the stream). */
  get resumable(): boolean {
    return this.#resumable;
  }

  /** The requests of the POST that the stream ended without answering. */
  unanswered(): RequestRef[] {
    const batch = this.#batch;
    if (batch !== undefined) {
      batch.parser.end();
      return requestsIn(this.#body).filter((request) => !batch.answered.has(request.id));
    }
    if (this.#unknown) return [];
    let last: string | undefined;
    const parser = new SseParser((event) => {
      if (event.event === 'message') last = event.data;
    });
    // The last closed event, then whatever followed it (its blank line may have come alone),
    // decoded at once (a character may be split across chunks).
    const kept = [...this.#last, ...this.#open];
    parser.feed(
      kept.length === 1
        ? (kept[0] as Buffer).toString('utf8')
        : Buffer.concat(kept).toString('utf8'),
    );
    parser.end();
    if (last !== undefined && answeredIds(last).length > 0) return [];
    return requestsIn(this.#body);
  }
}

const DATA = Buffer.from('data:');
const NEWLINE_ID = Buffer.from('\nid:');
const RETURN_ID = Buffer.from('\rid:');

/** Whether a chunk ends with the blank line that closes an event (`\n\n`, `\r\n\r\n`, `\r\r`). */
function endsEvent(chunk: Buffer): boolean {
  const n = chunk.length;
  if (n < 2) return false;
  const last = chunk[n - 1];
  const before = chunk[n - 2];
  return (
    (last === 10 && (before === 10 || (n >= 4 && before === 13 && chunk[n - 3] === 10))) ||
    (last === 13 && before === 13)
  );
}

/** Whether a chunk has an `id:` field line (not `"id":` inside JSON data). */
function hasIdField(chunk: Buffer): boolean {
  return (
    chunk.indexOf(NEWLINE_ID) !== -1 ||
    chunk.indexOf(RETURN_ID) !== -1 ||
    (chunk[0] === 0x69 && chunk[1] === 0x64 && chunk[2] === 0x3a)
  );
}
