/**
 * The options the networked subcommands share, as commander definitions. This module is
 * what `--help` loads, so it imports nothing beyond commander and constants: building a
 * credential from the options lives in `common.ts`, loaded only when a command runs.
 */
import {Option, type Command} from 'commander';
import type {AuthHeaderMode} from '../http/auth-header-mode.js';
import {EMULATOR_HOST_ENV} from '../tokens/google-routing.js';

/** The header modes `--header` accepts. */
export const HEADER_MODES: readonly AuthHeaderMode[] = [
  'authorization',
  'x-serverless-authorization',
  'proxy-authorization',
];

/** The options {@link addCommonOptions} adds, as commander parses them. */
export interface CommonOptions {
  /** `--key-file PATH`: a Google credential file (service-account key, or any ADC JSON). Default is ADC. */
  keyFile?: string;
  /** `--impersonate EMAIL`: mint tokens as this service account through IAM Credentials. */
  impersonate?: string;
  /** `--audience AUD`: the ID token's `aud`. Default is the URL's origin (Cloud Run's rule). */
  audience?: string;
  /** `--header MODE`: where the token goes. Default is `authorization`. */
  header?: AuthHeaderMode;
  /** `--json`: machine-readable output on stdout. */
  json?: boolean;
  /** `--verbose`: more diagnostics on stderr (token fingerprints, never tokens). */
  verbose?: boolean;
  /** `--emulator HOST`: `host:port` of the Google auth emulator; sets `GOOGLE_AUTH_EMULATOR_HOST` for this process. */
  emulator?: string;
}

/** Which of the common options a subcommand takes, and how it describes them. */
export interface CommonOptionsSelection {
  /**
   * Whether the command sends the token to a URL, so that `--header` applies and the
   * audience defaults to the URL's origin. Default is true; `token` sets it to false.
   */
  sendsToUrl?: boolean;
}

/**
 * Adds the options every networked subcommand takes: `--key-file`, `--impersonate`,
 * `--audience`, `--header` (only for commands that send the token to a URL), `--json`,
 * `--verbose`, `--emulator`. `--emulator` sets `GOOGLE_AUTH_EMULATOR_HOST` before the action
 * runs.
 *
 * @example
 * addCommonOptions(program.command('tools <url>')).action(runAction(async (url, opts) => { ... }));
 */
export function addCommonOptions(cmd: Command, selection: CommonOptionsSelection = {}): Command {
  const sendsToUrl = selection.sendsToUrl ?? true;
  cmd
    .option(
      '--key-file <path>',
      'Google credential file (service-account key or ADC JSON); default: Application Default Credentials',
    )
    .option('--impersonate <email>', 'impersonate this service account (IAM Credentials)')
    .option(
      '--audience <aud>',
      sendsToUrl
        ? "ID token audience; default: the URL's origin (Cloud Run's rule; IAP wants its OAuth client id)"
        : 'mint an ID token for this audience; without it, an access token',
    );
  if (sendsToUrl) {
    cmd.addOption(
      new Option('--header <mode>', 'header that carries the token')
        .choices([...HEADER_MODES])
        .default('authorization'),
    );
  }
  cmd
    .option('--json', 'machine-readable output on stdout')
    .option('--verbose', 'more diagnostics on stderr (token fingerprints, never tokens)')
    .option(
      '--emulator <host>',
      'host:port of the Google auth emulator (sets GOOGLE_AUTH_EMULATOR_HOST)',
    );
  cmd.hook('preAction', (_command, action) => {
    const emulator = (action.opts() as CommonOptions).emulator;
    if (emulator) process.env[EMULATOR_HOST_ENV] = emulator;
  });
  return cmd;
}
