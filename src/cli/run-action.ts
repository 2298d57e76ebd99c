/**
 * How a subcommand's failure becomes one or two plain sentences on stderr and an exit code.
 * Messages come from the library's errors, which never carry a token; nothing here prints
 * a stack unless `--verbose` is given.
 */
import {
  CredentialExchangeError,
  InvalidCredentialError,
  McpGoogleAuthError,
} from '../credentials/errors.js';
import {CliError, ExitCode, type ExitCodeValue} from './exit-codes.js';

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
  /** One sentence. */
  message: string;
  /** The fix, when known. */
  hint?: string;
}

/**
 * Maps any thrown value to an exit code and a message: {@link CliError} as it says;
 * `InvalidCredentialError` and TypeError (misused option) 2; `CredentialExchangeError` 2 for
 * a credential that cannot do this (`id_token_unsupported`, `unsupported_credential`), 1 when
 * Google could not be reached, 3 otherwise; an HTTP 401/403 anywhere in the chain 3;
 * everything else (unreachable server, 5xx, MCP errors) 1.
 */
export function describeError(error: unknown): ErrorReport {
  if (error instanceof CliError) {
    return {
      exitCode: error.exitCode,
      message: error.message,
      ...(error.hint ? {hint: error.hint} : {}),
    };
  }
  const message = sentence(error instanceof Error ? error.message : String(error));
  if (error instanceof InvalidCredentialError) {
    return {exitCode: ExitCode.USAGE, message: `Invalid credential: ${message}`};
  }
  if (error instanceof CredentialExchangeError) {
    if (error.code === 'id_token_unsupported') {
      return {
        exitCode: ExitCode.USAGE,
        message,
        hint: 'On the command line: add --impersonate SA_EMAIL, or run doctor <url> for the details.',
      };
    }
    if (error.code === 'unsupported_credential') return {exitCode: ExitCode.USAGE, message};
    const network = networkCode(error);
    if (network) {
      return {
        exitCode: ExitCode.REMOTE,
        message,
        hint: `Google's token endpoint could not be reached (${network}); check the network or GOOGLE_AUTH_EMULATOR_HOST.`,
      };
    }
    return {exitCode: ExitCode.AUTH, message};
  }
  const status = httpStatus(error);
  if (status === 401 || status === 403) {
    return {exitCode: ExitCode.AUTH, message};
  }
  if (error instanceof McpGoogleAuthError && error.code === 'request_refused') {
    return {exitCode: ExitCode.AUTH, message};
  }
  if (error instanceof TypeError && !networkCode(error) && !/fetch failed/i.test(error.message)) {
    return {exitCode: ExitCode.USAGE, message};
  }
  const network = networkCode(error);
  if (network) {
    return {
      exitCode: ExitCode.REMOTE,
      message: `Could not reach the server (${network}).`,
      hint: 'Check the URL and that the service is running.',
    };
  }
  return {exitCode: ExitCode.REMOTE, message};
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
      process.stderr.write(`${out.join('\n')}\n`);
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

/** A network error code (`ECONNREFUSED`, ...) somewhere in the cause chain. */
export function networkCode(error: unknown): string | undefined {
  for (const e of chain(error)) {
    const code = (e as {code?: unknown}).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    const errno = (e as {errno?: unknown}).errno;
    if (typeof errno === 'string' && NETWORK_CODES.has(errno)) return errno;
  }
  return undefined;
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
