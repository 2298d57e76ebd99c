/**
 * `mcp-google-auth a2a card <url>` and `mcp-google-auth a2a send <url> --message TEXT`: the
 * definitions only (what `--help` shows). The actions, which load `@a2a-js/sdk` (an optional
 * peer dependency), are imported when a subcommand runs.
 */
import type {Command} from 'commander';
import {addCommonOptions, type CommonOptions} from '../options.js';
import {runAction} from '../run-action.js';

/** Options of `a2a send`. */
export interface A2aSendOptions extends CommonOptions {
  /** `--message TEXT`: the text to send. */
  message: string;
}

const URL_HELP =
  "the agent's URL (its card is read from /.well-known/agent-card.json below it), or the card's own URL";

/** Registers `a2a` and its subcommands on the program. */
export function registerA2aCommand(program: Command): void {
  const a2a = program
    .command('a2a')
    .description(
      "Call an A2A (Agent2Agent) agent behind Google's front: print its card, send it a message",
    );
  addCommonOptions(
    a2a
      .command('card')
      .description(
        "Print the agent's card (name, endpoints, skills), fetched with the credential; --json for all of it",
      )
      .argument('<url>', URL_HELP),
  ).action(
    runAction(async (url: string, opts: CommonOptions) =>
      (await import('./a2a-actions.js')).a2aCardAction(url, opts),
    ),
  );
  addCommonOptions(
    a2a
      .command('send')
      .description("Send one text message and print the agent's reply; exit 1 when its task fails")
      .argument('<url>', URL_HELP)
      .requiredOption('--message <text>', 'the text to send'),
  ).action(
    runAction(async (url: string, opts: A2aSendOptions) =>
      (await import('./a2a-actions.js')).a2aSendAction(url, opts),
    ),
  );
}
