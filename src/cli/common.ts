/**
 * What every subcommand of `mcp-google-auth` shares: the common options, how they become a
 * service-account {@link AuthCredential}, the exit codes, the error reporting and the
 * stderr logger (re-exported here so that a subcommand needs one import for all of them).
 */
import {readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {InvalidCredentialError} from '../credentials/errors.js';
import {parseAuthCredential} from '../credentials/parse.js';
import {
  AuthCredentialTypes,
  type AuthCredential,
  type ServiceAccount,
} from '../credentials/types.js';
import type {AuthHeaderMode} from '../http/auth-header-mode.js';
import {EMULATOR_HOST_ENV, resolveEmulatorHost} from '../tokens/google-routing.js';
import {credentialFlags} from './doctor/command-line.js';
import {CliError, ExitCode} from './exit-codes.js';
import {HEADER_MODES, type CommonOptions} from './options.js';

export {CliError, ExitCode, type ExitCodeValue} from './exit-codes.js';
export {
  createLogger,
  colorEnabled,
  type Logger,
  type LoggerOptions,
  type Progress,
} from './logger.js';
export {
  describeError,
  FAILURE_CAUSES,
  httpStatus,
  networkCode,
  runAction,
  type ErrorReport,
  type FailureCause,
} from './run-action.js';
export {
  addCommonOptions,
  HEADER_MODES,
  type CommonOptions,
  type CommonOptionsSelection,
} from './options.js';
export {credentialFlags, doctorCommandLine} from './doctor/command-line.js';
export {quoteServerText, scrubText} from './scrub-text.js';

/** Where the audience in {@link CommandAuth} came from. */
export type AudienceSource = 'option' | 'url-origin';

/** What {@link authFromOptions} builds. */
export interface CommandAuth {
  /** A service-account credential (explicit key or ADC, impersonation, ID token when there is an audience). */
  authCredential: AuthCredential;
  /** The ID token audience, or undefined for an access token. */
  audience?: string;
  /** Why that audience: `--audience`, or the URL's origin. */
  audienceSource?: AudienceSource;
  /** The header the token goes in. */
  header: AuthHeaderMode;
  /** What `--key-file` held (`service_account`, `authorized_user`, ...), when given. */
  keyFileType?: string;
  /**
   * The flags that chose this credential and header, as typed (`--key-file`, `--impersonate`,
   * `--audience`, `--header`, `--emulator`): hints repeat them in the `doctor` command they
   * suggest ({@link doctorCommandLine}).
   */
  credentialFlags?: readonly string[];
}

/**
 * Builds the service-account credential the options describe. With a `url` (or
 * `--audience`) it asks for an ID token whose audience is `--audience` or the URL's origin;
 * without either, an access token (with `extra.scopes` when given). A `--key-file` holding a
 * service-account key becomes `serviceAccountCredential`; any other Google credential file
 * (authorized_user, external_account, impersonated_service_account) is used through ADC
 * (`GOOGLE_APPLICATION_CREDENTIALS` is set to it for this process). Throws {@link CliError}
 * (exit 2) for unreadable files, bad URLs and bad options.
 *
 * @example
 * const {authCredential, audience} = authFromOptions({keyFile: 'key.json'}, 'https://svc-abc.a.run.app/mcp');
 * // audience === 'https://svc-abc.a.run.app'
 */
export function authFromOptions(
  opts: CommonOptions,
  url?: string,
  extra: {scopes?: string[]} = {},
): CommandAuth {
  applyEmulatorOption(opts);
  const header = checkHeader(opts.header);
  const target = url === undefined ? undefined : parseTargetUrl(url);

  let audience: string | undefined;
  let audienceSource: AudienceSource | undefined;
  if (opts.audience !== undefined) {
    if (opts.audience.trim() === '') {
      throw new CliError('--audience is empty.', ExitCode.USAGE, {
        hint: "Give the service URL's origin (Cloud Run), the full function URL (Cloud Run functions 1st gen) or the OAuth client id (IAP).",
      });
    }
    audience = opts.audience;
    audienceSource = 'option';
  } else if (target) {
    audience = target.origin;
    audienceSource = 'url-origin';
  }
  if (audience !== undefined && extra.scopes && extra.scopes.length > 0) {
    throw new CliError(
      '--scopes applies to access tokens only, not to ID tokens.',
      ExitCode.USAGE,
      {
        hint: 'Drop --audience to get an access token, or drop --scopes.',
      },
    );
  }

  const serviceAccount: Record<string, unknown> = {};
  let keyFileType: string | undefined;
  if (opts.keyFile !== undefined) {
    const key = readKeyFile(opts.keyFile);
    keyFileType = key.type;
    if (key.type === 'service_account') {
      serviceAccount.serviceAccountCredential = key.json;
    } else {
      process.env.GOOGLE_APPLICATION_CREDENTIALS = key.path;
      serviceAccount.useDefaultCredential = true;
    }
  } else {
    serviceAccount.useDefaultCredential = true;
  }
  if (opts.impersonate !== undefined) {
    if (!/^[^@\s]+@[^@\s]+$/.test(opts.impersonate)) {
      throw new CliError(
        `--impersonate must be a service-account email, got ${JSON.stringify(opts.impersonate)}.`,
        ExitCode.USAGE,
      );
    }
    serviceAccount.impersonateServiceAccount = opts.impersonate;
  }
  if (audience !== undefined) {
    serviceAccount.useIdToken = true;
    serviceAccount.audience = audience;
  } else if (extra.scopes && extra.scopes.length > 0) {
    serviceAccount.scopes = extra.scopes;
  }

  let authCredential: AuthCredential;
  try {
    authCredential = parseAuthCredential({
      authType: AuthCredentialTypes.SERVICE_ACCOUNT,
      serviceAccount: serviceAccount as unknown as ServiceAccount,
    });
  } catch (error) {
    if (error instanceof InvalidCredentialError && opts.keyFile !== undefined) {
      throw new CliError(
        `The key file ${opts.keyFile} is not a usable service-account key (${error.path || 'key'} is invalid).`,
        ExitCode.USAGE,
        {
          hint: 'Download a fresh JSON key, or drop --key-file to use Application Default Credentials.',
          cause: error,
        },
      );
    }
    throw error;
  }
  return {
    authCredential,
    header,
    credentialFlags: credentialFlags(opts),
    ...(audience !== undefined ? {audience} : {}),
    ...(audienceSource ? {audienceSource} : {}),
    ...(keyFileType ? {keyFileType} : {}),
  };
}

/** Checks a target URL given on the command line: absolute http(s). Throws {@link CliError} (exit 2). */
export function parseTargetUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`${JSON.stringify(url)} is not a URL.`, ExitCode.USAGE, {
      hint: 'Give the full MCP endpoint, e.g. https://svc-abc.a.run.app/mcp.',
    });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new CliError(`${JSON.stringify(url)} is not an http(s) URL.`, ExitCode.USAGE, {
      hint: 'Give the full MCP endpoint, e.g. https://svc-abc.a.run.app/mcp.',
    });
  }
  return parsed;
}

/** A Google credential file, read and parsed. */
export interface KeyFile {
  /** Absolute path. */
  path: string;
  /** The file's `type` field (`service_account`, `authorized_user`, `external_account`, ...). */
  type: string;
  /** The parsed JSON. */
  json: Record<string, unknown>;
}

/** Reads a Google credential file. Throws {@link CliError} (exit 2) naming the path, never the content. */
export function readKeyFile(path: string): KeyFile {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as {code?: unknown}).code;
    throw new CliError(
      `Cannot read the key file ${path}${typeof code === 'string' ? ` (${code})` : ''}.`,
      ExitCode.USAGE,
      {hint: 'Check the path given to --key-file.'},
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`The key file ${path} is not JSON.`, ExitCode.USAGE, {
      hint: 'Pass the JSON credential file downloaded from the console or written by gcloud.',
    });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new CliError(`The key file ${path} is not a JSON object.`, ExitCode.USAGE);
  }
  const type = (json as {type?: unknown}).type;
  const known = [
    'service_account',
    'authorized_user',
    'external_account',
    'impersonated_service_account',
    'external_account_authorized_user',
  ];
  if (typeof type !== 'string' || !known.includes(type)) {
    throw new CliError(
      `The key file ${path} has no known "type" (got ${JSON.stringify(type ?? null)}).`,
      ExitCode.USAGE,
      {hint: `Expected one of: ${known.join(', ')}.`},
    );
  }
  return {path: absolute, type, json: json as Record<string, unknown>};
}

function checkHeader(header: string | undefined): AuthHeaderMode {
  if (header === undefined) return 'authorization';
  const lower = header.toLowerCase();
  if ((HEADER_MODES as readonly string[]).includes(lower)) return lower as AuthHeaderMode;
  throw new CliError(
    `--header must be one of ${HEADER_MODES.join(', ')}, got ${JSON.stringify(header)}.`,
    ExitCode.USAGE,
  );
}

function applyEmulatorOption(opts: CommonOptions): void {
  if (opts.emulator !== undefined) process.env[EMULATOR_HOST_ENV] = opts.emulator;
  try {
    resolveEmulatorHost();
  } catch (error) {
    throw new CliError(
      `${opts.emulator !== undefined ? '--emulator' : EMULATOR_HOST_ENV} must be host:port, e.g. 127.0.0.1:8085.`,
      ExitCode.USAGE,
      {cause: error},
    );
  }
}
