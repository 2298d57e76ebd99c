import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import type {ServerResponse} from 'node:http';
import {createMcpExpressApp} from '@modelcontextprotocol/sdk/server/express.js';
import {requireGoogleIdToken, SIGNATURE_REMOVED_BY_GOOGLE} from '../../src/verify/index.js';
import type {RequestWithAuth, RequireGoogleIdTokenOptions} from '../../src/verify/index.js';
import {iapClaims, idTokenClaims, pregenerateKeys, startKeyServer} from './support/key-server.js';
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

describe('requireGoogleIdToken: announceAudience', () => {
  async function refusal(extra: Partial<RequireGoogleIdTokenOptions>, wrongAud = true) {
    const guard = requireGoogleIdToken(options(extra));
    const server = await listen(async (req, res) => {
      if (await guard(req, res)) echoAuth(req, res);
    });
    try {
      const now = Math.floor(Date.now() / 1000);
      const sent = await keys.sign(
        idTokenClaims(now, wrongAud ? {aud: 'https://other.example.com'} : {}),
      );
      return await rawGet(server.url, {authorization: `Bearer ${sent}`});
    } finally {
      await server.close();
    }
  }

  it('is off by default: a bad_audience challenge does not say which audience would pass', async () => {
    const res = await refusal({});
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer error="invalid_token", error_description="bad_audience"',
    );
  });

  it('names the accepted audiences in the bad_audience challenge when turned on', async () => {
    const res = await refusal({
      audience: [AUD, 'custom-audience'],
      allowedEmails: [SA],
      announceAudience: true,
    });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer error="invalid_token", error_description="bad_audience", audience="${AUD} custom-audience"`,
    );
    expect(res.body).not.toContain('custom-audience');
  });

  it('names nothing for refusals other than bad_audience', async () => {
    const res = await refusal(
      {allowedEmails: ['someone-else@example.com'], announceAudience: true},
      false,
    );
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).not.toContain('audience=');
  });

  it('leaves out an audience that cannot stand in a quoted auth-param', async () => {
    const res = await refusal({audience: ['has "quote"'], announceAudience: true});
    expect(res.headers['www-authenticate']).toBe(
      'Bearer error="invalid_token", error_description="bad_audience"',
    );
  });

  it('validates the option when built', () => {
    expect(() =>
      requireGoogleIdToken(options({announceAudience: 'yes' as unknown as boolean})),
    ).toThrow(/announceAudience must be a boolean/);
  });
});

describe('requireGoogleIdToken: fronts', () => {
  let iapKeys: KeyServer;
  const IAP_AUD = '/projects/123456789012/global/backendServices/4242424242424242424';
  beforeAll(async () => {
    iapKeys = await startKeyServer('ES256');
  });
  afterAll(async () => {
    await iapKeys.close();
  });

  const nowS = () => Math.floor(Date.now() / 1000);
  const strip = (signed: string) =>
    `${signed.slice(0, signed.lastIndexOf('.'))}.${SIGNATURE_REMOVED_BY_GOOGLE}`;

  async function guarded(options: RequireGoogleIdTokenOptions) {
    const guard = requireGoogleIdToken(options);
    return listen(async (req, res) => {
      if (await guard(req, res)) echoAuth(req, res);
    });
  }

  async function statusAndCaller(url: string, headers: Record<string, string>) {
    const res = await rawGet(url, headers);
    const auth =
      res.status === 200 ? (JSON.parse(res.body) as {auth: {clientId: string}}).auth : undefined;
    return {
      status: res.status,
      caller: auth?.clientId,
      description: res.headers['www-authenticate'],
    };
  }

  it("front: 'cloud-run' accepts the stripped token from the header Cloud Run checked, claims still checked", async () => {
    const server = await guarded(options({front: 'cloud-run'}));
    try {
      const stripped = strip(await keys.sign(idTokenClaims(nowS())));
      expect(
        await statusAndCaller(server.url, {authorization: `Bearer ${stripped}`}),
      ).toMatchObject({status: 200, caller: SA});
      expect(
        await statusAndCaller(server.url, {
          'x-serverless-authorization': `Bearer ${stripped}`,
          authorization: 'Bearer app-token',
        }),
      ).toMatchObject({status: 200, caller: SA});
      const expired = strip(await keys.sign(idTokenClaims(nowS() - 7200)));
      expect(
        (await statusAndCaller(server.url, {authorization: `Bearer ${expired}`})).description,
      ).toContain('expired');
      const elsewhere = strip(
        await keys.sign(idTokenClaims(nowS(), {aud: 'https://other.example.com'})),
      );
      expect(
        (await statusAndCaller(server.url, {authorization: `Bearer ${elsewhere}`})).status,
      ).toBe(401);
      // A token that still carries its signature is verified as usual.
      const [header, , signature] = (await keys.sign(idTokenClaims(nowS()))).split('.');
      const forged = `${header}.${Buffer.from(JSON.stringify(idTokenClaims(nowS(), {email: 'admin@x.com'}))).toString('base64url')}.${signature}`;
      expect(
        (await statusAndCaller(server.url, {authorization: `Bearer ${forged}`})).description,
      ).toContain('bad_signature');
    } finally {
      await server.close();
    }
  });

  it("front: 'cloud-run' never reads Authorization when X-Serverless-Authorization is present", async () => {
    const server = await guarded(options({trustCloudRunFront: true}));
    try {
      const own = await keys.sign(
        idTokenClaims(nowS(), {email: 'invoker@proj.iam.gserviceaccount.com'}),
      );
      const admin = strip(
        await keys.sign(idTokenClaims(nowS(), {email: 'admin@proj.iam.gserviceaccount.com'})),
      );
      expect(
        await statusAndCaller(server.url, {
          'x-serverless-authorization': `Bearer ${strip(own)}`,
          authorization: `Bearer ${admin}`,
        }),
      ).toMatchObject({status: 200, caller: 'invoker@proj.iam.gserviceaccount.com'});
    } finally {
      await server.close();
    }
  });

  it("front: 'cloud-run' gives no trust to a stripped token that came through IAP or with Proxy-Authorization", async () => {
    const server = await guarded(options({front: 'cloud-run'}));
    try {
      const stripped = strip(await keys.sign(idTokenClaims(nowS())));
      for (const extra of <Record<string, string>[]>[
        {'x-goog-iap-jwt-assertion': 'a.b.c'},
        {'x-goog-authenticated-user-email': `accounts.google.com:${SA}`},
        {'x-goog-authenticated-user-id': 'accounts.google.com:1'},
        {'proxy-authorization': 'Bearer whatever'},
      ]) {
        const seen = await statusAndCaller(server.url, {
          authorization: `Bearer ${stripped}`,
          ...extra,
        });
        expect(seen.status, Object.keys(extra)[0]).toBe(401);
        expect(seen.description).toContain('bad_signature');
      }
    } finally {
      await server.close();
    }
  });

  it("front: 'none' (the default) refuses every stripped token", async () => {
    const stripped = strip(await keys.sign(idTokenClaims(nowS())));
    const res = await rawGet(plain.url, {authorization: `Bearer ${stripped}`});
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('bad_signature');
  });

  it("front: 'iap' reads only IAP's signed assertion", async () => {
    const server = await guarded({front: 'iap', audience: IAP_AUD, jwksUrl: iapKeys.jwksUrl});
    try {
      const assertion = await iapKeys.sign(iapClaims(nowS(), {aud: IAP_AUD}));
      const ok = await rawGet(server.url, {
        'x-goog-iap-jwt-assertion': assertion,
        authorization: `Bearer ${token}`,
      });
      expect(ok.status).toBe(200);
      const {auth} = JSON.parse(ok.body) as {
        auth: Record<string, unknown> & {extra: {claims: Record<string, unknown>}};
      };
      expect(auth).toMatchObject({token: assertion, clientId: 'user@example.com', scopes: []});
      expect(auth.resource).toBeUndefined();
      expect(auth.extra.claims).toMatchObject({
        iss: 'https://cloud.google.com/iap',
        sub: 'accounts.google.com:104857600000000000001',
      });
      // An ID token alone, however valid, is not IAP's word.
      const missing = await rawGet(server.url, {authorization: `Bearer ${token}`});
      expect(missing.status).toBe(401);
      expect(JSON.parse(missing.body)).toEqual({
        error: 'invalid_token',
        error_description: 'missing',
      });
      const twice = await rawGet(server.url, {'x-goog-iap-jwt-assertion': [assertion, assertion]});
      expect(twice.status).toBe(401);
      const stranger = await iapKeys.sign(
        iapClaims(nowS(), {aud: IAP_AUD, email: 'stranger@other.com'}),
      );
      const strict = await guarded({
        front: 'iap',
        audience: IAP_AUD,
        jwksUrl: iapKeys.jwksUrl,
        allowedEmailDomains: ['example.com'],
      });
      try {
        expect((await rawGet(strict.url, {'x-goog-iap-jwt-assertion': assertion})).status).toBe(
          200,
        );
        expect((await rawGet(strict.url, {'x-goog-iap-jwt-assertion': stranger})).status).toBe(403);
      } finally {
        await strict.close();
      }
    } finally {
      await server.close();
    }
  });

  it('validates the front options when built', () => {
    const build = (o: Record<string, unknown>) => () =>
      requireGoogleIdToken(o as unknown as RequireGoogleIdTokenOptions);
    expect(build({audience: AUD, front: 'gke'})).toThrow(/front/);
    expect(build({audience: AUD, front: 'none', trustCloudRunFront: true})).toThrow(
      /trustCloudRunFront/,
    );
    expect(build({audience: AUD, trustCloudRunFront: 'yes'})).toThrow(/trustCloudRunFront/);
    expect(build({front: 'iap'})).toThrow(/audience/);
    expect(build({front: 'iap', audience: '123-abc.apps.googleusercontent.com'})).toThrow(
      /OAuth client id/,
    );
    expect(build({front: 'iap', audience: 'https://svc.example.com'})).toThrow(TypeError);
    expect(build({front: 'iap', audience: IAP_AUD, jwksUrl: 'http://keys.example.com/k'})).toThrow(
      /jwksUrl/,
    );
  });
});
