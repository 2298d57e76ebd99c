/**
 * Small text helpers for human output: durations in words, the pass/fail marks, JSON.
 */
import {colorEnabled} from './logger.js';

/**
 * A duration in words, rounded to the two largest units: `45 seconds`, `59 minutes`,
 * `1 hour 2 minutes`, `3 days`.
 *
 * @param ms - Milliseconds; the sign is ignored.
 */
export function humanDuration(ms: number): string {
  let seconds = Math.round(Math.abs(ms) / 1000);
  const units: [string, number][] = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
    ['second', 1],
  ];
  const parts: string[] = [];
  for (const [name, size] of units) {
    const count = Math.floor(seconds / size);
    if (count > 0 || (name === 'second' && parts.length === 0)) {
      parts.push(`${count} ${name}${count === 1 ? '' : 's'}`);
      seconds -= count * size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/**
 * When `atMs` is, relative to `nowMs`, in words: `in 59 minutes (2026-01-02T03:04:05Z)` or
 * `3 minutes ago (2026-...)`.
 */
export function humanExpiry(atMs: number, nowMs: number = Date.now()): string {
  const iso = new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const delta = atMs - nowMs;
  return delta >= 0
    ? `in ${humanDuration(delta)} (${iso})`
    : `${humanDuration(delta)} ago (${iso})`;
}

/** The marks used for step results on a stream: Unicode and colour on a terminal, ASCII otherwise. */
export interface Marks {
  ok: string;
  fail: string;
  warn: string;
  info: string;
  skip: string;
  /** A failure that was the point of the step (the demo's deliberate 401): not a `fail`. */
  expected: string;
}

/** Marks for `stream` (stdout by default), honouring `NO_COLOR`. */
export function marksFor(
  stream: {isTTY?: boolean} = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): Marks {
  if (!stream.isTTY)
    return {
      ok: '[ok]',
      fail: '[FAIL]',
      warn: '[warn]',
      info: '[info]',
      skip: '[skip]',
      expected: '[expected failure]',
    };
  const color = colorEnabled(stream, env);
  const paint = (code: string, text: string): string =>
    color ? `\u001b[${code}m${text}\u001b[0m` : text;
  return {
    ok: paint('32', '✔'),
    fail: paint('31', '✘'),
    warn: paint('33', '!'),
    info: paint('36', 'i'),
    skip: paint('2', '-'),
    expected: paint('33', '✘ expected:'),
  };
}

/** Writes `value` to stdout as indented JSON and a newline. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes lines to stdout. */
export function printLines(...lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}
