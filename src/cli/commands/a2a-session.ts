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
  explainAuthFailure,
  explainVerifierRefusal,
  verifierRefusal,
  type VerifierRefusal,
} from '../../http/explain-auth-failure.js';
import {tokenFingerprint} from '../../tokens/fingerprint.js';
import type {FetchLike} from '../../tokens/google-routing.js';
import {decodeJwtPayload} from '../../tokens/jwt-claims.js';
import {
  CliError,
  describeError,
  doctorCommandLine,
  ExitCode,
  networkCode,
  quoteServerText,
  type CommandAuth,
  type Logger,
} from '../common.js';

type A2aEntry = typeof import('../../a2a/index.js');

/** A refusal the fetch saw. */
interface Refusal {
  status: 401 | 403;
  origin: string;
  /** The explanation of `explainAuthFailure` (shown with --verbose). */
  explanation: string;
  /** The email of the token that was refused, when it was a JWT. */
  principal: string | undefined;
  /** The verification code, when the agent verifies tokens itself with this package. */
  verifier?: VerifierRefusal;
}

/** A factory for one agent, and how its failures read. */
export interface A2aSession {
  factory: GoogleA2aClientFactory;
  /** Turns a failure of the factory or of a client into a {@link CliError}. */
  translate(error: unknown): unknown;
}

/** Causes of `describeError` that are the credential's or Google's, not the agent's. */
const CREDENTIAL_CAUSES = new Set([
  'invalid_credential',
  'credential_cannot_mint',
  'credential_unsupported',
  'google_unreachable',
  'google_refused',
]);

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
  let refusal: Refusal | undefined;
  // Below googleAuthFetch, so every answer is seen: a 401 that its retry cures is followed
  // by a success here, which clears the refusal.
  const logged: FetchLike = async (input, init) => {
    const headers = new Headers(
      init?.headers ?? (input instanceof Request ? input.headers : undefined),
    );
    const token = headers.get(auth.header)?.replace(/^Bearer\s+/i, '');
    const email = token ? decodeJwtPayload(token)?.email : undefined;
    const response = await fetch(input, init);
    const target = input instanceof Request ? input.url : String(input);
    if (log.verbose) {
      const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
      const carried = token
        ? ` with ${auth.header} ${tokenFingerprint(token)}`
        : ' without a token';
      log.debug(`${method} ${target}${carried} -> ${response.status}`);
    }
    if (response.status === 401 || response.status === 403) {
      const verifier = verifierRefusal(response);
      refusal = {
        status: response.status,
        origin: new URL(target).origin,
        explanation:
          explainAuthFailure(response, {url: target, credentialSent: token !== undefined}) ??
          `HTTP ${response.status}`,
        principal: typeof email === 'string' ? email : undefined,
        ...(verifier ? {verifier} : {}),
      };
    } else {
      refusal = undefined;
    }
    return response;
  };
  const factory = googleA2aClientFactory({
    url,
    authCredential: auth.authCredential,
    header: auth.header,
    fetch: logged,
    onWarning: (message) => log.warn(message),
    ...(auth.audience !== undefined ? {audience: auth.audience} : {}),
  });
  return {
    factory,
    translate(error) {
      if (error instanceof CliError) return error;
      if (refusal) log.debug(refusal.explanation);
      const doctor = doctorCommandLine(url, auth.credentialFlags ?? []);
      const report = describeError(error, {doctor});
      if (CREDENTIAL_CAUSES.has(report.cause)) {
        return new CliError(report.message, report.exitCode, {
          ...(report.hint ? {hint: report.hint} : {}),
          cause: error,
        });
      }
      if (refusal) return refused(refusal, auth, doctor, error);
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

/** A 401 or 403: the front's (Cloud Run) or the agent's own policy, in words. */
function refused(refusal: Refusal, auth: CommandAuth, doctor: string, error: unknown): CliError {
  if (refusal.verifier) {
    const words = explainVerifierRefusal(refusal.verifier, {
      url: refusal.origin,
      credentialSent: true,
      tokenKind: auth.audience !== undefined ? 'id' : 'access',
      header: auth.header,
      ...(auth.audience !== undefined ? {audience: auth.audience} : {}),
      ...(refusal.principal ? {principal: refusal.principal} : {}),
    });
    return new CliError(`HTTP ${refusal.status} from ${refusal.origin}: ${words}`, ExitCode.AUTH, {
      hint: `Run ${doctor} to see why.`,
      cause: error,
    });
  }
  if (refusal.status === 401) {
    const what =
      auth.audience !== undefined
        ? `the ID token for audience ${auth.audience}`
        : 'the access token';
    return new CliError(
      `HTTP 401 from ${refusal.origin}: the front refused ${what}${refusal.principal ? ` (${refusal.principal})` : ''}; usually the audience is not the one the service expects.`,
      ExitCode.AUTH,
      {hint: `Run ${doctor} to see why (--verbose shows more).`, cause: error},
    );
  }
  return new CliError(
    `HTTP 403 from ${refusal.origin}: ${refusal.principal ?? 'the caller'} is not allowed to invoke this agent (it needs roles/run.invoker).`,
    ExitCode.AUTH,
    {
      hint: `Grant it with gcloud run services add-iam-policy-binding SERVICE --member=serviceAccount:${refusal.principal ?? 'EMAIL'} --role=roles/run.invoker, or run ${doctor}.`,
      cause: error,
    },
  );
}
