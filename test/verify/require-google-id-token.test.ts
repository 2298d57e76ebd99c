import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import type {ServerResponse} from 'node:http';
import {createMcpExpressApp} from '@modelcontextprotocol/sdk/server/express.js';
import {requireGoogleIdToken} from '../../src/verify/index.js';
import type {RequestWithAuth, RequireGoogleIdTokenOptions} from '../../src/verify/index.js';
import {idTokenClaims, pregenerateKeys, startKeyServer} from './support/key-server.js';
import type {KeyServer} from './support/key-server.js';
import {listen, rawGet} from './support/http.js';
import type {Listening} from './support/http.js';
import {leakedSecrets} from '../tokens/sources/support.js';

const AUD = 'https://svc.example.com';
const SA = 'caller@proj.iam.gserviceaccount.com';

let keys: KeyServer;
let plain: Listening;
let express: Listening;
let strict: Listening;
let token: string;

function options(extra: Partial<RequireGoogleIdTokenOptions> = {}): RequireGoogleIdTokenOptions {
  return {audience: AUD, jwksUrl: keys.jwksUrl, ...extra};
}

function echoAuth(req: RequestWithAuth, res: ServerResponse): void {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({auth: req.auth}));
}

beforeAll(async () => {
  pregenerateKeys(1);
  keys = await startKeyServer();
  const guard = requireGoogleIdToken(options());
  plain = await listen(async (req, res) => {
    if (!(await guard(req, res))) return;
    echoAuth(req, res);
  });
  const app = createMcpExpressApp();
  app.use(requireGoogleIdToken(options()));
  app.get('/', (req: RequestWithAuth, res: ServerResponse) => echoAuth(req, res));
  express = await listen(app);
  const strictGuard = requireGoogleIdToken(
    options({allowedEmails: ['someone-else@proj.iam.gserviceaccount.com']}),
  );
  strict = await listen(async (req, res) => {
    if (await strictGuard(req, res)) echoAuth(req, res);
  });
});
beforeEach(async () => {
  const now = Math.floor(Date.now() / 1000);
  token = await keys.sign(idTokenClaims(now, {jti: String(Math.random())}));
});
afterAll(async () => {
  await Promise.all([plain.close(), express.close(), strict.close()]);
  await keys.close();
});

describe.each([
  ['node:http', () => plain],
  ['express', () => express],
])('requireGoogleIdToken (%s)', (_name, server) => {
  it('accepts a valid token and sets req.auth to the MCP SDK AuthInfo', async () => {
    const res = await rawGet(server().url, {authorization: `Bearer ${token}`});
    expect(res.status).toBe(200);
    const {auth} = JSON.parse(res.body) as {
      auth: Record<string, unknown> & {extra: {claims: Record<string, unknown>}};
    };
    expect(auth).toMatchObject({token, clientId: SA, scopes: [], resource: `${AUD}/`});
    expect(typeof auth.expiresAt).toBe('number');
    expect(auth.extra.claims).toMatchObject({aud: AUD, email: SA});
  });

  it('accepts a lowercase bearer scheme', async () => {
    expect((await rawGet(server().url, {authorization: `bearer ${token}`})).status).toBe(200);
    expect((await rawGet(server().url, {authorization: `BEARER   ${token}  `})).status).toBe(200);
  });

  it('answers 401 with a bare Bearer challenge when no token is sent', async () => {
    const cases: Record<string, string>[] = [
      {},
      {authorization: ''},
      {authorization: '   '},
      {authorization: 'Bearer'},
      {authorization: 'Bearer   '},
    ];
    for (const headers of cases) {
      const res = await rawGet(server().url, headers);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(JSON.parse(res.body)).toEqual({error: 'invalid_token', error_description: 'missing'});
    }
  });

  it('answers 401 invalid_token with the code for a bad token, without echoing it', async () => {
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${Buffer.from('x'.repeat(256)).toString('base64url')}`;
    const res = await rawGet(server().url, {authorization: `Bearer ${forged}`});
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer error="invalid_token", error_description="bad_signature"',
    );
    expect(JSON.parse(res.body)).toEqual({
      error: 'invalid_token',
      error_description: 'bad_signature',
    });
    expect(leakedSecrets(`${res.body}\n${JSON.stringify(res.headers)}`, [forged])).toEqual([]);
  });

  it('answers 401 malformed for another scheme or extra words', async () => {
    for (const authorization of [`Basic ${token}`, `Bearer ${token} extra`]) {
      const res = await rawGet(server().url, {authorization});
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain('error_description="malformed"');
    }
  });

  it('prefers X-Serverless-Authorization over Authorization', async () => {
    const ok = await rawGet(server().url, {
      'x-serverless-authorization': `Bearer ${token}`,
      authorization: 'Basic dXNlcjpwYXNz',
    });
    expect(ok.status).toBe(200);
    const refused = await rawGet(server().url, {
      'x-serverless-authorization': 'Bearer not.a.jwt',
      authorization: `Bearer ${token}`,
    });
    expect(refused.status).toBe(401);
    const empty = await rawGet(server().url, {
      'x-serverless-authorization': ' ',
      authorization: `Bearer ${token}`,
    });
    expect(empty.status).toBe(401);
  });
});

describe('requireGoogleIdToken: principals and keys', () => {
  it('answers 403 insufficient_scope for a valid token of a principal that is not allowed', async () => {
    const res = await rawGet(strict.url, {authorization: `Bearer ${token}`});
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_scope", error_description="forbidden_principal"',
    );
    expect(JSON.parse(res.body)).toEqual({
      error: 'insufficient_scope',
      error_description: 'forbidden_principal',
    });
  });

  it('answers 503 with Retry-After when no signing keys can be loaded', async () => {
    const guard = requireGoogleIdToken({
      audience: AUD,
      jwksUrl: 'http://127.0.0.1:9/certs',
      jwksTimeoutMs: 2000,
    });
    const server = await listen(async (req, res) => {
      if (await guard(req, res)) res.end('in');
    });
    try {
      const res = await rawGet(server.url, {authorization: `Bearer ${token}`});
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(JSON.parse(res.body)).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'keys_unavailable',
      });
    } finally {
      await server.close();
    }
  });

  it('with next, calls it once on success and never on refusal', async () => {
    const guard = requireGoogleIdToken(options());
    const calls: unknown[] = [];
    const server = await listen(async (req, res) => {
      const passed = await guard(req, res, (error?: unknown) => calls.push(error));
      if (passed) res.end('in');
    });
    try {
      expect((await rawGet(server.url, {authorization: `Bearer ${token}`})).status).toBe(200);
      expect((await rawGet(server.url, {})).status).toBe(401);
      expect(calls).toEqual([undefined]);
    } finally {
      await server.close();
    }
  });

  it('validates its options when built', () => {
    expect(() => requireGoogleIdToken({} as RequireGoogleIdTokenOptions)).toThrow(/audience/);
  });
});
