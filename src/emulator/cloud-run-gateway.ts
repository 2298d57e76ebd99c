import {createHash} from 'node:crypto';
import {Agent, createServer, request as httpRequest} from 'node:http';
import type {
  ClientRequest,
  IncomingMessage,
  OutgoingHttpHeaders,
  Server,
  ServerResponse,
} from 'node:http';
import type {AddressInfo} from 'node:net';
import {pipeline} from 'node:stream';
import {ADC_OAUTH_CLIENT_ID, GCLOUD_OAUTH_CLIENT_ID} from '../credentials/gcloud-identity.js';
import {failedOnStaleConnection} from '../util/node-http.js';
import {createIdTokenVerifier} from '../verify/create-id-token-verifier.js';
import type {IdTokenVerifier} from '../verify/create-id-token-verifier.js';
import type {GoogleIdTokenClaims} from '../verify/google-id-token-claims.js';
import {IdTokenVerificationError} from '../verify/id-token-verification-error.js';
import type {IdTokenVerificationCode} from '../verify/id-token-verification-error.js';
import {decodeJwtPayload} from '../tokens/jwt-claims.js';
import {ConnectionGenerations} from './front/connection-generations.js';
import type {IapAssertionIssuer} from './google-emulator.js';
import {sendFrontRefusal} from './front/front-responses.js';
import type {FrontMode} from './front/front-responses.js';
import {findPresentedToken, removeSignature} from './front/presented-token.js';
import {
  appendForwardedFor,
  forwardableRequestHeaders,
  forwardableResponseHeaders,
} from './front/proxy-headers.js';

/** Which Google front a gateway imitates: Cloud Run's (default) or IAP's. */
export type CloudRunGatewayMode = FrontMode;

/** Options of {@link startCloudRunGateway}. */
export interface CloudRunGatewayOptions {
  /**
   * Origin of the container the gateway fronts, e.g. `http://127.0.0.1:8080` (a demo server's
   * `origin`). `http:` only; a path is not allowed (the request path is forwarded as is).
   * Required.
   */
  upstream: string;
  /** Where the signing keys are published, e.g. the emulator's `jwksUrl`. Required. */
  jwksUrl: string;
  /**
   * Accepted `aud` values. Default is `[gateway.url]`, the gateway's own origin (Cloud Run's
   * service URL rule); give custom audiences here. Required in `iap` mode, where the audience
   * is the OAuth client id of the IAP application. In `cloud-run` mode gcloud's OAuth client
   * id (`32555940559.apps.googleusercontent.com`, the `aud` of
   * `gcloud auth print-identity-token` for a user) is accepted as well, as Cloud Run does.
   */
  audiences?: readonly string[];
  /**
   * Emails allowed to invoke (`roles/run.invoker`), compared case-insensitively; an IAM
   * member prefix (`serviceAccount:`, `user:`) is ignored. A valid token whose email is not
   * listed gets 403. Default is anyone with a valid token. An empty list lets no one in.
   */
  invokers?: readonly string[];
  /** TCP port on 127.0.0.1. Default is 0 (any free port). */
  port?: number;
  /**
   * Which front to imitate. `cloud-run` (default): the token is read from
   * `X-Serverless-Authorization` when present, else `Authorization`. `iap`: from
   * `Proxy-Authorization` when present, else `Authorization`; the container also gets
   * `X-Goog-Authenticated-User-Email` and `-Id` (`accounts.google.com:` prefixed), and with
   * `iapIssuer` the signed `x-goog-iap-jwt-assertion`. Status codes follow the Cloud Run
   * rules in both modes.
   */
  mode?: CloudRunGatewayMode;
  /**
   * In `iap` mode, what signs the `x-goog-iap-jwt-assertion` sent to the container for each
   * request let through, as IAP does (ES256; `email` and `sub` name the caller; `aud` is the
   * issuer's `iapAudience`): pass the Google emulator, whose `iapJwksUrl` publishes the keys.
   * Default: none, and the container gets only the unsigned identity headers.
   */
  iapIssuer?: IapAssertionIssuer;
  /** The verifier's clock, in epoch milliseconds. Default is `Date.now`. */
  now?: () => number;
  /**
   * Allowed clock skew when checking `iat` and `exp`, in seconds. Default is 0, so that a
   * token is refused the moment it expires and expiry bugs show in tests.
   */
  clockToleranceSeconds?: number;
}

/**
 * Live counters of a {@link CloudRunGateway}; every request lands in `requests` and in
 * exactly one outcome: `forwarded`, `missingToken` (403), `invalidToken` (401),
 * `revoked` (401), `forbidden` (403), `keysUnavailable` (503), or `clientAborts` when the
 * client left while its token was being checked. A forwarded request may later also count
 * in `upstreamErrors` (502 or a cut response) or `clientAborts`.
 */
export interface CloudRunGatewayStats {
  /** Requests received. */
  requests: number;
  /** Requests with a valid token from an allowed caller, sent to the upstream. */
  forwarded: number;
  /** No token in the header the front reads (403). */
  missingToken: number;
  /** A token that is not a bearer token, or fails verification: bad signature, expired, wrong audience, ... (401). */
  invalidToken: number;
  /** A token revoked with {@link CloudRunGateway.revoke} (401). */
  revoked: number;
  /** A valid token whose caller is not in `invokers` (403). */
  forbidden: number;
  /** The signing keys could not be loaded (503; fails closed). */
  keysUnavailable: number;
  /** The upstream could not be reached (502) or broke off its response. */
  upstreamErrors: number;
  /** The client went away before the response was complete. */
  clientAborts: number;
  /** The `invalidToken` refusals by verifier code (`expired`, `bad_audience`, `bad_signature`, `malformed`, ...). */
  rejections: Partial<Record<IdTokenVerificationCode, number>>;
}

/** Why a token whose `aud` is Application Default Credentials' user client is refused. */
const ADC_USER_REFUSAL =
  "the token's audience is the OAuth client of Application Default Credentials (a user's ADC login), which Cloud Run does not accept";

/** A running Cloud Run front (see {@link startCloudRunGateway}). */
export interface CloudRunGateway {
  /** `http://127.0.0.1:PORT`: the service URL, and the default audience. */
  readonly url: string;
  /** The audiences the gateway accepts. */
  readonly audiences: readonly string[];
  /** Live counters; read them at any time. */
  readonly stats: Readonly<CloudRunGatewayStats>;
  /** Sets every counter back to zero. */
  resetStats(): void;
  /**
   * From now on this exact token (the JWT text, without `Bearer`) is refused with 401, as
   * if it had been revoked, so a client must fetch a new one.
   */
  revoke(token: string): void;
  /**
   * From now on every token issued (`iat`) in an earlier second than `epochMs` is refused
   * with 401, as after a credential was revoked: every caller must fetch a new token. Tokens
   * issued in the same second as `epochMs` or later pass. Default is now.
   */
  revokeIssuedBefore(epochMs?: number): void;
  /**
   * Restarts as a new front instance on the same URL would: the verifier starts cold (keys
   * fetched again, no verified tokens remembered), and the open connections are retired
   * without a gap (requests in flight are answered, each connection closes after its next
   * response or when idle). Revocations stay: they are Google's, not the front's.
   */
  restart(): void;
  /** Closes the server, open client sockets and pooled upstream sockets. */
  close(): Promise<void>;
}

const MODES: readonly FrontMode[] = ['cloud-run', 'iap'];

/** Largest request body kept to send again after the keep-alive race, in bytes (1 MiB). */
const MAX_REPLAYED_BODY_BYTES = 1024 * 1024;

function zeroStats(): CloudRunGatewayStats {
  return {
    requests: 0,
    forwarded: 0,
    missingToken: 0,
    invalidToken: 0,
    revoked: 0,
    forbidden: 0,
    keysUnavailable: 0,
    upstreamErrors: 0,
    clientAborts: 0,
    rejections: {},
  };
}

function validateOptions(options: CloudRunGatewayOptions): {
  upstream: URL;
  mode: FrontMode;
  port: number;
} {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('startCloudRunGateway needs options with at least {upstream, jwksUrl}');
  }
  let upstream: URL;
  try {
    upstream = new URL(options.upstream);
  } catch {
    throw new TypeError(
      'options.upstream must be an absolute http: origin, e.g. http://127.0.0.1:8080',
    );
  }
  if (upstream.protocol !== 'http:' || (upstream.pathname !== '/' && upstream.pathname !== '')) {
    throw new TypeError(
      'options.upstream must be an http: origin without a path, e.g. http://127.0.0.1:8080',
    );
  }
  if (typeof options.jwksUrl !== 'string' || options.jwksUrl === '') {
    throw new TypeError(
      "options.jwksUrl is required: the JWKS URL of the issuer (the emulator's jwksUrl)",
    );
  }
  const mode = options.mode ?? 'cloud-run';
  if (!MODES.includes(mode)) throw new TypeError("options.mode must be 'cloud-run' or 'iap'");
  if (options.audiences !== undefined) {
    if (!Array.isArray(options.audiences) || options.audiences.length === 0) {
      throw new TypeError('options.audiences must be a non-empty array of strings when set');
    }
    if (options.audiences.some((aud) => typeof aud !== 'string' || aud === '')) {
      throw new TypeError('options.audiences must contain only non-empty strings');
    }
  } else if (mode === 'iap') {
    throw new TypeError(
      "options.audiences is required in 'iap' mode: the OAuth client id of the IAP application",
    );
  }
  if (options.iapIssuer !== undefined) {
    if (mode !== 'iap') {
      throw new TypeError(
        "options.iapIssuer applies to mode 'iap' only: Cloud Run signs no assertion",
      );
    }
    if (
      options.iapIssuer === null ||
      typeof options.iapIssuer !== 'object' ||
      typeof options.iapIssuer.mintIapAssertion !== 'function' ||
      typeof options.iapIssuer.iapAudience !== 'string'
    ) {
      throw new TypeError(
        'options.iapIssuer must be the Google emulator (or another IapAssertionIssuer)',
      );
    }
  }
  if (options.invokers !== undefined) {
    if (!Array.isArray(options.invokers) || options.invokers.some((e) => typeof e !== 'string')) {
      throw new TypeError('options.invokers must be an array of emails');
    }
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError('options.port must be an integer from 0 to 65535');
  }
  return {upstream, mode, port};
}

function invokerEmail(member: string): string {
  return member
    .replace(/^(serviceAccount|user):/i, '')
    .trim()
    .toLowerCase();
}

function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Starts an emulation of the front Google puts before a Cloud Run service with "Require
 * authentication" (or before an IAP application): a streaming reverse proxy on 127.0.0.1
 * that checks every request's ID token with the package's verifier against the emulator's
 * keys, then forwards it to `upstream`.
 *
 * Rules (Cloud Run's): no token -> 403; a token that is not a bearer JWT, has a bad
 * signature, is expired or has the wrong audience -> 401 with
 * `WWW-Authenticate: Bearer error="invalid_token"`; a valid token from a caller not in
 * `invokers` -> 403. A developer's `gcloud auth print-identity-token` (`aud` is gcloud's
 * OAuth client id) is accepted from an invoker; a user's ADC ID token (`aud` is the ADC
 * OAuth client id) is refused with 403. `X-Serverless-Authorization`, when present, is checked instead of
 * `Authorization`, which then passes through untouched. The checked token reaches the
 * upstream in the header it came in, with its signature replaced by
 * `SIGNATURE_REMOVED_BY_GOOGLE`. Bodies stream both ways (server-sent events flow event by
 * event); an unreachable upstream gives 502.
 *
 * @example
 * const emu = await startGoogleEmulator();
 * const demo = await startDemoMcpServer();
 * const front = await startCloudRunGateway({upstream: demo.origin, jwksUrl: emu.jwksUrl});
 * const token = await emu.mintIdToken({audience: front.url});
 * await fetch(`${front.url}/mcp`, {headers: {authorization: `Bearer ${token}`}, ...});
 */
export async function startCloudRunGateway(
  options: CloudRunGatewayOptions,
): Promise<CloudRunGateway> {
  const {upstream, mode, port} = validateOptions(options);
  const invokers =
    options.invokers === undefined ? undefined : new Set(options.invokers.map(invokerEmail));
  const revoked = new Set<string>();
  /** Tokens issued before this second (epoch seconds) are revoked; 0 when none. */
  let revokedBeforeSecond = 0;
  const issuedBeforeRevocation = (token: string): boolean => {
    if (revokedBeforeSecond === 0) return false;
    const iat = decodeJwtPayload(token)?.iat;
    return typeof iat !== 'number' || iat < revokedBeforeSecond;
  };
  const stats = zeroStats();
  const agent = new Agent({keepAlive: true});
  // Built after listen: the default audience is the gateway's own origin.
  let verify: IdTokenVerifier | undefined;
  let audiences: readonly string[] = [];

  function count(outcome: Exclude<keyof CloudRunGatewayStats, 'rejections'>): void {
    stats[outcome]++;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    count('requests');
    const path = new URL(req.url ?? '/', 'http://front').pathname;
    const refuse = (status: 401 | 403 | 503, reason: string): void =>
      sendFrontRefusal(res, status, {mode, path, reason});

    const presented = findPresentedToken(req.headers, mode);
    if (presented.kind === 'none') {
      count('missingToken');
      refuse(403, 'no credentials were presented');
      return;
    }
    if (presented.kind === 'unusable') {
      count('invalidToken');
      stats.rejections.malformed = (stats.rejections.malformed ?? 0) + 1;
      refuse(401, 'the credentials are not a bearer token');
      return;
    }
    if (revoked.has(tokenKey(presented.token)) || issuedBeforeRevocation(presented.token)) {
      count('revoked');
      refuse(401, 'the token has been revoked');
      return;
    }
    let claims: GoogleIdTokenClaims;
    try {
      claims = await verify!(presented.token);
    } catch (error) {
      if (error instanceof IdTokenVerificationError && error.code !== 'keys_unavailable') {
        count('invalidToken');
        stats.rejections[error.code] = (stats.rejections[error.code] ?? 0) + 1;
        refuse(401, `the token was refused (${error.code})`);
      } else {
        count('keysUnavailable');
        refuse(503, 'the signing keys could not be loaded');
      }
      return;
    }
    if (
      mode === 'cloud-run' &&
      claims.aud === ADC_OAUTH_CLIENT_ID &&
      !audiences.includes(claims.aud)
    ) {
      count('forbidden');
      refuse(403, ADC_USER_REFUSAL);
      return;
    }
    if (invokers && !invokers.has((claims.email ?? '').toLowerCase())) {
      count('forbidden');
      refuse(403, 'the caller is not allowed to invoke this service');
      return;
    }
    const assertion =
      mode === 'iap' && options.iapIssuer
        ? await options.iapIssuer.mintIapAssertion({
            ...(claims.email ? {email: claims.email} : {}),
            sub: `accounts.google.com:${claims.sub}`,
          })
        : undefined;
    if (res.destroyed) {
      // The client left while its token was being checked.
      count('clientAborts');
      return;
    }
    count('forwarded');
    forward(req, res, presented.header, removeSignature(presented.token), claims, assertion);
  }

  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    tokenHeader: string,
    forwardedToken: string,
    claims: GoogleIdTokenClaims,
    iapAssertion: string | undefined,
  ): void {
    const headers: OutgoingHttpHeaders = forwardableRequestHeaders(req.headers);
    if (tokenHeader !== 'proxy-authorization') headers[tokenHeader] = `Bearer ${forwardedToken}`;
    if (mode === 'iap') {
      if (claims.email)
        headers['x-goog-authenticated-user-email'] = `accounts.google.com:${claims.email}`;
      headers['x-goog-authenticated-user-id'] = `accounts.google.com:${claims.sub}`;
      if (iapAssertion) headers['x-goog-iap-jwt-assertion'] = iapAssertion;
    }
    const forwardedFor = appendForwardedFor(
      req.headers['x-forwarded-for'],
      req.socket.remoteAddress,
    );
    if (forwardedFor) headers['x-forwarded-for'] = forwardedFor;
    headers['x-forwarded-proto'] = 'http';

    let clientGone = false;
    let current: ClientRequest | undefined;
    // The body is kept (up to a bound) while it streams through, so that a request that hit
    // the keep-alive race (the upstream closed the idle connection just as it was reused)
    // can be sent again on a new connection. It never reached the upstream, so this is safe.
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let replayable = true;
    req.on('data', (chunk: Buffer) => {
      if (!replayable) return;
      keptBytes += chunk.length;
      if (keptBytes > MAX_REPLAYED_BODY_BYTES) {
        replayable = false;
        kept.length = 0;
      } else {
        kept.push(chunk);
      }
    });

    res.on('close', () => {
      if (!res.writableFinished) {
        clientGone = true;
        count('clientAborts');
        current?.destroy();
      }
    });
    req.on('error', () => current?.destroy());

    const send = (fresh: boolean): void => {
      let answered = false;
      const upstreamReq = httpRequest({
        protocol: 'http:',
        hostname: upstream.hostname,
        port: upstream.port || 80,
        method: req.method,
        path: req.url ?? '/',
        headers,
        // A request sent again gets a connection of its own.
        agent: fresh ? false : agent,
      });
      current = upstreamReq;

      upstreamReq.on('error', (error) => {
        if (clientGone || current !== upstreamReq) return;
        if (
          !fresh &&
          replayable &&
          req.complete &&
          failedOnStaleConnection(upstreamReq, error, answered)
        ) {
          send(true);
          return;
        }
        count('upstreamErrors');
        if (res.headersSent) {
          res.destroy();
        } else {
          sendFrontRefusal(res, 502, {
            mode,
            path: new URL(req.url ?? '/', 'http://front').pathname,
          });
        }
      });

      upstreamReq.on('response', (upstreamRes) => {
        answered = true;
        kept.length = 0;
        const headers = forwardableResponseHeaders(upstreamRes.headers);
        const status = upstreamRes.statusCode ?? 502;
        if (upstreamRes.statusMessage) res.writeHead(status, upstreamRes.statusMessage, headers);
        else res.writeHead(status, headers);
        // Send the status line and headers now: an event stream may not write for a while.
        res.flushHeaders();
        pipeline(upstreamRes, res, (error) => {
          if (error && !clientGone && !res.writableFinished) count('upstreamErrors');
        });
      });

      if (fresh) upstreamReq.end(Buffer.concat(kept, keptBytes));
      else req.pipe(upstreamReq);
    };
    send(false);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });

  const generations = new ConnectionGenerations(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  audiences = [...(options.audiences ?? [url])];
  // Cloud Run also takes gcloud's identity tokens (from invokers) and answers a user's ADC
  // ID token with 403 rather than 401: the verifier lets both through to those checks.
  const verifiable =
    mode === 'cloud-run'
      ? [...new Set([...audiences, GCLOUD_OAUTH_CLIENT_ID, ADC_OAUTH_CLIENT_ID])]
      : audiences;
  const newVerifier = (): IdTokenVerifier =>
    createIdTokenVerifier({
      audience: verifiable,
      jwksUrl: options.jwksUrl,
      clockToleranceSeconds: options.clockToleranceSeconds ?? 0,
      ...(options.now ? {now: options.now} : {}),
    });
  try {
    verify = newVerifier();
  } catch (error) {
    server.close();
    throw error;
  }

  return {
    url,
    audiences,
    stats,
    resetStats() {
      Object.assign(stats, zeroStats());
    },
    revoke(token: string) {
      if (typeof token !== 'string' || token === '') {
        throw new TypeError('revoke(token) needs the token text');
      }
      revoked.add(tokenKey(token));
    },
    revokeIssuedBefore(epochMs = (options.now ?? Date.now)()) {
      if (typeof epochMs !== 'number' || !Number.isFinite(epochMs)) {
        throw new TypeError('revokeIssuedBefore(epochMs) needs a time in epoch milliseconds');
      }
      revokedBeforeSecond = Math.max(revokedBeforeSecond, Math.floor(epochMs / 1000));
    },
    restart() {
      generations.retire();
      verify = newVerifier();
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
    },
  };
}
