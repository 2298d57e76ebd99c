/**
 * `POST /token` of oauth2.googleapis.com: the JWT-bearer grant (service-account keys) and
 * the refresh-token grant (authorized users).
 */
import {createHash} from 'node:crypto';
import {checkServiceAccountJwt} from './assertions.js';
import {mintIdToken} from './context.js';
import type {EmulatorContext} from './context.js';
import {jsonReply, oauthError, parseBody, stringField} from './http.js';
import type {EmulatorReply, EmulatorRequest} from './http.js';

/** Google's token endpoint, the `aud` of JWT-bearer assertions. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The scopes an authorized user created by the emulator has consented to. */
export const AUTHORIZED_USER_SCOPES = [
  'openid',
  'https://www.googleapis.com/auth/userinfo.email',
  'https://www.googleapis.com/auth/cloud-platform',
];

function accepts(context: EmulatorContext, aud: string | undefined): boolean {
  return (
    aud === GOOGLE_TOKEN_URL ||
    aud === 'https://www.googleapis.com/oauth2/v4/token' ||
    aud === 'https://accounts.google.com/o/oauth2/token' ||
    aud === `${context.url}/token`
  );
}

function scopesOf(value: unknown): string[] {
  return typeof value === 'string' ? value.split(/\s+/).filter((scope) => scope !== '') : [];
}

function jwtBearer(context: EmulatorContext, body: Record<string, unknown>): EmulatorReply {
  const assertion = stringField(body, 'assertion');
  if (!assertion)
    return oauthError(400, 'invalid_request', 'Missing required parameter: assertion');
  const check = checkServiceAccountJwt(context, assertion, {
    audience: (aud) => accepts(context, aud),
    expectedAudience: GOOGLE_TOKEN_URL,
  });
  if (!check.ok) return oauthError(400, 'invalid_grant', check.description);
  const {email, payload} = check;
  const subject = payload.sub;
  if (typeof subject === 'string' && subject !== '' && subject !== email) {
    return oauthError(
      401,
      'unauthorized_client',
      'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
    );
  }
  const targetAudience = payload.target_audience;
  if (typeof targetAudience === 'string' && targetAudience !== '') {
    return jsonReply(200, {id_token: mintIdToken(context, {email, audience: targetAudience})});
  }
  const scopes = scopesOf(payload.scope);
  if (scopes.length === 0) {
    return oauthError(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
  }
  const lifetime = context.tokenLifetimeSeconds();
  const accessToken = context.identities.issueAccessToken({
    email,
    kind: 'service_account',
    scopes,
    expiresAt: context.now() + lifetime * 1000,
  });
  return jsonReply(200, {access_token: accessToken, expires_in: lifetime, token_type: 'Bearer'});
}

/** OIDC `at_hash`: base64url of the left half of SHA-256 of the access token. */
function atHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
}

function refreshGrant(context: EmulatorContext, body: Record<string, unknown>): EmulatorReply {
  const clientId = stringField(body, 'client_id');
  const clientSecret = stringField(body, 'client_secret');
  const refreshToken = stringField(body, 'refresh_token');
  if (!refreshToken)
    return oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
  if (!clientId || !context.identities.hasClient(clientId)) {
    return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
  }
  const user = context.identities.userByRefreshToken(refreshToken);
  if (!user || user.clientId !== clientId) return oauthError(400, 'invalid_grant', 'Bad Request');
  if (user.clientSecret !== clientSecret) return oauthError(401, 'invalid_client', 'Unauthorized');
  const lifetime = context.tokenLifetimeSeconds();
  const accessToken = context.identities.issueAccessToken({
    email: user.email,
    kind: 'authorized_user',
    scopes: AUTHORIZED_USER_SCOPES,
    expiresAt: context.now() + lifetime * 1000,
  });
  // As Google does: a user's ID token is always for the OAuth client, whatever
  // target_audience was asked for. This is why user credentials cannot call Cloud Run.
  const idToken = mintIdToken(context, {
    email: user.email,
    audience: user.clientId,
    azp: user.clientId,
    claims: {at_hash: atHash(accessToken)},
  });
  return jsonReply(200, {
    access_token: accessToken,
    expires_in: lifetime,
    scope: AUTHORIZED_USER_SCOPES.join(' '),
    token_type: 'Bearer',
    id_token: idToken,
  });
}

/** Handles `POST /token`. */
export function handleToken(context: EmulatorContext, request: EmulatorRequest): EmulatorReply {
  const body = parseBody(request);
  if (!body)
    return oauthError(400, 'invalid_request', 'The request body is not form-encoded or JSON.');
  const grantType = stringField(body, 'grant_type');
  if (grantType === JWT_BEARER) return jwtBearer(context, body);
  if (grantType === 'refresh_token') return refreshGrant(context, body);
  if (!grantType)
    return oauthError(400, 'invalid_request', 'Missing required parameter: grant_type');
  return oauthError(
    400,
    'unsupported_grant_type',
    `Invalid grant_type: ${JSON.stringify(grantType).slice(0, 80)}`,
  );
}
