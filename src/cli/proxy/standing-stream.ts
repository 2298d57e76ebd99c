import type {ProxyLogger} from './proxy-logger.js';
import type {RemoteEndpoint} from './remote-endpoint.js';
import {discardReply, isEventStream} from './remote-reply.js';
import type {RemoteReply} from './remote-reply.js';
import type {RemoteSession} from './remote-session.js';
import {SseParser} from './sse-parser.js';

/** Longest wait for the standing stream's first answer, in milliseconds. */
const FIRST_ANSWER_WAIT_MS = 3_000;
/** How the stream is reopened after it ended or failed: first delay, growth, cap, failures in a row. */
const RECONNECT = {initialMs: 1_000, factor: 1.5, maxMs: 30_000, maxFailures: 6};

/** Options of {@link openStandingStream}. */
export interface StandingStreamOptions {
  /** Where the session lives. */
  endpoint: RemoteEndpoint;
  /** The session whose stream it is; the stream ends for good once its id changes. */
  session: RemoteSession;
  /** Every `message` event's data, in order. */
  onMessage(data: string): void;
  /** Ends the stream (the proxy closing). */
  signal: AbortSignal;
  /** Where giving up is reported. */
  logger: ProxyLogger;
}

/** A running {@link openStandingStream}. */
export interface StandingStream {
  /** Resolves once the first GET was answered (open, refused or failed), at most after 3 s. */
  readonly opened: Promise<void>;
  /** Stops it for good. */
  stop(): void;
}

/** The headers of a GET for a session's event stream (`lastEventId` resumes one). */
export function eventStreamHeaders(
  session: RemoteSession,
  lastEventId?: string,
): Record<string, string> {
  return {
    accept: 'text/event-stream',
    ...(session.id !== undefined ? {'mcp-session-id': session.id} : {}),
    ...(session.protocolVersion !== undefined
      ? {'mcp-protocol-version': session.protocolVersion}
      : {}),
    ...(lastEventId !== undefined ? {'last-event-id': lastEventId} : {}),
  };
}

/**
 * The standing GET stream of a stdio proxy's session: where a Streamable HTTP server sends
 * what answers no request (server-to-client requests, list changes, logs). Opened after
 * `notifications/initialized`, and reopened after it ends (Cloud Run ends every request at
 * the service's timeout) with growing delays (1 s, x1.5, up to 30 s), resuming with
 * `Last-Event-ID` when the server gave ids, until it fails six times in a row, the server has
 * none (405), or the session is lost (404: the stream does not re-establish a session, only a
 * request of the client does, and that opens a new stream).
 */
export function openStandingStream(options: StandingStreamOptions): StandingStream {
  const {endpoint, session, onMessage, logger} = options;
  const id = session.id;
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal, options.signal]);
  const live = (): boolean => !signal.aborted && session.id === id;
  let answered = (): void => undefined;
  const opened = new Promise<void>((resolve) => {
    answered = resolve;
    void sleep(FIRST_ANSWER_WAIT_MS, signal).then(resolve);
  });
  void (async () => {
    let failures = 0;
    let delay = RECONNECT.initialMs;
    let lastEventId: string | undefined;
    while (live()) {
      let reply: RemoteReply | undefined;
      try {
        reply = await endpoint.send(
          'GET',
          eventStreamHeaders(session, lastEventId),
          undefined,
          signal,
        );
      } catch {
        reply = undefined;
      }
      answered();
      if (!live() || reply?.status === 405 || reply?.status === 404) {
        if (reply) discardReply(reply);
        return;
      }
      if (reply?.status === 200 && isEventStream(reply)) {
        failures = 0;
        delay = RECONNECT.initialMs;
        const parser = new SseParser((event) => {
          if (event.id !== undefined) lastEventId = event.id;
          if (event.event === 'message') onMessage(event.data);
        });
        try {
          for await (const chunk of reply.body ?? []) parser.feed(chunk as Buffer);
        } catch {
          // Ended by the server, the network, or stop(): reopened below while live.
        }
      } else {
        if (reply) discardReply(reply);
        failures++;
        if (failures >= RECONNECT.maxFailures) {
          logger.warn(
            `The remote's event stream (for messages that answer no request) failed ${failures} times in a row; the proxy stops reopening it.`,
          );
          return;
        }
      }
      if (!live()) return;
      await sleep(delay, signal);
      delay = Math.min(delay * RECONNECT.factor, RECONNECT.maxMs);
    }
  })();
  return {opened, stop: () => controller.abort()};
}

/** Waits `ms`, or until `signal` aborts (the timer and the listener go either way). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, {once: true});
  });
}
