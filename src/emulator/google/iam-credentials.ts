/**
 * iamcredentials.googleapis.com: `:generateIdToken` and `:generateAccessToken` of
 * `/v1/projects/-/serviceAccounts/{email}`. The caller is the bearer of an access token the
 * emulator issued (or of a self-signed JWT of a key it issued); impersonation is allowed
 * unless denied with `denyImpersonation`, hop by hop along `delegates`.
 */
import {checkServiceAccountJwt} from './assertions.js';
import {mintIdToken, rfc3339} from './context.js';
import type {EmulatorContext} from './context.js';
import type {EmulatorEndpoint} from './endpoints.js';
import {bearerToken, googleApiError, jsonReply, parseBody} from './http.js';
import type {EmulatorReply, EmulatorRequest} from './http.js';

/** Longest access-token lifetime `generateAccessToken` grants, seconds. */
export const MAX_IMPERSONATED_LIFETIME_SECONDS = 3600;

const IAM_PATH =
  /^\/v1\/projects\/([^/]+)\/serviceAccounts\/([^/:]+):(generateIdToken|generateAccessToken)$/;

/** The endpoint an iamcredentials path counts under, or `undefined` when it is not one. */
export function classifyIamPath(path: string): EmulatorEndpoint | undefined {
  const match = IAM_PATH.exec(path);
  if (!match) return undefined;
  return match[3] === 'generateIdToken' ? 'iam.generateIdToken' : 'iam.generateAccessToken';
}

/** Whether `email` can be impersonated in the emulator (any `*.gserviceaccount.com` account). */
export function isServiceAccountEmail(context: EmulatorContext, email: string): boolean {
  return (
    /^[^@\s/]+@([A-Za-z0-9-]+\.)*gserviceaccount\.com$/.test(email) ||
    email === context.metadataServiceAccount ||
    context.identities.hasServiceAccount(email)
  );
}

const UNAUTHENTICATED =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

/** The principal behind the request's bearer token, or `undefined` when it is not valid. */
export function authenticateCaller(
  context: EmulatorContext,
  request: EmulatorRequest,
): string | undefined {
  const token = bearerToken(request.headers);
  if (!token) return undefined;
  const record = context.identities.accessToken(token, context.now());
  if (record) return record.email;
  // A self-signed JWT (google-auth-library's JWTAccess) of a key the emulator issued.
  const check = checkServiceAccountJwt(context, token, {
    audience: (aud) =>
      aud === undefined ||
      aud.startsWith('https://iamcredentials.googleapis.com/') ||
      aud.startsWith(`${context.url}/`),
    expectedAudience: 'https://iamcredentials.googleapis.com/',
  });
  if (!check.ok) return undefined;
  const sub = check.payload.sub;
  return sub === undefined || sub === check.email ? check.email : undefined;
}

function delegateEmail(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^projects\/[^/]+\/serviceAccounts\/(.+)$/.exec(value);
  return match ? match[1] : value;
}

function parseLifetime(value: unknown): number | undefined | 'invalid' {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return 'invalid';
  const match = /^(\d+)(\.\d+)?s$/.exec(value);
  if (!match) return 'invalid';
  const seconds = Number(match[1]);
  return seconds > 0 ? seconds : 'invalid';
}

/** Handles `POST /v1/projects/-/serviceAccounts/{email}:generateIdToken|generateAccessToken`. */
export function handleIam(context: EmulatorContext, request: EmulatorRequest): EmulatorReply {
  const match = IAM_PATH.exec(request.url.pathname);
  if (!match) return googleApiError(404, 'Not found');
  if (request.method !== 'POST') return googleApiError(405, 'Method not allowed');
  const method = match[3] as 'generateIdToken' | 'generateAccessToken';
  const permission =
    method === 'generateIdToken'
      ? 'iam.serviceAccounts.getOpenIdToken'
      : 'iam.serviceAccounts.getAccessToken';
  const caller = authenticateCaller(context, request);
  if (!caller) return googleApiError(401, UNAUTHENTICATED);
  let target: string;
  try {
    target = decodeURIComponent(match[2] ?? '');
  } catch {
    return googleApiError(400, 'Invalid service account name.');
  }
  const body = parseBody(request);
  if (!body) return googleApiError(400, 'Invalid JSON payload received.');
  const rawDelegates = body.delegates ?? [];
  if (!Array.isArray(rawDelegates))
    return googleApiError(400, "Invalid value at 'delegates': expected a list of strings.");
  const delegates: string[] = [];
  for (const value of rawDelegates) {
    const email = delegateEmail(value);
    if (!email)
      return googleApiError(400, "Invalid value at 'delegates': expected a list of strings.");
    delegates.push(email);
  }
  for (const email of [...delegates, target]) {
    if (!isServiceAccountEmail(context, email))
      return googleApiError(404, `Not found; Gaia id not found for email ${email}`);
  }
  const chain = [caller, ...delegates, target];
  for (let i = 0; i + 1 < chain.length; i++) {
    const from = chain[i] as string;
    const to = chain[i + 1] as string;
    if (context.identities.isDenied(from, to)) {
      return googleApiError(
        403,
        `Permission '${permission}' denied on resource (or it may not exist).`,
      );
    }
  }
  if (method === 'generateIdToken') {
    const audience = body.audience;
    if (typeof audience !== 'string' || audience === '')
      return googleApiError(400, 'Invalid value for audience: must be a non-empty string.');
    const includeEmail = body.includeEmail === true || body.includeEmail === 'true';
    const useEmailAzp = body.useEmailAzp === true || body.useEmailAzp === 'true';
    const token = mintIdToken(context, {
      email: target,
      audience,
      includeEmail,
      ...(useEmailAzp ? {azp: target} : {}),
    });
    return jsonReply(200, {token});
  }
  const scope = body.scope;
  if (
    !Array.isArray(scope) ||
    scope.length === 0 ||
    !scope.every((s) => typeof s === 'string' && s !== '')
  ) {
    return googleApiError(400, 'Scope required.');
  }
  const requested = parseLifetime(body.lifetime);
  if (requested === 'invalid')
    return googleApiError(
      400,
      'Invalid value at \'lifetime\': expected a duration such as "3600s".',
    );
  if (requested !== undefined && requested > MAX_IMPERSONATED_LIFETIME_SECONDS) {
    return googleApiError(
      400,
      `The lifetime of the token exceeds the allowed maximum of ${MAX_IMPERSONATED_LIFETIME_SECONDS}s.`,
    );
  }
  const lifetime = Math.min(
    requested ?? MAX_IMPERSONATED_LIFETIME_SECONDS,
    context.tokenLifetimeSeconds(),
  );
  const expiresAt = context.now() + lifetime * 1000;
  const accessToken = context.identities.issueAccessToken({
    email: target,
    kind: 'impersonated',
    scopes: scope as string[],
    expiresAt,
  });
  return jsonReply(200, {accessToken, expireTime: rfc3339(expiresAt)});
}
