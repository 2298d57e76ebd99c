/**
 * Key publication: `/oauth2/v3/certs` (JWK set), `/oauth2/v1/certs` (PEM certificates by
 * `kid`, what google-auth-library's `OAuth2Client.verifyIdToken` fetches on Node),
 * `/.well-known/openid-configuration`, and IAP's ES256 keys at `/iap/verify/public_key-jwk`
 * (www.gstatic.com's path).
 */
import type {EmulatorContext} from './context.js';
import {GOOGLE_ISSUER} from './context.js';
import {jsonReply} from './http.js';
import type {EmulatorReply} from './http.js';

/** How long clients may cache the published keys, seconds. */
export const JWKS_MAX_AGE_SECONDS = 300;

const CACHE_HEADERS = {
  'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}, must-revalidate, no-transform`,
};

/** `GET /oauth2/v3/certs`. */
export function handleJwks(context: EmulatorContext): EmulatorReply {
  return jsonReply(200, context.keys.jwks(), CACHE_HEADERS);
}

/** `GET /iap/verify/public_key-jwk`: IAP's signing keys. */
export function handleIapJwks(context: EmulatorContext): EmulatorReply {
  return jsonReply(200, context.iapKeys.jwks(), CACHE_HEADERS);
}

/** `GET /oauth2/v1/certs`. */
export function handlePemCerts(context: EmulatorContext): EmulatorReply {
  return jsonReply(200, context.keys.pemCertificates(), CACHE_HEADERS);
}

/** `GET /.well-known/openid-configuration`; endpoints point at the emulator itself. */
export function handleOpenIdConfiguration(context: EmulatorContext): EmulatorReply {
  return jsonReply(
    200,
    {
      issuer: GOOGLE_ISSUER,
      authorization_endpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
      token_endpoint: `${context.url}/token`,
      jwks_uri: `${context.url}/oauth2/v3/certs`,
      response_types_supported: [
        'code',
        'token',
        'id_token',
        'code token',
        'code id_token',
        'token id_token',
        'code token id_token',
        'none',
      ],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      claims_supported: ['aud', 'email', 'email_verified', 'exp', 'iat', 'iss', 'sub', 'azp'],
      grant_types_supported: [
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
      ],
    },
    {'cache-control': 'public, max-age=3600'},
  );
}
