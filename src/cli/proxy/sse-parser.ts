import {StringDecoder} from 'node:string_decoder';

/** One server-sent event, as the proxy needs it. */
export interface SseEvent {
  /** The `event:` field; `message` when the event named none. */
  readonly event: string;
  /** The `data:` lines, joined with `\n`. */
  readonly data: string;
  /** The `id:` field, when the event had one (the stream is then resumable). */
  readonly id: string | undefined;
}

/**
 * An incremental parser of a `text/event-stream` body (the WHATWG rules the proxy needs:
 * `\n`, `\r\n` and `\r` line ends, `data`, `event` and `id` fields, comments ignored). Feed it
 * chunks as they arrive; it calls `onEvent` for every complete event that carries data.
 * It only frames events; it never parses their JSON.
 *
 * @example
 * const parser = new SseParser((event) => console.log(event.data));
 * parser.feed(chunk);
 */
export class SseParser {
  readonly #onEvent: (event: SseEvent) => void;
  #decoder: StringDecoder | undefined;
  #pending = '';
  #data: string[] = [];
  #event = '';
  #id: string | undefined;
  #lastEventId: string | undefined;
  #skipLeadingNewline = false;

  /** @param onEvent - Called for every event with data, in order. */
  constructor(onEvent: (event: SseEvent) => void) {
    this.#onEvent = onEvent;
  }

  /** The last `id:` the stream gave (what `Last-Event-ID` resumes from), if any. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** Parses the next chunk of the stream. */
  feed(chunk: Uint8Array | string): void {
    let text: string;
    if (typeof chunk === 'string') {
      text = chunk;
    } else {
      this.#decoder ??= new StringDecoder('utf8');
      text = this.#decoder.write(chunk as Buffer);
    }
    if (this.#skipLeadingNewline && text.length > 0) {
      // A `\r` ended the previous chunk; a `\n` right after it belongs to the same line end.
      if (text.charCodeAt(0) === 10) text = text.slice(1);
      this.#skipLeadingNewline = false;
    }
    let buffer = this.#pending + text;
    let start = 0;
    for (;;) {
      const lf = buffer.indexOf('\n', start);
      const cr = buffer.indexOf('\r', start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 === buffer.length) {
          next = cr + 1;
          this.#skipLeadingNewline = true;
        } else {
          next = buffer.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
        }
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      this.#line(buffer.slice(start, end));
      start = next;
    }
    buffer = buffer.slice(start);
    this.#pending = buffer;
  }

  /** The stream ended: an event not yet closed by a blank line is dropped, as the spec says. */
  end(): void {
    this.#pending = '';
    this.#data = [];
    this.#event = '';
    this.#id = undefined;
  }

  #line(line: string): void {
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.#data.push(value);
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\u0000')) {
          this.#id = value;
          this.#lastEventId = value;
        }
        break;
      default:
        break;
    }
  }

  #dispatch(): void {
    const data = this.#data;
    const event = this.#event || 'message';
    const id = this.#id;
    this.#data = [];
    this.#event = '';
    this.#id = undefined;
    if (data.length === 0) return;
    this.#onEvent({event, data: data.length === 1 ? (data[0] as string) : data.join('\n'), id});
  }
}
