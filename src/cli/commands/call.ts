/**
 * `mcp-google-auth call <url> <tool>`: the definition only (what `--help` shows). The
 * action, which loads the MCP SDK client, is imported when the command runs.
 */
import type {Command} from 'commander';
import type {CallCommandOptions} from '../actions/call.js';
import {addCommonOptions} from '../options.js';
import {runAction} from '../run-action.js';

/** Registers `call` on the program. */
export function registerCallCommand(program: Command): void {
  const cmd = program
    .command('call')
    .description('Call one tool and print its text content; exit 1 when the tool reports an error')
    .argument('<url>', 'the MCP endpoint, e.g. https://svc-abc.a.run.app/mcp')
    .argument('<tool>', 'the tool name')
    .option('--args <json>', 'the arguments as a JSON object')
    .option(
      '--arg <key=value>',
      "one argument (repeatable); the value is converted to the type the tool's schema declares",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    );
  addCommonOptions(cmd).action(
    runAction(async (url: string, tool: string, opts: CallCommandOptions) =>
      (await import('../actions/call.js')).callAction(url, tool, opts),
    ),
  );
}
