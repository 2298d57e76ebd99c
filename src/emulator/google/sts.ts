/**
 * sts.googleapis.com `POST /v1/token`: RFC 8693 token exchange of a workload identity
 * federation subject token (written by the emulator for an external_account file) for a
 * federated access token.
 */
import type {EmulatorContext} from './context.js';
import {jsonReply, oauthError, parseBody, stringField} from './http.js';
import type {EmulatorReply, EmulatorRequest} from './http.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Handles `POST /v1/token`. */
export function handleSts(context: EmulatorContext, request: EmulatorRequest): EmulatorReply {
  const body = parseBody(request);
  if (!body)
    return oauthError(400, 'invalid_request', 'The request body is not form-encoded or JSON.');
  const grantType = stringField(body, 'grant_type');
  if (grantType !== TOKEN_EXCHANGE) {
    return oauthError(
      400,
      'unsupported_grant_type',
      `Unsupported grant_type; expected ${TOKEN_EXCHANGE}.`,
    );
  }
  const requestedType = stringField(body, 'requested_token_type');
  if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) {
    return oauthError(
      400,
      'invalid_request',
      `Unsupported requested_token_type; expected ${ACCESS_TOKEN_TYPE}.`,
    );
  }
  const subjectToken = stringField(body, 'subject_token');
  const subjectTokenType = stringField(body, 'subject_token_type');
  const audience = stringField(body, 'audience');
  if (!subjectToken || !subjectTokenType) {
    return oauthError(400, 'invalid_request', 'subject_token and subject_token_type are required.');
  }
  if (!audience) return oauthError(400, 'invalid_request', 'audience is required.');
  const subject = context.identities.subjectToken(subjectToken);
  if (!subject)
    return oauthError(400, 'invalid_grant', 'The subject token is not valid for this emulator.');
  if (subject.audience !== audience) {
    return oauthError(
      400,
      'invalid_target',
      'The target service indicated by the "audience" parameters is invalid.',
    );
  }
  const scopes = (stringField(body, 'scope') ?? 'https://www.googleapis.com/auth/cloud-platform')
    .split(/\s+/)
    .filter((s) => s !== '');
  const lifetime = context.tokenLifetimeSeconds();
  const accessToken = context.identities.issueAccessToken({
    email: subject.principal,
    kind: 'federated',
    scopes,
    expiresAt: context.now() + lifetime * 1000,
  });
  return jsonReply(200, {
    access_token: accessToken,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: lifetime,
  });
}
