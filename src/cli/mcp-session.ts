/**
 * One authenticated MCP session for `tools` and `call`: the MCP SDK client over Streamable
 * HTTP, with `googleAuthFetch` as its fetch. Failures become a {@link CliError} with the exit
 * code of their cause (the one table in run-action.ts, as for every command): a credential
 * or Google failure exactly as `token` reports it, a refusal (401/403) exit 3 with words for
 * Cloud Run or for a server that verifies tokens itself, an unreachable server exit 1. Hints
 * name the `doctor` command with the same flags; the server's words are scrubbed.
 */
import {createRequire} from 'node:module';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {googleAuthFetch} from '../http/google-auth-fetch.js';
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
} from './common.js';
import {explainRefusal, watchRefusals, type Refusal} from './refusal.js';

const require = createRequire(import.meta.url);
const {version} = require('../../package.json') as {version: string};

/** Identity the command's MCP client announces. */
export const CLIENT_INFO = {name: 'mcp-google-auth', version};

/**
 * Opens a session to `url`, runs `fn` with the connected client, then ends the session
 * (DELETE) and closes the client, whatever happened.
 */
export async function withMcpSession<T>(
  url: URL,
  auth: CommandAuth,
  log: Logger,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const watch = watchRefusals(auth, log);
  const authFetch = googleAuthFetch({
    authCredential: auth.authCredential,
    header: auth.header,
    targetUrl: url,
    fetch: watch.fetch,
    onWarning: (message) => log.warn(message),
    ...(auth.audience !== undefined ? {audience: auth.audience} : {}),
  });

  const transport = new StreamableHTTPClientTransport(url, {fetch: authFetch});
  const client = new Client(CLIENT_INFO, {capabilities: {}});
  try {
    try {
      await client.connect(transport);
    } catch (error) {
      throw translate(error, url, auth, watch.last());
    }
    try {
      return await fn(client);
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw translate(error, url, auth, watch.last());
    }
  } finally {
    if (transport.sessionId) await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
}

function translate(
  error: unknown,
  url: URL,
  auth: CommandAuth,
  refusal: Refusal | undefined,
): unknown {
  if (error instanceof CliError) return error;
  const doctor = doctorCommandLine(url, auth.credentialFlags ?? []);
  // The credential or Google failed before the server was asked: the same words and exit
  // code as `token` gives for the same cause.
  const report = describeError(error, {doctor});
  if (CREDENTIAL_CAUSES.has(report.cause)) {
    return new CliError(report.message, report.exitCode, {
      ...(report.hint ? {hint: report.hint} : {}),
      cause: error,
    });
  }
  const status = streamableStatus(error);
  if (refusal && (status === undefined || status === refusal.status)) {
    return explainRefusal(refusal, {auth, doctor, target: 'service', cause: error});
  }
  if (report.cause === 'server_refused') {
    return new CliError(report.message, report.exitCode, {
      hint: report.hint ?? `Run ${doctor} to see why.`,
      cause: error,
    });
  }
  const network = networkCode(error);
  if (network) {
    return new CliError(`Could not reach ${url.origin} (${network}).`, ExitCode.REMOTE, {
      hint: 'Check the URL and that the service is running.',
      cause: error,
    });
  }
  if (status === 404) {
    return new CliError(
      `${url.href} answered 404: there is no MCP endpoint at this path.`,
      ExitCode.REMOTE,
      {
        hint: 'MCP servers usually listen on /mcp; check the path.',
        cause: error,
      },
    );
  }
  if (status !== undefined && status > 0) {
    return new CliError(`${url.href} answered HTTP ${status}.`, ExitCode.REMOTE, {cause: error});
  }
  if (error instanceof Error) {
    // The server's words (a JSON-RPC error, a body): scrubbed, and cut if very long.
    return new CliError(
      `MCP request to ${url.href} failed: ${quoteServerText(error.message)}`,
      ExitCode.REMOTE,
      {cause: error},
    );
  }
  return error;
}

/** The HTTP status of an MCP SDK transport error (`StreamableHTTPError.code`). */
function streamableStatus(error: unknown): number | undefined {
  if (error instanceof Error && error.constructor.name === 'StreamableHTTPError') {
    const code = (error as {code?: unknown}).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}
