/**
 * Where Google's auth endpoints are. Production code reaches Google through
 * google-auth-library; when `GOOGLE_AUTH_EMULATOR_HOST=127.0.0.1:PORT` is set (Google's
 * `*_EMULATOR_HOST` convention), the fetch built here sends requests for Google's auth hosts
 * to that emulator instead. Nothing else about the code path changes.
 */

/** The hosts an emulator stands in for. */
export const GOOGLE_AUTH_HOSTS: readonly string[] = [
  'oauth2.googleapis.com',
  'iamcredentials.googleapis.com',
  'sts.googleapis.com',
  'www.googleapis.com',
  'accounts.google.com',
];

/** Google's JWKS for ID tokens. */
export const GOOGLE_JWKS_URL = 'https://www.googleapis.com/oauth2/v3/certs';

/** The environment variable that routes Google's auth hosts to an emulator. */
export const EMULATOR_HOST_ENV = 'GOOGLE_AUTH_EMULATOR_HOST';

/** A `fetch`-compatible function. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options of {@link createGoogleFetch}. */
export interface GoogleFetchOptions {
  /** `host:port` of an emulator. Default is `GOOGLE_AUTH_EMULATOR_HOST`, when set. */
  emulatorHost?: string;
  /** The fetch that carries requests. Default is the global `fetch`. */
  fetch?: FetchLike;
}

/**
 * The emulator host in force: the option, else `GOOGLE_AUTH_EMULATOR_HOST`. Throws a
 * TypeError when the value is not `host:port`.
 */
export function resolveEmulatorHost(
  explicit?: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const value = (explicit ?? env[EMULATOR_HOST_ENV] ?? '').trim();
  if (value === '') return undefined;
  const host = value.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(host)) {
    throw new TypeError(
      `${EMULATOR_HOST_ENV} must be host:port (e.g. 127.0.0.1:8085), got ${JSON.stringify(value)}`,
    );
  }
  return host;
}

/** Rewrites a URL on one of Google's auth hosts to the emulator; other URLs are unchanged. */
export function routeToEmulator(url: string, emulatorHost: string | undefined): string {
  if (!emulatorHost) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.protocol !== 'https:' || !GOOGLE_AUTH_HOSTS.includes(parsed.hostname)) return url;
  return `http://${emulatorHost}${parsed.pathname}${parsed.search}`;
}

/** The JWKS URL in force: the emulator's when one is configured, else Google's. */
export function googleJwksUrl(emulatorHost?: string): string {
  return routeToEmulator(GOOGLE_JWKS_URL, resolveEmulatorHost(emulatorHost));
}

let warned = false;

/** Emits the one-time warning that Google's auth hosts are being routed to an emulator. */
export function warnEmulatorInForce(host: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(
    `Google auth endpoints are routed to the emulator at ${host} (${EMULATOR_HOST_ENV}); do not use this in production.`,
    {
      code: 'MCP_GOOGLE_AUTH_EMULATOR',
    },
  );
}

/**
 * A fetch for google-auth-library's transporter (`new Gaxios({fetchImplementation})`):
 * requests to Google's auth hosts go to the emulator when one is configured, with a
 * one-time warning; everything else goes out unchanged.
 */
export function createGoogleFetch(options: GoogleFetchOptions = {}): FetchLike {
  const base: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const host = resolveEmulatorHost(options.emulatorHost);
  if (!host) return base;
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const routed = routeToEmulator(url, host);
    if (routed === url) return base(input, init);
    warnEmulatorInForce(host);
    if (input instanceof Request) return base(new Request(routed, input), init);
    return base(routed, init);
  };
}
