/**
 * Test helpers for the HTTP layer: a tiny recording server on 127.0.0.1 and a fake
 * TokenSource that counts its calls. No module mocks.
 */
import {createServer} from 'node:http';
import type {IncomingHttpHeaders, IncomingMessage, Server, ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import type {
  CredentialDescription,
  Token,
  TokenRequest,
  TokenSource,
} from '../../../src/tokens/token-source.js';

/** One request as the server saw it. */
export interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Answers a request; may write anything to `res`. */
export type Handler = (req: Seen, res: ServerResponse) => void | Promise<void>;

/** A running recording server. */
export interface Loopback {
  origin: string;
  seen: Seen[];
  handler: Handler;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 that records every request and answers with `handler` (default 200 `ok`). */
export async function startLoopback(handler?: Handler): Promise<Loopback> {
  const seen: Seen[] = [];
  const state: Loopback = {
    origin: '',
    seen,
    handler: handler ?? ((_req, res) => void res.end('ok')),
    close: () => Promise.resolve(),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry: Seen = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(entry);
      Promise.resolve(state.handler(entry, res)).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return state;
}

/** A JWT-shaped string (unsigned) with the given claims, like an ID token. */
export function fakeJwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown): string =>
    Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({alg: 'RS256', kid: 'test'})}.${encode(claims)}.c2lnbmF0dXJl`;
}

let nextId = 0;

/**
 * A TokenSource that mints `tok-1`, `tok-2`, ... (or ID-token-shaped JWTs with `jwt: true`),
 * counts its calls and records the requests.
 */
export class FakeTokenSource implements TokenSource {
  readonly id = `fake:${++nextId}`;
  calls = 0;
  readonly requests: TokenRequest[] = [];
  /** Lifetime of minted tokens, ms. */
  lifetimeMs = 3_600_000;
  /** Clock for expiry, epoch ms. */
  now: () => number = Date.now;
  /** Milliseconds each mint takes (so that concurrent callers overlap). */
  delayMs = 5;

  constructor(private readonly options: {jwt?: boolean; email?: string} = {}) {}

  async getToken(request: TokenRequest): Promise<Token> {
    this.calls++;
    this.requests.push(request);
    const n = this.calls;
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const expiresAt = this.now() + this.lifetimeMs;
    const value = this.options.jwt
      ? fakeJwt({
          aud: request.kind === 'id' ? request.audience : undefined,
          email: this.options.email ?? 'sa@test-project.iam.gserviceaccount.com',
          n,
          exp: Math.floor(expiresAt / 1000),
        })
      : `tok-${n}`;
    return {value, expiresAt};
  }

  describe(): Promise<CredentialDescription> {
    return Promise.resolve({kind: 'unknown', origin: 'test', canMintIdTokens: true});
  }
}
