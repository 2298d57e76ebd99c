/**
 * The 401s and 403s a command meets, for every command that sends a request with a credential
 * (`tools`, `call`, `a2a card`, `a2a send`): a fetch that sits below `googleAuthFetch`, logs
 * each request with the token's fingerprint under `--verbose` and remembers the last refusal,
 * and the one set of sentences that say why a front (Cloud Run, IAP) or a server that verifies
 * tokens itself refused, with the IAM binding or flag that fixes it.
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

/** A 401 or 403 the command's fetch saw. */
export interface Refusal {
  status: 401 | 403;
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
