/**
 * The key URLs of an emulator named by `GOOGLE_AUTH_EMULATOR_HOST`, for a server that verifies
 * tokens against an emulator running in another process. A verifier never follows that
 * variable by itself; passing one of these as its `jwksUrl` is the explicit opt-in.
 */
import {EMULATOR_HOST_ENV, resolveEmulatorHost} from '../tokens/google-routing.js';

function hostOf(env: NodeJS.ProcessEnv, helper: string): string {
  const host = resolveEmulatorHost(undefined, env);
  if (host === undefined) {
    throw new TypeError(
      `${helper}() needs ${EMULATOR_HOST_ENV}=127.0.0.1:PORT (the emulator's host, as \`mcp-google-auth emulator\` prints it)`,
    );
  }
  return host;
}

/**
 * `http://HOST/oauth2/v3/certs` for the emulator at `GOOGLE_AUTH_EMULATOR_HOST`: the ID-token
 * keys, as a verifier's `jwksUrl`. Throws a TypeError when the variable is unset or malformed
 * (and the verifier refuses a non-loopback `http:` URL).
 *
 * @example
 * const guard = requireGoogleIdToken({audience, jwksUrl: emulatorJwksUrl()});
 */
export function emulatorJwksUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `http://${hostOf(env, 'emulatorJwksUrl')}/oauth2/v3/certs`;
}

/**
 * `http://HOST/iap/verify/public_key-jwk` for the emulator at `GOOGLE_AUTH_EMULATOR_HOST`:
 * IAP's keys, as `verifyIapJwt`'s `jwksUrl`. Throws a TypeError when the variable is unset.
 *
 * @example
 * const guard = requireGoogleIdToken({front: 'iap', audience, jwksUrl: emulatorIapJwksUrl()});
 */
export function emulatorIapJwksUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `http://${hostOf(env, 'emulatorIapJwksUrl')}/iap/verify/public_key-jwk`;
}
