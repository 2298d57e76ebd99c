/**
 * How `--help` lists a subcommand whose module is not cheap to load (it defines and
 * implements in one file): its description and usage term, written down here, so that the
 * module is imported only when that subcommand is named. test/cli/main.test.ts keeps each
 * summary equal to what the real module registers.
 */
import type {Command} from 'commander';

/** A subcommand listed from its summary, loaded only when named. */
export interface CommandSummary {
  /** Imports the module and returns its register function. */
  load: () => Promise<(program: Command) => void>;
  /** The description the module registers. */
  description: string;
  /** The usage term `--help` shows, e.g. `proxy [options] <url>`. */
  term: string;
}

/** The summarized subcommands, by name. */
export const COMMAND_SUMMARIES: Readonly<Record<string, CommandSummary>> = {
  proxy: {
    load: async () => (await import('./commands/proxy.js')).registerProxyCommand,
    description:
      'Serve MCP on stdio (or, with --port, at http://127.0.0.1:PORT/mcp) and forward every message to a remote MCP server with fresh Google ID tokens',
    term: 'proxy [options] <url>',
  },
};
