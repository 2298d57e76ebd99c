/**
 * How a subcommand's failure becomes its whole reason and fix on stderr and an exit code:
 * one table ({@link FAILURE_CAUSES}) from cause to exit code, the same in every command.
 * Everything printed goes through the one scrubber (`scrub-text.ts`); nothing here prints a
 * stack unless `--verbose` is given.
 */
import {
  CredentialExchangeError,
  InvalidCredentialError,
  McpGoogleAuthError,
} from '../credentials/errors.js';
import {CliError, ExitCode, type ExitCodeValue} from './exit-codes.js';
import {scrubText} from './scrub-text.js';

/** Error codes of lower layers (Node's fetch, sockets) that mean "could not reach it". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
]);

/** What {@link describeError} makes of an error. */
export interface ErrorReport {
  /** The exit code the process should end with. */
  exitCode: ExitCodeValue;
  /** The cause, by its stable name in {@link FAILURE_CAUSES} (`reported` for a {@link CliError}). */
  cause: string;
  /** The whole reason, in one or more sentences. Never cut short. */
  message: string;
  /** The fix, when known. */
  hint?: string;
}

/** What the command knows about the failed call, for hints that name it. */
export interface FailureContext {
  /**
   * The `doctor` command line that checks the same URL with the same flags
   * (`doctorCommandLine`). Default: a generic `mcp-google-auth doctor <url>`.
   */
  doctor?: string;
}

/**
 * One cause of failure and the exit code it means, in every subcommand (`token`, `tools`,
 * `call`, `doctor`, `proxy`...). {@link FAILURE_CAUSES} lists them in the order they are
 * tried; the first that matches an error wins.
 */
export interface FailureCause {
  /** Stable name, e.g. `credential_cannot_mint`. */
  cause: string;
  /** The exit code, the same whichever command met the cause. */
  exitCode: ExitCodeValue;
  /** Whether `error` (or an error in its `cause` chain) is this cause. */
  matches(error: unknown): boolean;
  /** The whole message and the fix. */
  describe(error: unknown, context: FailureContext): {message: string; hint?: string};
}

/**
 * The one table from a failure's cause to its exit code and words. `CliError`s (failures a
 * command reports itself) carry their own code; everything else is matched here.
 *
 * | cause | exit |
 * |---|---|
 * | `invalid_credential`: the credential or key file is malformed | 2 |
 * | `credential_cannot_mint`: this credential cannot mint an ID token (user credentials, federation without impersonation) | 2 |
 * | `credential_unsupported`: this credential kind is not supported | 2 |
 * | `google_unreachable`: Google's token endpoint (or the emulator) did not answer | 1 |
 * | `google_refused`: Google refused to issue the token | 3 |
 * | `server_refused`: the server or its front answered 401/403 | 3 |
 * | `option_misuse`: an option has a value the library refuses (TypeError) | 2 |
 * | `server_unreachable`: the server did not answer (connection refused, DNS, timeout) | 1 |
 * | `remote_failed`: anything else the server or tool did (5xx, MCP error) | 1 |
 */
export const FAILURE_CAUSES: readonly FailureCause[] = [
  {
    cause: 'invalid_credential',
    exitCode: ExitCode.USAGE,
    matches: (error) => find(error, (e) => e instanceof InvalidCredentialError) !== undefined,
    describe: (error) => ({
      message: `Invalid credential: ${sentence(messageOf(find(error, (e) => e instanceof InvalidCredentialError)))}`,
    }),
  },
  {
    cause: 'credential_cannot_mint',
    exitCode: ExitCode.USAGE,
    matches: (error) => exchangeError(error)?.code === 'id_token_unsupported',
    describe: (error, context) => ({
      message: sentence(messageOf(exchangeError(error))),
      hint: `On the command line: add --impersonate SA_EMAIL, or run ${context.doctor ?? 'mcp-google-auth doctor <url>'} for the details.`,
    }),
  },
  {
    cause: 'credential_unsupported',
    exitCode: ExitCode.USAGE,
    matches: (error) => exchangeError(error)?.code === 'unsupported_credential',
    describe: (error) => ({message: sentence(messageOf(exchangeError(error)))}),
  },
  {
    cause: 'google_unreachable',
    exitCode: ExitCode.REMOTE,
    matches: (error) => exchangeError(error) !== undefined && networkCode(error) !== undefined,
    describe: (error) => ({
      message: sentence(messageOf(exchangeError(error))),
      hint: `Google's token endpoint could not be reached (${networkCode(error) ?? 'network'}); check the network or GOOGLE_AUTH_EMULATOR_HOST.`,
    }),
  },
  {
    cause: 'google_refused',
    exitCode: ExitCode.AUTH,
    matches: (error) => exchangeError(error) !== undefined,
    describe: (error) => ({message: sentence(messageOf(exchangeError(error)))}),
  },
  {
    cause: 'server_refused',
    exitCode: ExitCode.AUTH,
    matches: (error) => {
      const status = httpStatus(error);
      return (
        status === 401 ||
        status === 403 ||
        find(error, (e) => e instanceof McpGoogleAuthError && e.code === 'request_refused') !==
          undefined
      );
    },
    describe: (error, context) => ({
      message: sentence(messageOf(error)),
      ...(context.doctor ? {hint: `Run ${context.doctor} to see why.`} : {}),
    }),
  },
  {
    cause: 'option_misuse',
    exitCode: ExitCode.USAGE,
    matches: (error) =>
      error instanceof TypeError && !networkCode(error) && !/fetch failed/i.test(error.message),
    describe: (error) => ({message: sentence(messageOf(error))}),
  },
  {
    cause: 'server_unreachable',
    exitCode: ExitCode.REMOTE,
    matches: (error) => networkCode(error) !== undefined,
    describe: (error) => ({
      message: `Could not reach the server (${networkCode(error) ?? 'network'}).`,
      hint: 'Check the URL and that the service is running.',
    }),
  },
  {
    cause: 'remote_failed',
    exitCode: ExitCode.REMOTE,
    matches: () => true,
    describe: (error) => ({message: sentence(messageOf(error))}),
  },
];

/**
 * Maps any thrown value to an exit code and its whole message: a {@link CliError} as it
 * says, anything else by the first matching row of {@link FAILURE_CAUSES}.
 */
export function describeError(error: unknown, context: FailureContext = {}): ErrorReport {
  if (error instanceof CliError) {
    return {
      exitCode: error.exitCode,
      cause: 'reported',
      message: error.message,
      ...(error.hint ? {hint: error.hint} : {}),
    };
  }
  const row = FAILURE_CAUSES.find((r) => r.matches(error)) as FailureCause;
  const {message, hint} = row.describe(error, context);
  return {exitCode: row.exitCode, cause: row.cause, message, ...(hint ? {hint} : {})};
}

/**
 * Wraps a commander action: runs it, and on failure prints `error: <message>` (and the hint)
 * to stderr and sets `process.exitCode`. With `verbose` the error's chain of causes (names
 * and codes, no secrets) follows.
 *
 * @example
 * program.command('tools <url>').action(runAction(async (url: string, opts: CommonOptions) => { ... }));
 */
export function runAction<A extends unknown[]>(
  fn: (...args: A) => Promise<void | number> | void | number,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      if (typeof code === 'number' && code !== 0) process.exitCode = code;
    } catch (error) {
      const report = describeError(error);
      const out: string[] = [`error: ${report.message}`];
      if (report.hint) out.push(report.hint);
      if (isVerbose(args)) out.push(...causeChain(error));
      process.stderr.write(`${scrubText(out.join('\n'))}\n`);
      process.exitCode = report.exitCode;
    }
  };
}

/** The HTTP status carried by an error or one of its causes (`status`, `statusCode`, `response.status`). */
export function httpStatus(error: unknown): number | undefined {
  for (const e of chain(error)) {
    const value = e as {status?: unknown; statusCode?: unknown; response?: {status?: unknown}};
    for (const candidate of [value.status, value.statusCode, value.response?.status]) {
      if (typeof candidate === 'number' && candidate >= 100 && candidate < 600) return candidate;
    }
  }
  return undefined;
}

/**
 * A network error code (`ECONNREFUSED`, ...) somewhere in the cause chain; `timeout` for a
 * request that `AbortSignal.timeout` ended.
 */
export function networkCode(error: unknown): string | undefined {
  for (const e of chain(error)) {
    const code = (e as {code?: unknown}).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    const errno = (e as {errno?: unknown}).errno;
    if (typeof errno === 'string' && NETWORK_CODES.has(errno)) return errno;
    if ((e as {name?: unknown}).name === 'TimeoutError') return 'timeout';
  }
  return undefined;
}

/** The first error of the cause chain that `test` accepts. */
function find(error: unknown, test: (e: object) => boolean): object | undefined {
  for (const e of chain(error)) if (test(e)) return e;
  return undefined;
}

function exchangeError(error: unknown): CredentialExchangeError | undefined {
  return find(error, (e) => e instanceof CredentialExchangeError) as
    CredentialExchangeError | undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error !== null && typeof error === 'object' && 'message' in error)
    return String((error as {message: unknown}).message);
  return String(error);
}

function* chain(error: unknown): Generator<object> {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    yield current;
    if (current instanceof AggregateError) {
      for (const inner of current.errors) {
        if (inner !== null && typeof inner === 'object') yield inner as object;
      }
    }
    current = (current as {cause?: unknown}).cause;
  }
}

function causeChain(error: unknown): string[] {
  const lines: string[] = [];
  let first = true;
  for (const e of chain(error)) {
    if (first) {
      first = false;
      continue;
    }
    const name = (e as {name?: unknown}).name;
    const code = (e as {code?: unknown}).code;
    lines.push(
      `  caused by: ${typeof name === 'string' ? name : 'error'}${typeof code === 'string' ? ` (${code})` : ''}`,
    );
  }
  return lines;
}

function sentence(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, ' ');
  if (trimmed === '') return 'Unknown error.';
  return /[.!?)]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function isVerbose(args: unknown[]): boolean {
  for (const arg of args) {
    if (
      arg !== null &&
      typeof arg === 'object' &&
      'opts' in arg &&
      typeof arg.opts === 'function'
    ) {
      const opts = (arg.opts as () => unknown)();
      if (opts && typeof opts === 'object' && (opts as {verbose?: unknown}).verbose === true)
        return true;
    } else if (
      arg !== null &&
      typeof arg === 'object' &&
      (arg as {verbose?: unknown}).verbose === true
    ) {
      return true;
    }
  }
  return false;
}
