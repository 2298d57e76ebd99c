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
import {
  explainAuthFailure,
  explainVerifierRefusal,
  verifierRefusal,
  type VerifierRefusal,
} from '../http/explain-auth-failure.js';
import {googleAuthFetch} from '../http/google-auth-fetch.js';
import {tokenFingerprint} from '../tokens/fingerprint.js';
import {decodeJwtPayload} from '../tokens/jwt-claims.js';
import type {FetchLike} from '../tokens/google-routing.js';
import {
  CliError,
  describeError,
  doctorCommandLine,
  ExitCode,
  networkCode,
  quoteServerText,
  type CommandAuth,
  type Logger,
} from './common.js';

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
  let refusal: Refusal | undefined;
  let principal: string | undefined;
  const logged: FetchLike = async (input, init) => {
    const headers = new Headers(
      init?.headers ?? (input instanceof Request ? input.headers : undefined),
    );
    const token = headers.get(auth.header)?.replace(/^Bearer\s+/i, '');
    const email = token ? decodeJwtPayload(token)?.email : undefined;
    if (typeof email === 'string') principal = email;
    const response = await fetch(input, init);
    if (log.verbose) {
      const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
      const target = input instanceof Request ? input.url : String(input);
      const carried = token
        ? ` with ${auth.header} ${tokenFingerprint(token)}`
        : ' without a token';
      log.debug(`${method} ${target}${carried} -> ${response.status}`);
    }
    return response;
  };
  const authFetch = googleAuthFetch({
    authCredential: auth.authCredential,
    header: auth.header,
    targetUrl: url,
    fetch: logged,
    onWarning: (message) => log.warn(message),
    ...(auth.audience !== undefined ? {audience: auth.audience} : {}),
  });
  const watched: FetchLike = async (input, init) => {
    const response = await authFetch(input, init);
    if (response.status === 401 || response.status === 403) {
      const verifier = verifierRefusal(response);
      refusal = {
        status: response.status,
        explanation: explainAuthFailure(response) ?? `HTTP ${response.status}`,
        principal,
        // RFC 6750: a bare `Bearer` challenge answers a request that carried no token.
        noTokenSeen: /^\s*bearer\s*$/i.test(response.headers.get('www-authenticate') ?? ''),
        iap: response.headers.get('x-goog-iap-generated-response') === 'true',
        ...(verifier ? {verifier} : {}),
      };
      log.debug(refusal.explanation);
    }
    return response;
  };

  const transport = new StreamableHTTPClientTransport(url, {fetch: watched});
  const client = new Client(CLIENT_INFO, {capabilities: {}});
  try {
    try {
      await client.connect(transport);
    } catch (error) {
      throw translate(error, url, auth, refusal);
    }
    try {
      return await fn(client);
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw translate(error, url, auth, refusal);
    }
  } finally {
    if (transport.sessionId) await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
}

interface Refusal {
  status: number;
  /** The long explanation of `explainAuthFailure` (shown with --verbose). */
  explanation: string;
  /** The email of the token that was refused, when it was a JWT. */
  principal: string | undefined;
  /** The verification code, when the server verifies tokens itself with this package. */
  verifier?: VerifierRefusal;
  /** Whether the server challenged as if no token had been sent (a bare `Bearer`). */
  noTokenSeen: boolean;
  /** Whether IAP generated the answer. */
  iap: boolean;
}

/** Causes of {@link describeError} that are the credential's or Google's, not the server's. */
const CREDENTIAL_CAUSES = new Set([
  'invalid_credential',
  'credential_cannot_mint',
  'credential_unsupported',
  'google_unreachable',
  'google_refused',
]);

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
    return refused(refusal, url, auth, doctor, error);
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

/** A 401 or 403: the front's (Cloud Run, IAP) or the server's own policy, in words. */
function refused(
  refusal: Refusal,
  url: URL,
  auth: CommandAuth,
  doctor: string,
  error: unknown,
): CliError {
  if (refusal.verifier) {
    const words = explainVerifierRefusal(refusal.verifier, {
      url: url.href,
      credentialSent: true,
      tokenKind: auth.audience !== undefined ? 'id' : 'access',
      header: auth.header,
      ...(auth.audience !== undefined ? {audience: auth.audience} : {}),
      ...(refusal.principal ? {principal: refusal.principal} : {}),
    });
    return new CliError(`HTTP ${refusal.status} from ${url.origin}: ${words}`, ExitCode.AUTH, {
      hint: `Run ${doctor} to see why.`,
      cause: error,
    });
  }
  if (refusal.status === 401 && refusal.noTokenSeen && auth.header !== 'authorization') {
    return new CliError(
      `HTTP 401 from ${url.origin}: the server answered as if no token had been sent (a bare WWW-Authenticate: Bearer challenge); it does not read ${auth.header}.`,
      ExitCode.AUTH,
      {hint: `Use --header authorization, or run ${doctor} to see why.`, cause: error},
    );
  }
  if (refusal.status === 401) {
    const what =
      auth.audience !== undefined
        ? `the ID token for audience ${auth.audience}`
        : 'the access token';
    return new CliError(
      `HTTP 401 from ${url.origin}: the front refused ${what}${refusal.principal ? ` (${refusal.principal})` : ''}; usually the audience is not the one the service expects.`,
      ExitCode.AUTH,
      {hint: `Run ${doctor} to see why (--verbose shows more).`, cause: error},
    );
  }
  if (refusal.status === 403 && auth.header === 'proxy-authorization') {
    const who = refusal.principal ?? 'the caller';
    return new CliError(
      refusal.iap
        ? `HTTP 403 from ${url.origin}: IAP refused ${who} (it needs roles/iap.httpsResourceAccessor).`
        : `HTTP 403 from ${url.origin}: only IAP reads Proxy-Authorization. Behind IAP, ${who} lacks roles/iap.httpsResourceAccessor; on Cloud Run without IAP, the front answered as if no token had been sent.`,
      ExitCode.AUTH,
      {
        hint: refusal.iap
          ? `Grant it with gcloud iap web add-iam-policy-binding --member=serviceAccount:${refusal.principal ?? 'EMAIL'} --role=roles/iap.httpsResourceAccessor, or run ${doctor}.`
          : `Without IAP, use --header authorization; or run ${doctor} to see why.`,
        cause: error,
      },
    );
  }
  return new CliError(
    `HTTP 403 from ${url.origin}: ${refusal.principal ?? 'the caller'} is not allowed to invoke this service (it needs roles/run.invoker).`,
    ExitCode.AUTH,
    {
      hint: `Grant it with gcloud run services add-iam-policy-binding SERVICE --member=serviceAccount:${refusal.principal ?? 'EMAIL'} --role=roles/run.invoker, or run ${doctor}.`,
      cause: error,
    },
  );
}

/** The HTTP status of an MCP SDK transport error (`StreamableHTTPError.code`). */
function streamableStatus(error: unknown): number | undefined {
  if (error instanceof Error && error.constructor.name === 'StreamableHTTPError') {
    const code = (error as {code?: unknown}).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}
