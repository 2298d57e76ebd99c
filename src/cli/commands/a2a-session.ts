/**
 * The authenticated A2A client of `a2a card` and `a2a send`: `googleA2aClientFactory` (loaded
 * on demand, since `@a2a-js/sdk` is an optional peer dependency) with a fetch that logs
 * requests with token fingerprints under `--verbose` and remembers the last 401/403, and the
 * translation of failures into the command's sentences and exit codes, as for MCP: a
 * credential or Google failure exactly as `token` reports it, a refusal exit 3 with words for
 * Cloud Run or for an agent that verifies tokens itself (`googleIdTokenUserBuilder`), an
 * unreachable agent, a missing card or a card that points elsewhere exit 1. Hints name the
 * `doctor` command with the same flags; the server's words are scrubbed.
 */
import type {GoogleA2aClientFactory} from '../../a2a/index.js';
import {
  CliError,
  CREDENTIAL_CAUSES,
  describeError,
  doctorCommandLine,
  ExitCode,
  networkCode,
  quoteServerText,
  type CommandAuth,
  type Logger,
} from '../common.js';
import {explainRefusal, watchRefusals} from '../refusal.js';

type A2aEntry = typeof import('../../a2a/index.js');

/** A factory for one agent, and how its failures read. */
export interface A2aSession {
  factory: GoogleA2aClientFactory;
  /** Turns a failure of the factory or of a client into a {@link CliError}. */
  translate(error: unknown): unknown;
}

/** Loads `mcp-google-auth/a2a`; a missing `@a2a-js/sdk` becomes a usage error naming the fix. */
async function loadA2aEntry(): Promise<A2aEntry> {
  try {
    return await import('../../a2a/index.js');
  } catch (error) {
    const code = (error as {code?: unknown}).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && /@a2a-js\/sdk/.test(String(error))) {
      throw new CliError(
        'The a2a commands need the package @a2a-js/sdk, which is not installed.',
        ExitCode.USAGE,
        {hint: 'Install it next to mcp-google-auth: npm install @a2a-js/sdk', cause: error},
      );
    }
    throw error;
  }
}

/** Builds the factory for `url` with the credential the options describe. */
export async function openA2aSession(
  url: URL,
  auth: CommandAuth,
  log: Logger,
): Promise<A2aSession> {
  const {A2aClientError, googleA2aClientFactory} = await loadA2aEntry();
  const watch = watchRefusals(auth, log);
  const factory = googleA2aClientFactory({
    url,
    authCredential: auth.authCredential,
    header: auth.header,
    fetch: watch.fetch,
    onWarning: (message) => log.warn(message),
    ...(auth.audience !== undefined ? {audience: auth.audience} : {}),
  });
  return {
    factory,
    translate(error) {
      if (error instanceof CliError) return error;
      const refusal = watch.last();
      const doctor = doctorCommandLine(url, auth.credentialFlags ?? []);
      const report = describeError(error, {doctor});
      if (CREDENTIAL_CAUSES.has(report.cause)) {
        return new CliError(report.message, report.exitCode, {
          ...(report.hint ? {hint: report.hint} : {}),
          cause: error,
        });
      }
      if (refusal) {
        return explainRefusal(refusal, {auth, doctor, target: 'agent', cause: error});
      }
      const network = networkCode(error);
      if (network) {
        return new CliError(`Could not reach ${url.origin} (${network}).`, ExitCode.REMOTE, {
          hint: 'Check the URL and that the agent is running.',
          cause: error,
        });
      }
      if (error instanceof A2aClientError) {
        return new CliError(error.message, ExitCode.REMOTE, {cause: error});
      }
      if (error instanceof Error) {
        // The agent's words (a JSON-RPC error, a body): scrubbed, and cut if very long.
        return new CliError(
          `A2A request to ${url.origin} failed: ${quoteServerText(error.message)}`,
          ExitCode.REMOTE,
          {cause: error},
        );
      }
      return error;
    },
  };
}
