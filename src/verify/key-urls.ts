/**
 * Where a verifier's keys come from: its trust anchor. It is the verifier's own explicit
 * setting, Google's by default, and never follows the client's routing (the
 * `GOOGLE_AUTH_EMULATOR_HOST` variable moves google-auth-library's requests, not the keys a
 * server trusts).
 */

/** Google's JWK set for ID tokens. */
export const GOOGLE_JWKS_URL = 'https://www.googleapis.com/oauth2/v3/certs';

/** Google's JWK set for the IAP-signed `x-goog-iap-jwt-assertion` header (ES256 keys). */
export const IAP_JWKS_URL = 'https://www.gstatic.com/iap/verify/public_key-jwk';

/** The client-side routing variable the verifier deliberately ignores. */
const EMULATOR_HOST_ENV = 'GOOGLE_AUTH_EMULATOR_HOST';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The key URL for `option` of `owner`: the explicit `value` when given (`https:`, or `http:` on
 * a loopback host, else a TypeError), otherwise `fallback`.
 */
export function keyUrlOption(
  owner: string,
  option: string,
  value: unknown,
  fallback: string,
): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new TypeError(`${owner}.${option} must be a URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${owner}.${option} must be an absolute URL`);
  }
  if (url.protocol === 'https:') return url.href;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return url.href;
  throw new TypeError(
    `${owner}.${option} must use https: (http: only on a loopback host such as the emulator's 127.0.0.1)`,
  );
}

let warned = false;

/**
 * When `GOOGLE_AUTH_EMULATOR_HOST` is set and a verifier uses Google's keys by default, says
 * once per process that the variable is ignored here and how to opt in.
 */
export function warnIfEmulatorHostIgnored(env: NodeJS.ProcessEnv = process.env): void {
  if (warned || !env[EMULATOR_HOST_ENV]?.trim()) return;
  warned = true;
  process.emitWarning(
    `${EMULATOR_HOST_ENV} is set, but the token verifier ignores it and keeps Google's keys (${GOOGLE_JWKS_URL}): ` +
      'a routing variable must not choose the keys a server trusts. To accept tokens from the emulator, ' +
      "pass jwksUrl explicitly (the emulator's jwksUrl, or emulatorJwksUrl() from mcp-google-auth/emulator).",
    {code: 'MCP_GOOGLE_AUTH_VERIFIER_IGNORES_EMULATOR_HOST'},
  );
}
