/**
 * `mcp-google-auth tools <url>`: the definition only (what `--help` shows). The action,
 * which loads the MCP SDK client, is imported when the command runs.
 */
import type {Command} from 'commander';
import {addCommonOptions, type CommonOptions} from '../options.js';
import {runAction} from '../run-action.js';

/** Registers `tools` on the program. */
export function registerToolsCommand(program: Command): void {
  const cmd = program
    .command('tools')
    .description(
      'List the tools of an MCP server (name and first line of the description); --json for full schemas',
    )
    .argument('<url>', 'the MCP endpoint, e.g. https://svc-abc.a.run.app/mcp');
  addCommonOptions(cmd).action(
    runAction(async (url: string, opts: CommonOptions) =>
      (await import('../actions/tools.js')).toolsAction(url, opts),
    ),
  );
}
