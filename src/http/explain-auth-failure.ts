/**
 * Words for a 401 or 403 from a service behind Google's front (Cloud Run, Cloud Run
 * functions, IAP): what the status usually means there, and what was sent. Never includes a
 * token; at most the principal's email and the token's audience.
 */
import {isServiceAccountEmail} from '../credentials/gcloud-identity.js';

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
  const said = typeof response === 'number' ? undefined : frontSaid(response);
  const parts: string[] = [];
  if (status === 401) {
    parts.push(`HTTP 401${from}: the credential was refused.`);
    if (said) parts.push(`The server said ${said}.`);
    parts.push(explain401(ctx));
  } else {
    parts.push(`HTTP 403${from}: the caller is not allowed in.`);
    if (said) parts.push(`The server said ${said}.`);
    parts.push(explain403(ctx));
  }
  return parts.join(' ');
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
  // A user (a developer's gcloud identity) is bound as `user:`, a service account as `serviceAccount:`.
  const member = ctx?.principal
    ? `${isServiceAccountEmail(ctx.principal) ? 'serviceAccount' : 'user'}:${ctx.principal}`
    : 'serviceAccount:EMAIL';
  const header = ctx?.header ? `the ${ctx.header} header` : 'the token';
  return `Usual causes: ${who} lacks roles/run.invoker on the service (gcloud run services add-iam-policy-binding SERVICE --region=REGION --member=${member} --role=roles/run.invoker; behind IAP the role is roles/iap.httpsResourceAccessor), or no token reached the front (a proxy or client dropped ${header}). A 403 is not retried.`;
}

function inHeader(ctx: AuthFailureContext): string {
  return ctx.header ? ` in ${ctx.header}` : '';
}

/** The `error_description` (or `error`) of a `WWW-Authenticate` header, quoted for safe display. */
function frontSaid(response: Response): string | undefined {
  const header = response.headers.get('www-authenticate');
  if (!header) return undefined;
  const match =
    /error_description="([^"]{1,200})"/.exec(header) ?? /error="([^"]{1,100})"/.exec(header);
  return match?.[1] ? JSON.stringify(match[1]) : undefined;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return JSON.stringify(url);
  }
}
