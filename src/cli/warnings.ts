/**
 * Process warnings (`process.emitWarning`) as the command shows them: `warning: <message>` on
 * stderr instead of Node's `(node:PID) Warning:` lines, deprecations only with `--verbose`,
 * and codes a subcommand has acknowledged not at all.
 */

import {scrubText} from './scrub-text.js';

const quiet = new Set<string>();

/** Stops showing warnings with this `code` (e.g. the demo knows it runs on the emulator). */
export function quietWarning(code: string): void {
  quiet.add(code);
}

/** Replaces Node's default warning printer for this process. */
export function installWarningPrinter(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & {code?: string}) => {
    if (warning.code && quiet.has(warning.code)) return;
    const verbose = process.argv.includes('--verbose');
    if (warning.name === 'DeprecationWarning' && !verbose) return;
    // gcp-metadata's note when metadata-server detection fails; the real error follows.
    if (/^received unexpected error = /.test(warning.message) && !verbose) return;
    // On a terminal a progress spinner may own the current line: clear it first.
    const clear = process.stderr.isTTY ? '\r\u001b[2K' : '';
    process.stderr.write(`${clear}warning: ${scrubText(warning.message)}\n`);
  });
}
