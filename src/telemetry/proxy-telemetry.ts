/**
 * Internal: what the proxies report: sessions opened, and sessions open now, by mode.
 */
import {instruments} from './instruments.js';

/** Which proxy. */
export type ProxyMode = 'stdio' | 'http';

/** A proxy session opened (`+1`) or closed (`-1`). */
export function recordProxySession(mode: ProxyMode, change: 1 | -1): void {
  const ins = instruments();
  if (!ins) return;
  if (change === 1) ins.proxySessionsOpened.add(1, {'proxy.mode': mode});
  ins.proxySessionsActive.add(change, {'proxy.mode': mode});
}
