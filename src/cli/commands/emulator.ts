/**
 * `mcp-google-auth emulator`: the definition only (what `--help` shows). The action, which
 * loads the emulator, is imported when the command runs.
 */
import type {Command} from 'commander';
import type {EmulatorCommandOptions} from '../actions/emulator.js';
import {runAction} from '../run-action.js';

/** Registers `emulator` on the program. */
export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description(
      'Run the Google auth emulator, a Cloud Run front and a demo MCP server on 127.0.0.1 until interrupted; prints the export lines',
    )
    .option(
      '--port <n>',
      'port of the emulator; the front takes n+1 and the demo server n+2 (default: free ports)',
    )
    .option('--json', 'print the URLs and environment as one line of JSON')
    .option('--verbose', 'more diagnostics on stderr')
    .option(
      '--a2a',
      'also run the demo A2A agent behind a front of its own (with --port: n+3 and n+4); needs @a2a-js/sdk',
    )
    .action(
      runAction(async (opts: EmulatorCommandOptions) =>
        (await import('../actions/emulator.js')).emulatorAction(opts),
      ),
    );
}
