import {once} from 'node:events';
import {createServer, request as httpRequest} from 'node:http';
import type {IncomingHttpHeaders, IncomingMessage, Server, ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {SSEClientTransport} from '@modelcontextprotocol/sdk/client/sse.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {Progress} from '@modelcontextprotocol/sdk/types.js';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {startCloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import type {
  CloudRunGateway,
  CloudRunGatewayOptions,
} from '../../src/emulator/cloud-run-gateway.js';
import {startDemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import type {DemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import {startGoogleEmulator} from '../../src/emulator/google-emulator.js';
import type {GoogleEmulator} from '../../src/emulator/google-emulator.js';
import {decodeJwtPayload} from '../../src/tokens/jwt-claims.js';
import {verifyIapJwt} from '../../src/verify/index.js';

const CALLER = 'caller@emulator-project.iam.gserviceaccount.com';
const OTHER = 'someone-else@emulator-project.iam.gserviceaccount.com';
const IAP_CLIENT_ID = '1234567890-abcdef.apps.googleusercontent.com';

interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  remotePort: number | undefined;
}

/**
 * A container stand-in that records what reached it. `/stream` answers an event stream whose
 * first event is written at once and which ends only when the test calls `release()`.
 */
class RecordingUpstream {
  readonly seen: SeenRequest[] = [];
  readonly closedEarly: string[] = [];
  private server: Server;
  private releases: (() => void)[] = [];
  origin = '';

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  release(): void {
    for (const release of this.releases.splice(0)) release();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const seen: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      remotePort: req.socket.remotePort,
    };
    this.seen.push(seen);
    res.on('close', () => {
      if (!res.writableFinished) this.closedEarly.push(seen.url);
    });
    if (req.url === '/stream' || req.url === '/hold') {
      res.writeHead(200, {'content-type': 'text/event-stream', 'cache-control': 'no-cache'});
      if (req.url === '/stream') res.write('event: first\ndata: one\n\n');
      else res.flushHeaders();
      this.releases.push(() => res.end('event: last\ndata: two\n\n'));
      return;
    }
    if (req.url === '/cut') {
      res.writeHead(200, {'content-type': 'text/plain', 'content-length': '100'});
      res.write('partial', () => res.socket?.destroy());
      return;
    }
    res.writeHead(201, {
      'content-type': 'application/json',
      'x-upstream': 'yes',
      connection: 'keep-alive, x-upstream-hop',
      'x-upstream-hop': 'for the front only',
    });
    res.end(JSON.stringify({ok: true}));
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

/** An origin on 127.0.0.1 where nothing listens. */
async function deadOrigin(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.close();
  await once(server, 'close');
  return origin;
}

function tamperSignature(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
  return `${header}.${payload}.${flipped}`;
}

function swapPayload(token: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  const original = decodeJwtPayload(token) ?? {};
  void payload;
  const forged = Buffer.from(JSON.stringify({...original, ...claims})).toString('base64url');
  return `${header}.${forged}.${signature}`;
}

function bearer(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value[0] : value;
  return (text ?? '').replace(/^Bearer /, '');
}

describe('startCloudRunGateway', () => {
  let emu: GoogleEmulator;
  let upstream: RecordingUpstream;
  const gateways: CloudRunGateway[] = [];

  async function gateway(options: Partial<CloudRunGatewayOptions> = {}): Promise<CloudRunGateway> {
    const started = await startCloudRunGateway({
      upstream: upstream.origin,
      jwksUrl: emu.jwksUrl,
      ...options,
    });
    gateways.push(started);
    return started;
  }

  beforeAll(async () => {
    emu = await startGoogleEmulator();
  });

  afterAll(async () => {
    await emu.close();
  });

  beforeEach(async () => {
    upstream = await new RecordingUpstream().start();
  });

  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
    await upstream.close();
  });

  describe('forwarding', () => {
    it('forwards method, path, query, body and headers, and the answer comes back', async () => {
      const front = await gateway();
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      const response = await fetch(`${front.url}/a/b?x=1&y=two`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'x-custom': 'kept',
          'x-goog-authenticated-user-email': 'accounts.google.com:spoofed@example.com',
        },
        body: JSON.stringify({hello: 'world'}),
      });
      expect(response.status).toBe(201);
      expect(response.headers.get('x-upstream')).toBe('yes');
      expect(response.headers.get('x-upstream-hop')).toBeNull();
      expect(await response.json()).toEqual({ok: true});

      expect(upstream.seen).toHaveLength(1);
      const [seen] = upstream.seen;
      expect(seen).toMatchObject({method: 'PUT', url: '/a/b?x=1&y=two', body: '{"hello":"world"}'});
      expect(seen?.headers['x-custom']).toBe('kept');
      expect(seen?.headers['content-type']).toBe('application/json');
      expect(seen?.headers.host).toBe(new URL(front.url).host);
      expect(seen?.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(seen?.headers['x-goog-authenticated-user-email']).toBeUndefined();
      expect(front.stats).toMatchObject({requests: 1, forwarded: 1});
    });

    it('replaces the signature of the forwarded token with SIGNATURE_REMOVED_BY_GOOGLE', async () => {
      const front = await gateway();
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      await fetch(front.url, {headers: {authorization: `Bearer ${token}`}});
      const forwarded = bearer(upstream.seen[0]?.headers.authorization);
      const [header, payload] = token.split('.');
      expect(forwarded).toBe(`${header}.${payload}.SIGNATURE_REMOVED_BY_GOOGLE`);
      expect(decodeJwtPayload(forwarded)?.email).toBe(CALLER);
    });

    it('drops hop-by-hop request headers, including those Connection names', async () => {
      const front = await gateway();
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const req = httpRequest(`${front.url}/hop`, {
          headers: {
            authorization: `Bearer ${token}`,
            connection: 'keep-alive, x-hop',
            'x-hop': 'for the front only',
            'keep-alive': 'timeout=5',
            'proxy-authorization': 'Basic eDp5',
            te: 'trailers',
            'x-end-to-end': 'kept',
          },
          agent: false,
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(201);
      const headers = upstream.seen[0]?.headers ?? {};
      expect(headers['x-end-to-end']).toBe('kept');
      for (const dropped of ['x-hop', 'keep-alive', 'proxy-authorization', 'te']) {
        expect(headers[dropped]).toBeUndefined();
      }
    });

    it('reuses upstream connections (keep-alive)', async () => {
      const front = await gateway();
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${front.url}/n${i}`, {
          headers: {authorization: `Bearer ${token}`},
        });
        await response.arrayBuffer();
      }
      const ports = new Set(upstream.seen.map((seen) => seen.remotePort));
      expect(upstream.seen).toHaveLength(3);
      expect(ports.size).toBe(1);
    });
  });

  describe('Cloud Run rules', () => {
    it('answers 403 without a token and forwards nothing', async () => {
      const front = await gateway();
      const response = await fetch(`${front.url}/mcp`);
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
      const body = await response.text();
      expect(body).toContain('403 Forbidden');
      expect(body).toContain('<code>/mcp</code>');
      expect(upstream.seen).toHaveLength(0);
      expect(front.stats).toMatchObject({requests: 1, missingToken: 1, forwarded: 0});
    });

    it('answers 401 to a credential that is not a bearer token', async () => {
      const front = await gateway();
      const response = await fetch(front.url, {headers: {authorization: 'Basic dXNlcjpwYXNz'}});
      expect(response.status).toBe(401);
      expect(front.stats.invalidToken).toBe(1);
      expect(front.stats.rejections.malformed).toBe(1);
    });

    it('answers 401 to an expired token, with WWW-Authenticate and without the token in the body', async () => {
      const front = await gateway();
      const nowSeconds = Math.floor(Date.now() / 1000);
      const token = await emu.mintIdToken({
        audience: front.url,
        email: CALLER,
        issuedAt: nowSeconds - 7200,
        lifetimeSeconds: 3600,
      });
      const response = await fetch(front.url, {headers: {authorization: `Bearer ${token}`}});
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
      const body = await response.text();
      expect(body).toContain('401 Unauthorized');
      expect(body).not.toContain(token.split('.')[1]);
      expect(upstream.seen).toHaveLength(0);
      expect(front.stats.rejections).toEqual({expired: 1});
    });

    it('refuses a token once the injected clock passes its expiry', async () => {
      let now = Date.now();
      const front = await gateway({now: () => now});
      const token = await emu.mintIdToken({
        audience: front.url,
        email: CALLER,
        lifetimeSeconds: 60,
      });
      expect((await fetch(front.url, {headers: {authorization: `Bearer ${token}`}})).status).toBe(
        201,
      );
      now += 61_000;
      expect((await fetch(front.url, {headers: {authorization: `Bearer ${token}`}})).status).toBe(
        401,
      );
      expect(front.stats).toMatchObject({forwarded: 1, invalidToken: 1, rejections: {expired: 1}});
    });

    it('answers 401 to a token for another audience', async () => {
      const front = await gateway();
      const token = await emu.mintIdToken({audience: 'https://other-svc.a.run.app', email: CALLER});
      const response = await fetch(front.url, {headers: {authorization: `Bearer ${token}`}});
      expect(response.status).toBe(401);
      expect(front.stats.rejections).toEqual({bad_audience: 1});
    });

    it('answers 401 to a token with a bad signature or a forged payload', async () => {
      const front = await gateway();
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      const forged = swapPayload(token, {email: 'admin@example.com'});
      for (const bad of [tamperSignature(token), forged]) {
        const response = await fetch(front.url, {headers: {authorization: `Bearer ${bad}`}});
        expect(response.status).toBe(401);
      }
      expect(front.stats.rejections).toEqual({bad_signature: 2});
      expect(upstream.seen).toHaveLength(0);
    });

    it('answers 401 to a token replayed with its signature already removed', async () => {
      const front = await gateway();
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      const [header, payload] = token.split('.');
      const stripped = `${header}.${payload}.SIGNATURE_REMOVED_BY_GOOGLE`;
      const response = await fetch(front.url, {headers: {authorization: `Bearer ${stripped}`}});
      expect(response.status).toBe(401);
    });

    it('answers 403 to a valid token from a caller who is not an invoker', async () => {
      const front = await gateway({invokers: [`serviceAccount:${CALLER.toUpperCase()}`]});
      const outsider = await emu.mintIdToken({audience: front.url, email: OTHER});
      const insider = await emu.mintIdToken({audience: front.url, email: CALLER});
      const refused = await fetch(front.url, {headers: {authorization: `Bearer ${outsider}`}});
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('403 Forbidden');
      const allowed = await fetch(front.url, {headers: {authorization: `Bearer ${insider}`}});
      expect(allowed.status).toBe(201);
      expect(front.stats).toMatchObject({forbidden: 1, forwarded: 1});
      expect(upstream.seen).toHaveLength(1);
    });

    it('checks X-Serverless-Authorization first and passes Authorization through untouched', async () => {
      const front = await gateway();
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      const appAuthorization = 'Basic YXBwOnNlY3JldA==';
      const response = await fetch(front.url, {
        headers: {'x-serverless-authorization': `Bearer ${token}`, authorization: appAuthorization},
      });
      expect(response.status).toBe(201);
      const seen = upstream.seen[0];
      expect(seen?.headers.authorization).toBe(appAuthorization);
      expect(bearer(seen?.headers['x-serverless-authorization'])).toMatch(
        /\.SIGNATURE_REMOVED_BY_GOOGLE$/,
      );
    });

    it('refuses a bad X-Serverless-Authorization even when Authorization holds a valid token', async () => {
      const front = await gateway();
      const valid = await emu.mintIdToken({audience: front.url, email: CALLER});
      const response = await fetch(front.url, {
        headers: {
          'x-serverless-authorization': `Bearer ${tamperSignature(valid)}`,
          authorization: `Bearer ${valid}`,
        },
      });
      expect(response.status).toBe(401);
      expect(upstream.seen).toHaveLength(0);
    });

    it('accepts a custom audience instead of its own URL when configured', async () => {
      const front = await gateway({audiences: ['https://my-custom-audience.example.com']});
      expect(front.audiences).toEqual(['https://my-custom-audience.example.com']);
      const custom = await emu.mintIdToken({
        audience: 'https://my-custom-audience.example.com',
        email: CALLER,
      });
      const ownUrl = await emu.mintIdToken({audience: front.url, email: CALLER});
      expect((await fetch(front.url, {headers: {authorization: `Bearer ${custom}`}})).status).toBe(
        201,
      );
      expect((await fetch(front.url, {headers: {authorization: `Bearer ${ownUrl}`}})).status).toBe(
        401,
      );
    });

    it('defaults the audience to its own origin', async () => {
      const front = await gateway();
      expect(front.audiences).toEqual([front.url]);
      expect(front.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    });

    it('refuses a revoked token with 401 and accepts a fresh one', async () => {
      const front = await gateway();
      const nowSeconds = Math.floor(Date.now() / 1000);
      // Issued a second earlier than the fresh one below: the emulator's tokens are
      // deterministic, and a token minted again in the same second would be the same text.
      const token = await emu.mintIdToken({
        audience: front.url,
        email: CALLER,
        issuedAt: nowSeconds - 1,
      });
      expect((await fetch(front.url, {headers: {authorization: `Bearer ${token}`}})).status).toBe(
        201,
      );
      front.revoke(token);
      const refused = await fetch(front.url, {headers: {authorization: `Bearer ${token}`}});
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
      const fresh = await emu.mintIdToken({audience: front.url, email: CALLER});
      expect((await fetch(front.url, {headers: {authorization: `Bearer ${fresh}`}})).status).toBe(
        201,
      );
      expect(front.stats).toMatchObject({forwarded: 2, revoked: 1, invalidToken: 0});
    });

    it('answers 503 when the signing keys cannot be loaded', async () => {
      const front = await gateway({jwksUrl: `${await deadOrigin()}/oauth2/v3/certs`});
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      const response = await fetch(front.url, {headers: {authorization: `Bearer ${token}`}});
      expect(response.status).toBe(503);
      expect(front.stats.keysUnavailable).toBe(1);
      expect(upstream.seen).toHaveLength(0);
    });

    it('counts outcomes and resets them', async () => {
      const front = await gateway({invokers: [CALLER]});
      const good = await emu.mintIdToken({audience: front.url, email: CALLER});
      const outsider = await emu.mintIdToken({audience: front.url, email: OTHER});
      await fetch(front.url);
      await fetch(front.url, {headers: {authorization: `Bearer ${tamperSignature(good)}`}});
      await fetch(front.url, {headers: {authorization: `Bearer ${outsider}`}});
      await fetch(front.url, {headers: {authorization: `Bearer ${good}`}});
      expect(front.stats).toEqual({
        requests: 4,
        forwarded: 1,
        missingToken: 1,
        invalidToken: 1,
        revoked: 0,
        forbidden: 1,
        keysUnavailable: 0,
        upstreamErrors: 0,
        clientAborts: 0,
        rejections: {bad_signature: 1},
      });
      front.resetStats();
      expect(front.stats).toMatchObject({requests: 0, forwarded: 0, rejections: {}});
    });
  });

  describe('IAP mode', () => {
    it('checks Proxy-Authorization, keeps Authorization and tells the app who called', async () => {
      const front = await gateway({mode: 'iap', audiences: [IAP_CLIENT_ID]});
      const token = await emu.mintIdToken({audience: IAP_CLIENT_ID, email: CALLER});
      const response = await fetch(front.url, {
        headers: {'proxy-authorization': `Bearer ${token}`, authorization: 'Bearer app-own-token'},
      });
      expect(response.status).toBe(201);
      const seen = upstream.seen[0];
      expect(seen?.headers.authorization).toBe('Bearer app-own-token');
      expect(seen?.headers['proxy-authorization']).toBeUndefined();
      expect(seen?.headers['x-goog-authenticated-user-email']).toBe(
        `accounts.google.com:${CALLER}`,
      );
      expect(seen?.headers['x-goog-authenticated-user-id']).toMatch(/^accounts\.google\.com:\d+$/);
    });

    it('accepts the token in Authorization and refuses a URL audience', async () => {
      const front = await gateway({mode: 'iap', audiences: [IAP_CLIENT_ID]});
      const token = await emu.mintIdToken({audience: IAP_CLIENT_ID, email: CALLER});
      const ok = await fetch(front.url, {headers: {authorization: `Bearer ${token}`}});
      expect(ok.status).toBe(201);
      expect(bearer(upstream.seen[0]?.headers.authorization)).toMatch(
        /\.SIGNATURE_REMOVED_BY_GOOGLE$/,
      );

      const urlAudience = await emu.mintIdToken({audience: front.url, email: CALLER});
      const refused = await fetch(front.url, {headers: {authorization: `Bearer ${urlAudience}`}});
      expect(refused.status).toBe(401);
      expect(await refused.text()).toMatch(/^Invalid IAP credentials: /);
      // IAP marks what it generates; an answer the app gave passes through unmarked.
      expect(refused.headers.get('x-goog-iap-generated-response')).toBe('true');
      expect(ok.headers.get('x-goog-iap-generated-response')).toBeNull();
    });

    it("signs x-goog-iap-jwt-assertion like Google's IAP, with keys the emulator publishes", async () => {
      const front = await gateway({mode: 'iap', audiences: [IAP_CLIENT_ID], iapIssuer: emu});
      const token = await emu.mintIdToken({audience: IAP_CLIENT_ID, email: CALLER});
      const response = await fetch(front.url, {
        headers: {
          'proxy-authorization': `Bearer ${token}`,
          // A client cannot bring its own: the front drops it and signs its own.
          'x-goog-iap-jwt-assertion': 'forged.by.client',
        },
      });
      expect(response.status).toBe(201);
      const assertion = upstream.seen[0]?.headers['x-goog-iap-jwt-assertion'];
      expect(typeof assertion).toBe('string');
      const [header] = String(assertion).split('.');
      expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8'))).toMatchObject({
        alg: 'ES256',
        typ: 'JWT',
      });
      const claims = await verifyIapJwt(String(assertion), {
        audience: emu.iapAudience,
        jwksUrl: emu.iapJwksUrl,
      });
      expect(claims).toMatchObject({
        iss: 'https://cloud.google.com/iap',
        aud: emu.iapAudience,
        email: CALLER,
      });
      expect(claims.sub).toBe(String(upstream.seen[0]?.headers['x-goog-authenticated-user-id']));
      expect(claims.exp - claims.iat).toBe(600);
    });

    it('does not read X-Serverless-Authorization', async () => {
      const front = await gateway({mode: 'iap', audiences: [IAP_CLIENT_ID]});
      const token = await emu.mintIdToken({audience: IAP_CLIENT_ID, email: CALLER});
      const response = await fetch(front.url, {
        headers: {'x-serverless-authorization': `Bearer ${token}`},
      });
      expect(response.status).toBe(403);
      expect(front.stats.missingToken).toBe(1);
    });
  });

  describe('streaming and failures', () => {
    it('streams server-sent events: the first event arrives before the upstream ends', async () => {
      const front = await gateway();
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      const response = await fetch(`${front.url}/stream`, {
        headers: {authorization: `Bearer ${token}`},
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let received = '';
      while (!received.includes('data: one\n\n')) {
        const {value, done} = await reader.read();
        expect(done).toBe(false);
        received += decoder.decode(value, {stream: true});
      }
      // The upstream has not ended its response yet; only now does the test let it finish.
      expect(received).not.toContain('two');
      upstream.release();
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        received += decoder.decode(value, {stream: true});
      }
      expect(received).toContain('event: last\ndata: two');
    });

    it('sends response headers before the upstream writes any body', async () => {
      const front = await gateway();
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      const controller = new AbortController();
      const response = await fetch(`${front.url}/hold`, {
        headers: {authorization: `Bearer ${token}`},
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      controller.abort();
    });

    it('answers 502 when the upstream is down', async () => {
      const front = await gateway({upstream: await deadOrigin()});
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      const response = await fetch(`${front.url}/mcp`, {
        headers: {authorization: `Bearer ${token}`},
      });
      expect(response.status).toBe(502);
      const body = await response.text();
      expect(body).toContain('502 Bad Gateway');
      expect(body).not.toContain(token.split('.')[1]);
      expect(front.stats).toMatchObject({forwarded: 1, upstreamErrors: 1});
    });

    it('cuts the client response when the upstream breaks off mid-body', async () => {
      const front = await gateway();
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      const response = await fetch(`${front.url}/cut`, {
        headers: {authorization: `Bearer ${token}`},
      });
      await expect(response.text()).rejects.toThrow();
      await expect.poll(() => front.stats.upstreamErrors).toBe(1);
    });

    it('closes the upstream request when the client goes away', async () => {
      const front = await gateway();
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      const controller = new AbortController();
      const response = await fetch(`${front.url}/stream`, {
        headers: {authorization: `Bearer ${token}`},
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();
      await expect.poll(() => upstream.closedEarly).toEqual(['/stream']);
      await expect.poll(() => front.stats.clientAborts).toBe(1);
      expect(front.stats.upstreamErrors).toBe(0);
    });

    it('close() ends open streams', async () => {
      const front = await gateway();
      const token = await emu.mintIdToken({audience: front.url, email: CALLER});
      const response = await fetch(`${front.url}/stream`, {
        headers: {authorization: `Bearer ${token}`},
      });
      const reader = response.body!.getReader();
      await reader.read();
      await front.close();
      gateways.splice(gateways.indexOf(front), 1);
      await expect(
        (async () => {
          for (;;) if ((await reader.read()).done) return 'done';
        })(),
      ).rejects.toThrow();
    });
  });

  describe('options', () => {
    it('rejects bad options with a TypeError naming them', async () => {
      const base = {upstream: 'http://127.0.0.1:9', jwksUrl: 'http://127.0.0.1:9/certs'};
      await expect(startCloudRunGateway({...base, upstream: 'not a url'})).rejects.toThrow(
        /upstream/,
      );
      await expect(
        startCloudRunGateway({...base, upstream: 'http://127.0.0.1:9/x'}),
      ).rejects.toThrow(/upstream/);
      await expect(startCloudRunGateway({...base, jwksUrl: ''})).rejects.toThrow(/jwksUrl/);
      await expect(startCloudRunGateway({...base, audiences: []})).rejects.toThrow(/audiences/);
      await expect(startCloudRunGateway({...base, mode: 'iap'})).rejects.toThrow(/audiences/);
      await expect(
        startCloudRunGateway({...base, mode: 'nope' as CloudRunGatewayOptions['mode']}),
      ).rejects.toThrow(/mode/);
      await expect(startCloudRunGateway({...base, port: 1.5})).rejects.toThrow(TypeError);
      await expect(startCloudRunGateway({...base, iapIssuer: emu})).rejects.toThrow(/iapIssuer/);
      await expect(
        startCloudRunGateway({
          ...base,
          mode: 'iap',
          audiences: [IAP_CLIENT_ID],
          iapIssuer: {} as CloudRunGatewayOptions['iapIssuer'],
        }),
      ).rejects.toThrow(/iapIssuer/);
    });

    it('revoke needs a token', async () => {
      const front = await gateway();
      expect(() => front.revoke('')).toThrow(TypeError);
    });
  });
});

describe('startCloudRunGateway in front of the demo MCP server', () => {
  let emu: GoogleEmulator;
  let demo: DemoMcpServer;
  let front: CloudRunGateway;
  const clients: Client[] = [];

  beforeAll(async () => {
    emu = await startGoogleEmulator();
    demo = await startDemoMcpServer();
    front = await startCloudRunGateway({upstream: demo.origin, jwksUrl: emu.jwksUrl});
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await front.close();
    await demo.close();
    await emu.close();
  });

  function withToken(token: string): typeof fetch {
    return (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, {...init, headers});
    };
  }

  it('serves MCP over Streamable HTTP: tools, whoami and progress notifications', async () => {
    const token = await emu.mintIdToken({audience: front.url, email: CALLER});
    const client = new Client({name: 'gateway-test', version: '1.0.0'});
    clients.push(client);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${front.url}/mcp`), {fetch: withToken(token)}),
    );
    const {tools} = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('whoami');
    const whoami = await client.callTool({name: 'whoami', arguments: {}});
    expect(whoami.content).toEqual([{type: 'text', text: CALLER}]);
    const progress: Progress[] = [];
    await client.callTool({name: 'slow_count', arguments: {n: 2}}, undefined, {
      onprogress: (p) => progress.push(p),
    });
    expect(progress.map((p) => p.progress)).toEqual([1, 2]);
  });

  it('serves MCP over the SSE transport through the front', async () => {
    const token = await emu.mintIdToken({audience: front.url, email: CALLER});
    const client = new Client({name: 'gateway-sse-test', version: '1.0.0'});
    clients.push(client);
    await client.connect(
      new SSEClientTransport(new URL(`${front.url}/sse`), {fetch: withToken(token)}),
    );
    const sum = await client.callTool({name: 'add', arguments: {a: 20, b: 22}});
    expect(sum.content).toEqual([{type: 'text', text: '42'}]);
    const whoami = await client.callTool({name: 'whoami', arguments: {}});
    expect(whoami.content).toEqual([{type: 'text', text: CALLER}]);
  });

  it('refuses an MCP client without a token with 403', async () => {
    const client = new Client({name: 'gateway-anon-test', version: '1.0.0'});
    await expect(
      client.connect(new StreamableHTTPClientTransport(new URL(`${front.url}/mcp`))),
    ).rejects.toThrow(/403/);
  });
});
