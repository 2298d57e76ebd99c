import {describe, expect, it} from 'vitest';
import {humanDuration, humanExpiry, marksFor} from '../../src/cli/format.js';

describe('humanDuration', () => {
  it('uses the two largest units, singular and plural', () => {
    expect(humanDuration(0)).toBe('0 seconds');
    expect(humanDuration(1_000)).toBe('1 second');
    expect(humanDuration(59 * 60_000)).toBe('59 minutes');
    expect(humanDuration(3_600_000 + 2 * 60_000 + 5_000)).toBe('1 hour 2 minutes');
    expect(humanDuration(3 * 86_400_000 + 3_600_000)).toBe('3 days 1 hour');
  });
});

describe('humanExpiry', () => {
  it('says in or ago, with the instant in UTC', () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    expect(humanExpiry(now + 3_600_000, now)).toBe('in 1 hour (2026-01-02T04:04:05Z)');
    expect(humanExpiry(now - 180_000, now)).toBe('3 minutes ago (2026-01-02T03:01:05Z)');
  });
});

describe('marksFor', () => {
  it('uses ASCII off a terminal, Unicode without colour under NO_COLOR', () => {
    expect(marksFor({isTTY: false}, {}).ok).toBe('[ok]');
    expect(marksFor({isTTY: true}, {NO_COLOR: '1'})).toMatchObject({ok: '✔', fail: '✘'});
    expect(marksFor({isTTY: true}, {}).ok).toContain('\u001b[32m');
  });

  it('has a mark for an expected failure that is not the failure mark', () => {
    expect(marksFor({isTTY: false}, {}).expected).toBe('[expected failure]');
    expect(marksFor({isTTY: true}, {NO_COLOR: '1'}).expected).toBe('✘ expected:');
  });
});
