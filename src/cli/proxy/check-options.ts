import {MAX_TIMER_MS} from '../../util/idle-timer.js';

/**
 * Checks a timeout option: a number of milliseconds from 1 to 2147483647 (the longest Node.js
 * timer); `fallback` when not given. Throws a TypeError naming `options.<name>`.
 */
export function checkMs(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new TypeError(
      `options.${name} must be a number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${String(value)}`,
    );
  }
  return value;
}
