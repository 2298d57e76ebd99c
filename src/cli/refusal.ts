/**
 * The 401s and 403s a command meets, for every command that sends a request with a credential
 * (`tools`, `call`, `a2a card`, `a2a send`): a fetch that sits below `googleAuthFetch`, logs
 * each request with the token's fingerprint under `--verbose` and remembers the last refusal,
 * and the one set of sentences that say why a front (Cloud Run, IAP) or a server that verifies
 * tokens itself refused, with the IAM binding or flag that fixes it. A verifying server's 503
 * (it could not load Google's signing keys) is explained too, as the server's trouble.
 */
import {iamMember} from '../credentials/gcloud-identity.js';
import {
  explainAuthFailure,
  explainVerifierRefusal,
  verifierRefusal,
  type VerifierRefusal,
} from '../http/explain-auth-failure.js';
import {tokenFingerprint} from '../tokens/fingerprint.js';
import type {FetchLike} from '../tokens/google-routing.js';
import {decodeJwtPayload} from '../tokens/jwt-claims.js';
import {CliError, ExitCode, type CommandAuth, type Logger} from './common.js';

/** A 401 or 403 the command's fetch saw, or a verifying server's 503 (`keys_unavailable`). */
export interface Refusal {
  status: 401 | 403 | 503;
  origin: string;
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
  /** The `Retry-After` of a 503, in seconds, when it gave one. */
  retryAfterSeconds?: number;
}

/** Largest 503 body read for a verifier's `keys_unavailable` (it answers a few dozen bytes). */
const MAX_UNAVAILABLE_BODY_BYTES = 4096;

/**
 * Whether a 503 is the answer of a server that verifies tokens with this package and could not
 * load Google's signing keys: JSON `{error: "temporarily_unavailable", error_description:
 * "keys_unavailable"}`. Reads a copy of a small JSON body only; anything else is not.
 */
async function isKeysUnavailable(response: Response): Promise<boolean> {
  if (!/json/i.test(response.headers.get('content-type') ?? '')) return false;
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > MAX_UNAVAILABLE_BODY_BYTES) return false;
  const reader = response.clone().body?.getReader();
  if (!reader) return false;
  let text = '';
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const {done, value} = await reader.read();
      if (done) break;
      text += decoder.decode(value, {stream: true});
      if (text.length > MAX_UNAVAILABLE_BODY_BYTES) return false;
    }
    const body = JSON.parse(text) as {error_description?: unknown};
    return body.error_description === 'keys_unavailable';
  } catch {
    return false;
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}

/** A fetch for below `googleAuthFetch`, and the last refusal it saw. */
export interface RefusalWatch {
  fetch: FetchLike;
  /**
   * The refusal of the last answer, or undefined when the last answer was not a 401/403 (a
   * 401 that the retry with a fresh token cured is followed by a success, which clears it).
   */
  last(): Refusal | undefined;
}

/** Watches every request the command sends with `auth`'s credential. */
export function watchRefusals(auth: CommandAuth, log: Logger): RefusalWatch {
  let refusal: Refusal | undefined;
  const fetchAndWatch: FetchLike = async (input, init) => {
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
        // RFC 6750: a bare `Bearer` challenge answers a request that carried no token.
        noTokenSeen: /^\s*bearer\s*$/i.test(response.headers.get('www-authenticate') ?? ''),
        iap: response.headers.get('x-goog-iap-generated-response') === 'true',
        ...(verifier ? {verifier} : {}),
      };
      log.debug(refusal.explanation);
    } else if (response.status === 503 && (await isKeysUnavailable(response))) {
      const retryAfter = Number(response.headers.get('retry-after'));
      refusal = {
        status: 503,
        origin: new URL(target).origin,
        explanation: `HTTP 503 from ${new URL(target).origin}: keys_unavailable`,
        principal: typeof email === 'string' ? email : undefined,
        verifier: {code: 'keys_unavailable'},
        noTokenSeen: false,
        iap: false,
        ...(Number.isInteger(retryAfter) && retryAfter > 0 ? {retryAfterSeconds: retryAfter} : {}),
      };
      log.debug(refusal.explanation);
    } else {
      refusal = undefined;
    }
    return response;
  };
  return {fetch: fetchAndWatch, last: () => refusal};
}

/** What was refused, for the sentence: `service` (an MCP server) or `agent` (A2A). */
export type RefusedTarget = 'service' | 'agent';

/** A 401 or 403, in words: the front's (Cloud Run, IAP) or the server's own policy. */
export function explainRefusal(
  refusal: Refusal,
  context: {auth: CommandAuth; doctor: string; target: RefusedTarget; cause: unknown},
): CliError {
  const {auth, doctor, target, cause} = context;
  const from = `HTTP ${refusal.status} from ${refusal.origin}`;
  const who = refusal.principal ?? 'the caller';
  const refuse = (message: string, hint: string) =>
    new CliError(`${from}: ${message}`, ExitCode.AUTH, {hint, cause});

  if (refusal.status === 503) {
    // Not the credential's fault: exit 1, as for any server that cannot answer now.
    const words = explainVerifierRefusal(
      {code: 'keys_unavailable'},
      {url: refusal.origin, credentialSent: true},
    );
    const wait = refusal.retryAfterSeconds
      ? ` in ${refusal.retryAfterSeconds} s (Retry-After)`
      : '';
    return new CliError(`${from}: ${words}`, ExitCode.REMOTE, {
      hint: `Try again${wait}. If it lasts, the server cannot reach the keys it trusts (its jwksUrl): tell its operator.`,
      cause,
    });
  }
  if (refusal.verifier) {
    const words = explainVerifierRefusal(refusal.verifier, {
      url: refusal.origin,
      credentialSent: true,
      tokenKind: auth.audience !== undefined ? 'id' : 'access',
      header: auth.header,
      ...(auth.audience !== undefined ? {audience: auth.audience} : {}),
      ...(refusal.principal ? {principal: refusal.principal} : {}),
    });
    return refuse(words, `Run ${doctor} to see why.`);
  }
  const principal = refusal.principal ? ` (${refusal.principal})` : '';
  if (refusal.status === 401 && refusal.noTokenSeen && auth.header !== 'authorization') {
    return refuse(
      `the server answered as if no token had been sent (a bare WWW-Authenticate: Bearer challenge); it does not read ${auth.header}.`,
      `Use --header authorization, or run ${doctor} to see why.`,
    );
  }
  if (refusal.status === 401 && auth.audienceSource === 'gcloud') {
    return refuse(
      `the server refused gcloud's identity token${principal}, whose audience is gcloud's own client id: Cloud Run accepts it from an invoker, but IAP, Cloud Run functions with a custom audience and servers that verify tokens themselves want their own audience.`,
      `Add --impersonate SA_EMAIL to mint for the ${target}'s audience as a service account, or run ${doctor} to see why.`,
    );
  }
  if (refusal.status === 401) {
    const what =
      auth.audience !== undefined
        ? `the ID token for audience ${auth.audience}`
        : 'the access token';
    return refuse(
      `the front refused ${what}${principal}; usually the audience is not the one the ${target} expects.`,
      `Run ${doctor} to see why (--verbose shows more).`,
    );
  }
  if (refusal.iap) {
    return refuse(
      `IAP refused ${who} (it needs roles/iap.httpsResourceAccessor).`,
      `Grant it with gcloud iap web add-iam-policy-binding --member=${member(refusal.principal)} --role=roles/iap.httpsResourceAccessor, or run ${doctor}.`,
    );
  }
  if (auth.header === 'proxy-authorization') {
    return refuse(
      `only IAP reads Proxy-Authorization. Behind IAP, ${who} lacks roles/iap.httpsResourceAccessor; on Cloud Run without IAP, the front answered as if no token had been sent.`,
      `Without IAP, use --header authorization; or run ${doctor} to see why.`,
    );
  }
  return refuse(
    `${who} is not allowed to invoke this ${target} (it needs roles/run.invoker).`,
    `Grant it with gcloud run services add-iam-policy-binding SERVICE --member=${member(refusal.principal)} --role=roles/run.invoker, or run ${doctor}.`,
  );
}

/** The IAM member to grant: `user:` for a developer (`--gcloud`), `serviceAccount:` otherwise. */
function member(principal: string | undefined): string {
  return principal ? iamMember(principal) : 'serviceAccount:EMAIL';
}
