import type {ServerResponse} from 'node:http';
import type {Readable} from 'node:stream';

/** How a {@link pumpReply} ended. */
export type PumpEnd = 'ended' | 'broken' | 'client_gone';

/** Options of {@link pumpReply}. */
export interface PumpOptions {
  /** Sees each chunk before it is written. */
  onChunk?: ((chunk: Buffer) => void) | undefined;
  /**
   * Called once, synchronously, when the body ended or broke off (not when the client left):
   * may write more, and must end (or destroy) the response.
   */
  finish(how: 'ended' | 'broken'): void;
}

/**
 * How long the status line and headers may wait for the first chunk, in milliseconds: then
 * they go out on their own (an event stream that waits for a slow tool), so the client is not
 * left without an answer. Before that they leave with the first chunk, in one write.
 */
const HEADER_DELAY_MS = 20;

/**
 * Responses whose headers wait for their first chunk, with when they started waiting (in
 * that order), and the one timer for all of them: a timer per response would cost more than
 * the rest of the pump.
 */
const waitingHeaders = new Map<ServerResponse, number>();
let headerTimer: NodeJS.Timeout | undefined;

function flushWaitingHeaders(): void {
  headerTimer = undefined;
  const now = performance.now();
  for (const [res, since] of waitingHeaders) {
    if (since + HEADER_DELAY_MS > now) {
      armHeaderTimer(since + HEADER_DELAY_MS - now);
      return;
    }
    waitingHeaders.delete(res);
    if (!res.destroyed) res.flushHeaders();
  }
}

function armHeaderTimer(ms: number): void {
  headerTimer = setTimeout(flushWaitingHeaders, Math.max(1, Math.ceil(ms)));
  headerTimer.unref();
}

function waitForFirstChunk(res: ServerResponse): void {
  waitingHeaders.set(res, performance.now());
  if (headerTimer === undefined) armHeaderTimer(HEADER_DELAY_MS);
}

/**
 * Copies `body` to `res` chunk by chunk as it arrives (an event stream flows event by event),
 * with backpressure. Writes that fall in the same turn of the event loop (headers, a chunk,
 * the end of the body) leave in one system call: the response is corked until the turn is
 * over. Resolves once the body ended, broke off, or the local client went away (the body is
 * then destroyed).
 */
export function pumpReply(
  body: Readable,
  res: ServerResponse,
  options: PumpOptions,
): Promise<PumpEnd> {
  return new Promise<PumpEnd>((resolve) => {
    let settled = false;
    let corked = false;
    let waiting = true;
    waitForFirstChunk(res);
    const uncork = (): void => {
      corked = false;
      // end() uncorks fully by itself; the socket may already serve the next response.
      if (!res.writableEnded) res.uncork();
    };
    const cork = (): void => {
      if (corked) return;
      corked = true;
      res.cork();
      process.nextTick(uncork);
    };
    const settle = (how: PumpEnd): void => {
      if (settled) return;
      settled = true;
      if (waiting) waitingHeaders.delete(res);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onBroken);
      body.off('close', onBroken);
      res.off('close', onClientGone);
      res.off('drain', onDrain);
      if (how === 'client_gone') body.destroy();
      else {
        cork();
        options.finish(how);
      }
      resolve(how);
    };
    const onData = (chunk: Buffer): void => {
      if (waiting) {
        waiting = false;
        waitingHeaders.delete(res);
      }
      options.onChunk?.(chunk);
      cork();
      if (!res.write(chunk)) {
        body.pause();
        res.once('drain', onDrain);
      }
    };
    const onDrain = (): void => {
      body.resume();
    };
    const onEnd = (): void => settle('ended');
    const onBroken = (): void => settle('broken');
    const onClientGone = (): void => settle('client_gone');
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onBroken);
    body.once('close', onBroken);
    res.once('close', onClientGone);
    // The client may have left while the remote was answering.
    if (res.destroyed) settle('client_gone');
  });
}
