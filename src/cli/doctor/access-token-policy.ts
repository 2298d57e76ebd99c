/**
 * Where `doctor` may send a Google access token to compare how the target answers one.
 *
 * An access token works for every Google API its scopes allow, for anyone who holds it. A
 * `*.run.app` or `*.cloudfunctions.net` host is not "Google": anyone can deploy one that logs
 * headers. So by default the comparison token goes only to this machine (the emulator, a
 * local proxy), scoped down to `openid` and `userinfo.email` (never `cloud-platform`, which
 * would let its holder mint ID tokens as the caller). Beyond this machine it goes only with
 * `--unsafe-send-access-token`, and never over plain http.
 */

/** The scopes of the comparison access token: enough to be a valid token, nothing more. */
export const DOCTOR_ACCESS_TOKEN_SCOPES: readonly string[] = [
  'openid',
  'https://www.googleapis.com/auth/userinfo.email',
];

/** The flag that lets the comparison token go beyond this machine. */
export const UNSAFE_ACCESS_TOKEN_FLAG = '--unsafe-send-access-token';

/** Whether `hostname` (as `URL.hostname` gives it) is this machine: `localhost`, `127.x.y.z`, `[::1]`. */
export function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    hostname === '::1' ||
    /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(hostname)
  );
}

/** Whether the comparison access token may go to a URL, and if not, why. */
export type AccessTokenProbeDecision = {send: true} | {send: false; reason: string};

/**
 * Decides whether `doctor` sends its comparison access token to `url`: always to this
 * machine; beyond it only when `unsafeSendToTarget` (the flag) is set and the URL is https.
 *
 * @example
 * accessTokenProbeDecision(new URL('https://svc-abc.a.run.app/mcp'), {}); // {send: false, reason: '...'}
 */
export function accessTokenProbeDecision(
  url: URL,
  options: {unsafeSendToTarget?: boolean} = {},
): AccessTokenProbeDecision {
  if (isLoopback(url.hostname)) return {send: true};
  if (!options.unsafeSendToTarget) {
    return {
      send: false,
      reason: `not sent to ${url.hostname}: whoever runs a host can use an access token sent to it as you, so doctor sends one only to this machine unless you pass ${UNSAFE_ACCESS_TOKEN_FLAG} for a service you control`,
    };
  }
  if (url.protocol !== 'https:') {
    return {
      send: false,
      reason: `not sent over ${url.protocol} to ${url.hostname}, even with ${UNSAFE_ACCESS_TOKEN_FLAG}: only over https`,
    };
  }
  return {send: true};
}
