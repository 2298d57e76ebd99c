/**
 * Words for a 401 or 403 from a service behind Google's front (Cloud Run, Cloud Run
 * functions, IAP), or from a server that verifies Google ID tokens itself with this
 * package's `requireGoogleIdToken` / `googleIdTokenVerifier`: what the status means there,
 * and what was sent. Never includes a token; at most the principal's email and the token's
 * audience, and what the server said, scrubbed.
 */
import type {IdTokenVerificationCode} from '../credentials/errors.js';
import {scrubSecrets} from '../tokens/sources/redact.js';

/** What a request carried, as far as an explanation needs it. No secrets. */
export interface AuthFailureContext {
  /** The URL (or origin) that answered. */
  url?: string;
  /** Whether a credential was attached to the request that got the answer. */
  credentialSent: boolean;
  /** When nothing was attached: why (e.g. the request went to another origin). */
  withheldReason?: string;
  /** The header that carried the credential, e.g. `authorization`. */
  header?: string;
  /** `id` (OIDC ID token), `access` (OAuth2 access token) or `static` (a fixed credential). */
  tokenKind?: 'id' | 'access' | 'static';
  /** For fixed credentials, what it was: `HTTP bearer token`, `API key`, ... */
  label?: string;
  /** The `aud` of the ID token that was sent. */
  audience?: string;
  /** The email the token was minted for, when known. */
  principal?: string;
  /** Whether the request was already retried once with a fresh token. */
  retried?: boolean;
  /**
   * Whether the request was not retried because a fresh token had been refused shortly before
   * (`googleAuthFetch` `unauthorizedRetryCooldownMs`).
   */
  retrySuppressed?: boolean;
}

const contexts = new WeakMap<Response, AuthFailureContext>();

/** Internal: remembers what a 401/403 response was answering, for {@link explainAuthFailure}. */
export function rememberAuthFailure(response: Response, context: AuthFailureContext): Response {
  contexts.set(response, context);
  return response;
}

/**
 * Explains a 401 or 403 in words a person can act on; `undefined` for any other status.
 * For a Response that `googleAuthFetch` returned, the explanation also says what was sent
 * (which header, ID or access token, audience, principal).
 *
 * @param response - A Response (preferably one `googleAuthFetch` returned) or an HTTP status.
 * @param context - What was sent, when the Response did not come from `googleAuthFetch`.
 * @example
 * const res = await authFetch(url);
 * if (!res.ok) throw new Error(explainAuthFailure(res) ?? `HTTP ${res.status}`);
 */
export function explainAuthFailure(
  response: Response | number,
  context?: AuthFailureContext,
): string | undefined {
  const status = typeof response === 'number' ? response : response.status;
  if (status !== 401 && status !== 403) return undefined;
  const known = typeof response === 'number' ? undefined : contexts.get(response);
  const ctx = context ?? known;
  const from = ctx?.url ? ` from ${originOf(ctx.url)}` : '';
  const challenge =
    typeof response === 'number'
      ? undefined
      : parseAuthChallenge(response.headers.get('www-authenticate'));
  const verifier = verifierRefusal(challenge);
  const parts: string[] = [
    status === 401
      ? `HTTP 401${from}: the credential was refused.`
      : `HTTP 403${from}: the caller is not allowed in.`,
  ];
  if (verifier) {
    parts.push(explainVerifierRefusal(verifier, ctx ?? {credentialSent: true}));
    return parts.join(' ');
  }
  const said = serverSaid(challenge);
  if (said) parts.push(`The server said ${said}.`);
  parts.push(status === 401 ? explain401(ctx) : explain403(ctx));
  return parts.join(' ');
}

/** A `WWW-Authenticate` challenge: its scheme and its auth-params (names in lower case). */
export interface AuthChallenge {
  /** The auth scheme, e.g. `Bearer`. */
  scheme: string;
  /** The auth-params, e.g. `{error: 'invalid_token', error_description: 'bad_audience'}`. */
  params: Record<string, string>;
}

/** Longest `WWW-Authenticate` value read, in characters; a longer one is cut first. */
const MAX_CHALLENGE_LENGTH = 4096;

/**
 * Reads the first challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1): the scheme and
 * its `name=token` / `name="quoted string"` params. `undefined` for no header.
 *
 * @example
 * parseAuthChallenge('Bearer error="invalid_token", error_description="bad_audience"');
 * // {scheme: 'Bearer', params: {error: 'invalid_token', error_description: 'bad_audience'}}
 */
export function parseAuthChallenge(header: string | null | undefined): AuthChallenge | undefined {
  if (!header) return undefined;
  const text = header.slice(0, MAX_CHALLENGE_LENGTH);
  const scheme = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)/.exec(text);
  if (!scheme?.[1]) return undefined;
  const params: Record<string, string> = {};
  const param = /\s*,?\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/gy;
  param.lastIndex = scheme[0].length;
  for (let match = param.exec(text); match; match = param.exec(text)) {
    const name = (match[1] ?? '').toLowerCase();
    // A second scheme starts a new challenge: only the first one is read.
    if (match[2] === undefined && match[3] === undefined) break;
    const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? '');
    if (!(name in params)) params[name] = value;
  }
  return {scheme: scheme[1], params};
}

/**
 * A refusal by a server that verifies Google ID tokens with this package
 * (`requireGoogleIdToken`, or the MCP SDK's `requireBearerAuth` with `googleIdTokenVerifier`):
 * its `WWW-Authenticate` `error_description` is one of the verification codes.
 */
export interface VerifierRefusal {
  /** The verification code the server answered, e.g. `bad_audience`. */
  code: IdTokenVerificationCode;
  /**
   * The audiences the server says it accepts, when its challenge names them in an `audience`
   * param (space-separated); only values shaped like an audience (a URL, an OAuth client id,
   * a short name) are kept.
   */
  audiences?: string[];
}

/** What each verification code means, as the server's own policy (whole sentences). */
const VERIFIER_WORDS: Record<
  IdTokenVerificationCode,
  (ctx: AuthFailureContext, refusal: VerifierRefusal) => string
> = {
  missing: (ctx) =>
    `It found no token: it reads X-Serverless-Authorization, else Authorization: Bearer${
      ctx.header && !['authorization', 'x-serverless-authorization'].includes(ctx.header)
        ? `, and the token went in ${ctx.header}, which it does not read`
        : ''
    }.`,
  malformed: () =>
    'The token is not a well-formed Google ID token (an OAuth2 access token, or a JWT without the claims of an ID token); send an ID token (serviceAccount.useIdToken: true).',
  too_large: () => 'The token is longer than 8 KB, more than any Google ID token.',
  bad_signature: () =>
    "The token's signature does not check against the keys the server trusts (its jwksUrl): a token minted by an emulator sent to a server that trusts Google's keys, or the other way round, is refused this way.",
  unknown_key: () =>
    "The token was signed with a key the server does not know (its jwksUrl): a token minted by an emulator sent to a server that trusts Google's keys, or the other way round, is refused this way.",
  expired: () =>
    "The token had expired when it arrived; a fresh token fixes that, and if it keeps happening, compare this machine's clock with the server's.",
  not_yet_valid: () =>
    "The token's issue time is in the future for the server: this machine's clock or the server's is wrong.",
  lifetime_too_long: () =>
    'The token lives longer than the server allows (its maxTokenLifetimeSeconds); Google ID tokens live one hour.',
  bad_audience: (ctx, refusal) => {
    const sent = ctx.audience ? ` (the token was for ${JSON.stringify(ctx.audience)})` : '';
    if (refusal.audiences && refusal.audiences.length > 0) {
      const wanted = refusal.audiences.map((a) => JSON.stringify(a)).join(' or ');
      return `The token's audience is not the one it checks${sent}: it says it wants ${wanted}. Mint the token for that audience (serviceAccount.audience, or --audience on the command line).`;
    }
    return `The token's audience is not the one it checks${sent}. Ask the server's operator which audience it checks (the audience option of its requireGoogleIdToken or googleIdTokenVerifier) and mint the token for it (serviceAccount.audience, or --audience on the command line).`;
  },
  bad_issuer: () =>
    "The token's issuer is not one it accepts (its issuers option); Google's ID tokens come from https://accounts.google.com.",
  forbidden_principal: (ctx) =>
    `The token is valid, but the server's policy does not admit ${ctx.principal ?? 'its principal'} (its allowedEmails or allowedEmailDomains, or an email that is not verified). Ask the server's operator to allow it; IAM roles such as roles/run.invoker play no part here.`,
  keys_unavailable: () =>
    "It could not load Google's signing keys; a new token will not help, try again later.",
};

/**
 * The {@link VerifierRefusal} in a response's `WWW-Authenticate` (or an already parsed
 * challenge), when the server is one that verifies tokens with this package; else `undefined`.
 */
export function verifierRefusal(
  source: Response | AuthChallenge | string | null | undefined,
): VerifierRefusal | undefined {
  const challenge =
    source instanceof Response
      ? parseAuthChallenge(source.headers.get('www-authenticate'))
      : typeof source === 'string' || source === null || source === undefined
        ? parseAuthChallenge(source)
        : source;
  if (!challenge || challenge.scheme.toLowerCase() !== 'bearer') return undefined;
  const code = challenge.params.error_description;
  if (code === undefined || !Object.hasOwn(VERIFIER_WORDS, code)) return undefined;
  const audiences = (challenge.params.audience ?? '')
    .split(/\s+/)
    .filter((a) => a !== '' && looksLikeAudience(a))
    .slice(0, 5);
  return {
    code: code as IdTokenVerificationCode,
    ...(audiences.length > 0 ? {audiences} : {}),
  };
}

/**
 * Explains a {@link VerifierRefusal} as the policy of the server that answered it (not as
 * Cloud Run's: no IAM role is involved).
 */
export function explainVerifierRefusal(
  refusal: VerifierRefusal,
  context: AuthFailureContext,
): string {
  const where = context.url ? ` at ${originOf(context.url)}` : '';
  return `The server${where} verifies Google ID tokens itself (it answered ${JSON.stringify(refusal.code)}, a verification code of mcp-google-auth's requireGoogleIdToken): this is its own policy, not Cloud Run's. ${VERIFIER_WORDS[refusal.code](context, refusal)}`;
}

/** A URL, an OAuth client id or a short opaque name: what an audience may be. */
function looksLikeAudience(value: string): boolean {
  if (value.length > 200 || /^eyJ/.test(value)) return false;
  if (/^https?:\/\//.test(value)) {
    try {
      new URL(value);
      return true;
    } catch {
      return false;
    }
  }
  return /^[A-Za-z0-9._:/-]+$/.test(value);
}

function explain401(ctx: AuthFailureContext | undefined): string {
  if (ctx && !ctx.credentialSent) {
    return `No credential was sent${ctx.withheldReason ? ` (${ctx.withheldReason})` : ''}.`;
  }
  const generic =
    "Usual causes: the ID token's audience is not what the service expects (Cloud Run wants the service URL's origin, e.g. https://SERVICE-HASH.a.run.app, or a custom audience set on the service; Cloud Run functions 1st gen want the full function URL; IAP wants its OAuth client id); an OAuth2 access token was sent where an ID token is needed (set serviceAccount.useIdToken: true); or the token expired or was revoked.";
  if (!ctx) return generic;
  if (ctx.tokenKind === 'access') {
    return `An OAuth2 access token was sent${inHeader(ctx)}${ctx.principal ? ` for ${ctx.principal}` : ''}; Cloud Run, Cloud Run functions and IAP accept only an OIDC ID token. Set serviceAccount.useIdToken: true (the audience defaults to the target URL's origin).`;
  }
  if (ctx.tokenKind === 'id') {
    const aud = ctx.audience ? ` with audience ${JSON.stringify(ctx.audience)}` : '';
    const who = ctx.principal ? ` for ${ctx.principal}` : '';
    const again = ctx.retried
      ? ' A fresh token was fetched and refused as well.'
      : ctx.retrySuppressed
        ? ' A fresh token was refused shortly before, so no new one was fetched for this request (googleAuthFetch unauthorizedRetryCooldownMs).'
        : '';
    return `An ID token${who}${aud} was sent${inHeader(ctx)}.${again} Check the audience: Cloud Run wants the service URL's origin (e.g. https://SERVICE-HASH.a.run.app) or a custom audience set on the service; Cloud Run functions (1st gen) want the full function URL; IAP wants its OAuth client id. Otherwise the token expired, was revoked, or is not signed by Google.`;
  }
  return `A fixed ${ctx.label ?? 'credential'} was sent${inHeader(ctx)}; the server did not accept it (wrong, expired, or meant for another service). Fixed credentials are never refreshed.`;
}

function explain403(ctx: AuthFailureContext | undefined): string {
  if (ctx && !ctx.credentialSent) {
    return `No token reached the front${ctx.withheldReason ? ` (${ctx.withheldReason})` : ''}; Cloud Run and IAP answer 403 to a request without one.`;
  }
  const who = ctx?.principal ?? 'the principal';
  const member = ctx?.principal ? `serviceAccount:${ctx.principal}` : 'serviceAccount:EMAIL';
  const header = ctx?.header ? `the ${ctx.header} header` : 'the token';
  return `Usual causes: ${who} lacks roles/run.invoker on the service (gcloud run services add-iam-policy-binding SERVICE --region=REGION --member=${member} --role=roles/run.invoker; behind IAP the role is roles/iap.httpsResourceAccessor), or no token reached the front (a proxy or client dropped ${header}). A 403 is not retried.`;
}

function inHeader(ctx: AuthFailureContext): string {
  return ctx.header ? ` in ${ctx.header}` : '';
}

/** The `error_description` (or `error`) of a challenge, scrubbed and quoted for display. */
function serverSaid(challenge: AuthChallenge | undefined): string | undefined {
  const said = challenge?.params.error_description ?? challenge?.params.error;
  if (!said) return undefined;
  return JSON.stringify(scrubSecrets(said.replace(/\s+/g, ' ').trim(), 200));
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return JSON.stringify(url);
  }
}
