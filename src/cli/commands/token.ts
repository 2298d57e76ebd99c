/**
 * `mcp-google-auth token`: the definition only (what `--help` shows). The action, which
 * loads google-auth-library, is imported when the command runs.
 */
import type {Command} from 'commander';
import type {TokenCommandOptions} from '../actions/token.js';
import {addCommonOptions} from '../options.js';
import {runAction} from '../run-action.js';

/** Registers `token` on the program. */
export function registerTokenCommand(program: Command): void {
  const cmd = program
    .command('token')
    .description(
      'Print an ID token (with --audience) or an access token for the credential; --decode shows header and claims instead',
    )
    .option('--scopes <list>', 'comma-separated access-token scopes (default: cloud-platform)')
    .option(
      '--decode',
      'print the header and claims (never the signature) and the expiry in words, not the token',
    );
  addCommonOptions(cmd, {sendsToUrl: false}).action(
    runAction(async (opts: TokenCommandOptions) =>
      (await import('../actions/token.js')).tokenAction(opts),
    ),
  );
}
