/**
 * Fake time for the retry policy: `now` and `sleep` that only move when the test says so.
 * `settle(promise)` lets pending work run, then jumps to the next timer, until the promise
 * settles. No real time passes.
 */
interface Timer {
  at: number;
  resolve: () => void;
}

export class FakeTime {
  /** Milliseconds since the start. */
  t = 0;
  /** Every sleep requested, in ms, in order (backoff waits and attempt timeouts alike). */
  readonly sleeps: number[] = [];
  #timers: Timer[] = [];

  readonly now = (): number => this.t;

  readonly sleep = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      this.sleeps.push(ms);
      if (signal.aborted) return reject(signal.reason as Error);
      const timer: Timer = {at: this.t + ms, resolve};
      this.#timers.push(timer);
      signal.addEventListener(
        'abort',
        () => {
          this.#timers = this.#timers.filter((other) => other !== timer);
          reject(signal.reason as Error);
        },
        {once: true},
      );
    });

  /** Runs pending work and timers (in time order) until `promise` settles. */
  async settle<T>(promise: Promise<T>): Promise<T> {
    let done = false;
    promise.then(
      () => (done = true),
      () => (done = true),
    );
    for (let step = 0; step < 10_000; step++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (done) return promise;
      const next = this.#timers.sort((a, b) => a.at - b.at).shift();
      if (!next) throw new Error('FakeTime: nothing is pending and the promise has not settled');
      this.t = Math.max(this.t, next.at);
      next.resolve();
    }
    throw new Error('FakeTime: too many steps');
  }
}
