#!/usr/bin/env node
import {createRequire} from 'node:module';
import {Command} from 'commander';
import {ExitCode} from './exit-codes.js';
import {installWarningPrinter} from './warnings.js';

installWarningPrinter();

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
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
      process.exit(ExitCode.OK);
    }
    process.exit(ExitCode.USAGE);
  });

type Register = (program: Command) => void;

/**
 * The subcommands, loaded on demand: a run imports only the module of the subcommand it
 * names (the MCP SDK and the emulator cost a few hundred milliseconds to load); help, an
 * unknown name or no name loads them all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  token: async () => (await import('./commands/token.js')).registerTokenCommand,
  tools: async () => (await import('./commands/tools.js')).registerToolsCommand,
  call: async () => (await import('./commands/call.js')).registerCallCommand,
  proxy: async () => (await import('./commands/proxy.js')).registerProxyCommand,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctorCommand,
  emulator: async () => (await import('./commands/emulator.js')).registerEmulatorCommand,
  demo: async () => (await import('./commands/demo.js')).registerDemoCommand,
  a2a: async () => (await import('./commands/a2a.js')).registerA2aCommand,
};

const named = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
const versionOnly =
  named === undefined && process.argv.slice(2).some((a) => a === '-V' || a === '--version');
const wanted = versionOnly
  ? []
  : named !== undefined && Object.hasOwn(COMMANDS, named)
    ? [named]
    : Object.keys(COMMANDS);
for (const register of await Promise.all(
  wanted.map((name) => (COMMANDS[name] as () => Promise<Register>)()),
)) {
  register(program);
}

await program.parseAsync(process.argv);
