#!/usr/bin/env node
import {createRequire} from 'node:module';
import {Command, Help} from 'commander';
import {COMMAND_SUMMARIES} from './command-summaries.js';
import {registerA2aCommand} from './commands/a2a.js';
import {registerCallCommand} from './commands/call.js';
import {registerDemoCommand} from './commands/demo.js';
import {registerDoctorCommand} from './commands/doctor.js';
import {registerEmulatorCommand} from './commands/emulator.js';
import {registerTokenCommand} from './commands/token.js';
import {registerToolsCommand} from './commands/tools.js';
import {ExitCode} from './exit-codes.js';
import {installWarningPrinter} from './warnings.js';

installWarningPrinter();
// `mcp-google-auth tools URL | head -1`: a closed pipe ends the output, not with a stack.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.OK);
  throw error;
});

const require = createRequire(import.meta.url);
const {version} = require('../../package.json') as {version: string};

const program = new Command('mcp-google-auth')
  .description(
    'Google identity for agent tools: ID tokens for MCP servers on Cloud Run, IAP and Cloud Run functions.',
  )
  .version(version)
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({
    // Usage errors (unknown option, missing argument) exit 2, as every other configuration error.
    outputError: (text, write) => write(text),
  })
  .exitOverride((error) => {
    // Help asked for (`--help`, `help proxy`) and the version end well; help shown because
    // the command line was incomplete (no subcommand) is a usage error.
    if (
      error.exitCode === 0 &&
      ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code)
    ) {
      process.exit(ExitCode.OK);
    }
    process.exit(ExitCode.USAGE);
  });

type Register = (program: Command) => void;

/**
 * The subcommands. Each definition module holds only commander definitions (cheap: help
 * loads them all); the implementation behind each action is imported when it runs. The
 * others are listed from their summaries and loaded only when named.
 */
const DEFINED: Record<string, Register> = {
  token: registerTokenCommand,
  tools: registerToolsCommand,
  call: registerCallCommand,
  doctor: registerDoctorCommand,
  emulator: registerEmulatorCommand,
  demo: registerDemoCommand,
  a2a: registerA2aCommand,
};

const args = process.argv.slice(2);
const words = args.filter((arg) => !arg.startsWith('-'));
// `help proxy` names proxy as much as `proxy --help` does.
const named = words[0] === 'help' ? words[1] : words[0];
const order = ['token', 'tools', 'call', 'proxy', 'doctor', 'emulator', 'demo', 'a2a'];
const terms = new Map<string, string>();
for (const name of order) {
  const define = DEFINED[name];
  const summary = COMMAND_SUMMARIES[name];
  if (define) {
    define(program);
  } else if (summary && named === name) {
    (await summary.load())(program);
  } else if (summary) {
    program.command(name).description(summary.description);
    terms.set(name, summary.term);
  }
}
if (terms.size > 0) {
  const help = new Help();
  program.configureHelp({
    subcommandTerm: (cmd) => terms.get(cmd.name()) ?? help.subcommandTerm(cmd),
  });
}

await program.parseAsync(process.argv);
