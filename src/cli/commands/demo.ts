/**
 * `mcp-google-auth demo` (what `npm start` runs): the definition only (what `--help`
 * shows). The action, which loads the emulator and the MCP SDK, is imported when it runs.
 */
import type {Command} from 'commander';
import {runAction} from '../run-action.js';

/** Registers `demo` on the program. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'Show the original bug (access token -> 401) and the fix (useIdToken) against an offline Cloud Run front; exits 1 if anything is off',
    )
    .action(runAction(async () => (await import('../actions/demo.js')).demoAction()));
}
