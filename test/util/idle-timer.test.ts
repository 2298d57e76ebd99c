/**
 * IdleTimer with the global timers (the proxy's and the demo server's default): the countdown
 * restarts with `refresh()` rather than a new timer per request. Driven by vitest's fake
 * clock; nothing sleeps.
 */
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';
import {IdleTimer} from '../../src/util/idle-timer.js';

describe('IdleTimer (global timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires once, a full timeout after the last activity ended', () => {
    const onIdle = vi.fn();
    const idle = new IdleTimer(1_000, onIdle);
    idle.enter();
    idle.leave();
    vi.advanceTimersByTime(900);
    idle.enter();
    idle.leave();
    vi.advanceTimersByTime(900);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(100);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('never fires while something is active, however long, and counts from when it ends', () => {
    const onIdle = vi.fn();
    const idle = new IdleTimer(1_000, onIdle);
    idle.enter();
    idle.leave();
    idle.enter(); // a stream opens and stays open past the timeout
    vi.advanceTimersByTime(5_000);
    expect(onIdle).not.toHaveBeenCalled();
    idle.leave();
    vi.advanceTimersByTime(999);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('does nothing after dispose, and never with a timeout of 0', () => {
    const onIdle = vi.fn();
    const disposed = new IdleTimer(1_000, onIdle);
    disposed.enter();
    disposed.leave();
    disposed.dispose();
    const never = new IdleTimer(0, onIdle);
    never.enter();
    never.leave();
    vi.advanceTimersByTime(60_000);
    expect(onIdle).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
