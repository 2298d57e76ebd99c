import type {ServerResponse} from 'node:http';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {InvalidCredentialError} from '../../src/credentials/errors.js';
import type {AuthCredential} from '../../src/credentials/types.js';
import {explainAuthFailure} from '../../src/http/explain-auth-failure.js';
import {googleAuthFetch} from '../../src/http/google-auth-fetch.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {FakeTokenSource, startLoopback} from './support/loopback.js';
import type {Loopback, Seen} from './support/loopback.js';

const idCredential: AuthCredential = {
  authType: 'serviceAccount',
  serviceAccount: {useDefaultCredential: true, useIdToken: true},
};
const accessCredential: AuthCredential = {
  authType: 'serviceAccount',
  serviceAccount: {useDefaultCredential: true},
};

let target: Loopback;
let other: Loopback;

beforeAll(async () => {
  target = await startLoopback();
  other = await startLoopback();
});
afterAll(async () => {
  await target.close();
  await other.close();
});
afterEach(() => {
  target.seen.length = 0;
  other.seen.length = 0;
  target.handler = (_req, res) => void res.end('ok');
  other.handler = (_req, res) => void res.end('ok');
});

function setup(
  extra: Partial<Parameters<typeof googleAuthFetch>[0]> = {},
  source = new FakeTokenSource(),
) {
  const warnings: string[] = [];
  const authFetch = googleAuthFetch({
    authCredential: idCredential,
    tokenSource: source,
    cache: new TokenCache(),
    onWarning: (message, code) => warnings.push(`${code}: ${message}`),
    ...extra,
  });
  return {authFetch, source, warnings};
}

/** 401 for tokens in `refused`, 200 otherwise. */
function refuse(refused: Set<string>): (req: Seen, res: ServerResponse) => void {
  return (req, res) => {
    const value = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (refused.has(value)) res.writeHead(401).end('nope');
    else res.end(`ok ${req.body}`);
  };
}

describe('googleAuthFetch: tokens and audience', () => {
  it('sends an ID token whose audience is the target URL origin', async () => {
    const {authFetch, source} = setup({targetUrl: `${target.origin}/mcp?x=1`});
    const res = await authFetch(`${target.origin}/mcp`, {method: 'POST', body: 'hi'});
    expect(res.status).toBe(200);
    expect(target.seen[0]?.headers.authorization).toBe('Bearer tok-1');
    expect(source.requests).toEqual([{kind: 'id', audience: target.origin}]);
  });

  it('pins the audience and the target to the first request when targetUrl is not given', async () => {
    const {authFetch, source} = setup();
    await authFetch(new URL(`${target.origin}/a`));
    await authFetch(`${other.origin}/b`);
    await authFetch(`${target.origin}/c`);
    expect(source.requests).toEqual([{kind: 'id', audience: target.origin}]);
    expect(target.seen.map((s) => s.headers.authorization)).toEqual([
      'Bearer tok-1',
      'Bearer tok-1',
    ]);
    expect(other.seen[0]?.headers.authorization).toBeUndefined();
  });

  it('uses serviceAccount.audience, and warns once about a path on the target origin', async () => {
    const {authFetch, source, warnings} = setup({
      authCredential: {
        authType: 'serviceAccount',
        serviceAccount: {
          useDefaultCredential: true,
          useIdToken: true,
          audience: `${target.origin}/fn`,
        },
      },
    });
    await authFetch(`${target.origin}/fn`);
    await authFetch(`${target.origin}/fn`);
    expect(source.requests).toEqual([{kind: 'id', audience: `${target.origin}/fn`}]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^MCP_GOOGLE_AUTH_AUDIENCE_PATH: .*"\/fn".*Cloud Run functions \(1st gen\)/,
    );
  });

  it('lets options.audience win, and does not warn about an audience on another origin', async () => {
    const {authFetch, source, warnings} = setup({
      audience: 'https://custom.example.com/aud',
      targetUrl: target.origin,
    });
    await authFetch(`${target.origin}/x`);
    expect(source.requests).toEqual([{kind: 'id', audience: 'https://custom.example.com/aud'}]);
    expect(warnings).toEqual([]);
  });

  it('sends an access token for cloud-platform without useIdToken, warning about an ignored audience', async () => {
    const {authFetch, source, warnings} = setup({
      authCredential: accessCredential,
      audience: 'https://svc',
    });
    await authFetch(`${target.origin}/`);
    expect(source.requests).toEqual([
      {kind: 'access', scopes: ['https://www.googleapis.com/auth/cloud-platform']},
    ]);
    expect(warnings[0]).toMatch(/^MCP_GOOGLE_AUTH_AUDIENCE_IGNORED: /);
  });

  it('asks for the configured scopes', async () => {
    const {authFetch, source} = setup({
      authCredential: {
        authType: 'serviceAccount',
        serviceAccount: {useDefaultCredential: true, scopes: ['a', 'b']},
      },
    });
    await authFetch(`${target.origin}/`);
    expect(source.requests).toEqual([{kind: 'access', scopes: ['a', 'b']}]);
  });

  it("accepts ADK Python's snake_case credential JSON", async () => {
    const {authFetch, source} = setup({
      authCredential: {
        auth_type: 'serviceAccount',
        service_account: {
          use_default_credential: true,
          use_id_token: true,
          audience: 'https://aud.example',
        },
      } as unknown as AuthCredential,
    });
    await authFetch(`${target.origin}/`);
    expect(source.requests).toEqual([{kind: 'id', audience: 'https://aud.example'}]);
  });

  it('fetches one token for 100 concurrent requests', async () => {
    const {authFetch, source} = setup({targetUrl: target.origin});
    const responses = await Promise.all(
      Array.from({length: 100}, () => authFetch(`${target.origin}/x`)),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(source.calls).toBe(1);
    expect(new Set(target.seen.map((s) => s.headers.authorization))).toEqual(
      new Set(['Bearer tok-1']),
    );
  });

  it('passes a token-minting failure to the caller', async () => {
    const source = new FakeTokenSource();
    source.getToken = () => Promise.reject(new Error('no credentials'));
    const {authFetch} = setup({}, source);
    await expect(authFetch(`${target.origin}/`)).rejects.toThrow('no credentials');
    expect(target.seen).toHaveLength(0);
  });
});

describe('googleAuthFetch: 401 and 403', () => {
  it('invalidates a refused token and retries once with a fresh one, replaying the body', async () => {
    target.handler = refuse(new Set(['tok-1']));
    const {authFetch, source} = setup();
    const res = await authFetch(`${target.origin}/mcp`, {
      method: 'POST',
      body: '{"a":1}',
      headers: {'content-type': 'application/json'},
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok {"a":1}');
    expect(source.calls).toBe(2);
    expect(
      target.seen.map((s) => [s.headers.authorization, s.body, s.headers['content-type']]),
    ).toEqual([
      ['Bearer tok-1', '{"a":1}', 'application/json'],
      ['Bearer tok-2', '{"a":1}', 'application/json'],
    ]);
  });

  it('reads a ReadableStream body into memory so that it can be replayed', async () => {
    target.handler = refuse(new Set(['tok-1']));
    const {authFetch} = setup();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('part1-'));
        controller.enqueue(new TextEncoder().encode('part2'));
        controller.close();
      },
    });
    const res = await authFetch(`${target.origin}/`, {
      method: 'POST',
      body,
      duplex: 'half',
    } as RequestInit);
    expect(await res.text()).toBe('ok part1-part2');
    expect(target.seen.map((s) => s.body)).toEqual(['part1-part2', 'part1-part2']);
  });

  it('replays Uint8Array, URLSearchParams and Blob bodies and a Request input', async () => {
    target.handler = refuse(new Set(['tok-1']));
    const {authFetch} = setup();
    expect(
      await (
        await authFetch(`${target.origin}/`, {
          method: 'POST',
          body: new TextEncoder().encode('bytes'),
        })
      ).text(),
    ).toBe('ok bytes');
    target.handler = refuse(new Set(['tok-2']));
    expect(
      await (
        await authFetch(`${target.origin}/`, {method: 'POST', body: new URLSearchParams({q: '1'})})
      ).text(),
    ).toBe('ok q=1');
    target.handler = refuse(new Set(['tok-3']));
    expect(
      await (
        await authFetch(`${target.origin}/`, {method: 'POST', body: new Blob(['blob'])})
      ).text(),
    ).toBe('ok blob');
    target.handler = refuse(new Set(['tok-4']));
    const request = new Request(`${target.origin}/req`, {
      method: 'PUT',
      body: 'from-request',
      headers: {'x-a': '1'},
    });
    const res = await authFetch(request);
    expect(await res.text()).toBe('ok from-request');
    expect(target.seen.slice(-2).map((s) => [s.method, s.path, s.headers['x-a'], s.body])).toEqual([
      ['PUT', '/req', '1', 'from-request'],
      ['PUT', '/req', '1', 'from-request'],
    ]);
  });

  it('returns the second 401 without a third attempt, and explains it', async () => {
    target.handler = (_req, res) =>
      void res
        .writeHead(401, {
          'www-authenticate':
            'Bearer error="invalid_token", error_description="The access token could not be verified"',
        })
        .end();
    const source = new FakeTokenSource({jwt: true, email: 'agent@p.iam.gserviceaccount.com'});
    const {authFetch} = setup({targetUrl: target.origin}, source);
    const res = await authFetch(`${target.origin}/mcp`);
    expect(res.status).toBe(401);
    expect(target.seen).toHaveLength(2);
    const text = explainAuthFailure(res) ?? '';
    expect(text).toContain(`HTTP 401 from ${target.origin}`);
    expect(text).toContain('"The access token could not be verified"');
    expect(text).toContain(
      `An ID token for agent@p.iam.gserviceaccount.com with audience "${target.origin}" was sent in authorization`,
    );
    expect(text).toContain('A fresh token was fetched and refused as well');
    for (const seen of target.seen) {
      const token = String(seen.headers.authorization).replace('Bearer ', '');
      expect(text).not.toContain(token);
    }
  });

  it('makes one refetch for 200 concurrent requests refused with the same token', async () => {
    target.handler = refuse(new Set(['tok-1']));
    const {authFetch, source} = setup({targetUrl: target.origin});
    const responses = await Promise.all(
      Array.from({length: 200}, (_, i) =>
        authFetch(`${target.origin}/`, {method: 'POST', body: String(i)}),
      ),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(source.calls).toBe(2);
    await Promise.all(responses.map((r) => r.text()));
  });

  it('returns a 403 as it is, without a retry, and explains the usual causes', async () => {
    target.handler = (_req, res) => void res.writeHead(403).end('forbidden');
    const source = new FakeTokenSource({jwt: true, email: 'agent@p.iam.gserviceaccount.com'});
    const {authFetch} = setup({}, source);
    const res = await authFetch(`${target.origin}/`);
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('forbidden');
    expect(target.seen).toHaveLength(1);
    expect(source.calls).toBe(1);
    expect(explainAuthFailure(res)).toMatch(
      /HTTP 403 .*agent@p\.iam\.gserviceaccount\.com lacks roles\/run\.invoker.*--member=serviceAccount:agent@p\.iam\.gserviceaccount\.com.*no token reached the front/,
    );
  });

  it('explains that an access token was sent where an ID token is needed', async () => {
    target.handler = (_req, res) => void res.writeHead(401).end();
    const {authFetch} = setup({authCredential: accessCredential});
    const res = await authFetch(`${target.origin}/`);
    expect(explainAuthFailure(res)).toContain('An OAuth2 access token was sent in authorization');
    expect(explainAuthFailure(res)).toContain('useIdToken: true');
  });

  it('explains a 403 on another origin: the credential was withheld', async () => {
    other.handler = (_req, res) => void res.writeHead(403).end();
    const {authFetch} = setup({targetUrl: target.origin});
    const res = await authFetch(`${other.origin}/x`);
    expect(res.status).toBe(403);
    expect(explainAuthFailure(res)).toContain(
      'No token reached the front (the request went to another origin',
    );
  });
});

describe('googleAuthFetch: cooldown after a fresh token is refused too', () => {
  /** A clock the test moves by hand, in epoch ms. */
  function manualClock(start = 1_000_000) {
    let time = start;
    return {
      now: () => time,
      advance: (ms: number) => {
        time += ms;
      },
    };
  }
  const refuseAll = (_req: Seen, res: ServerResponse): void => void res.writeHead(401).end('no');

  it('stops refetching for 30 s once the fresh token is refused too, then refetches once again', async () => {
    target.handler = refuseAll;
    const clock = manualClock();
    const source = new FakeTokenSource({jwt: true, email: 'agent@p.iam.gserviceaccount.com'});
    const {authFetch} = setup({targetUrl: target.origin, now: clock.now}, source);

    const first = await authFetch(`${target.origin}/mcp`);
    expect(first.status).toBe(401);
    expect(source.calls).toBe(2);
    expect(target.seen).toHaveLength(2);

    clock.advance(29_999);
    for (let i = 0; i < 3; i++) {
      const res = await authFetch(`${target.origin}/mcp`, {method: 'POST', body: String(i)});
      expect(res.status).toBe(401);
      expect(await res.text()).toBe('no');
      expect(explainAuthFailure(res)).toContain(
        'A fresh token was refused shortly before, so no new one was fetched for this request',
      );
    }
    expect(source.calls).toBe(2);
    expect(target.seen).toHaveLength(5);
    // The token that was refused is still the one sent: it was not invalidated.
    expect(new Set(target.seen.slice(1).map((s) => s.headers.authorization)).size).toBe(1);

    clock.advance(1);
    const after = await authFetch(`${target.origin}/mcp`);
    expect(after.status).toBe(401);
    expect(explainAuthFailure(after)).toContain('A fresh token was fetched and refused as well');
    expect(source.calls).toBe(3);
    expect(target.seen).toHaveLength(7);

    // Refused again after the refetch: a new cooldown.
    await authFetch(`${target.origin}/mcp`);
    expect(source.calls).toBe(3);
  });

  it('ends the cooldown early on any response other than a 401', async () => {
    target.handler = refuseAll;
    const clock = manualClock();
    const {authFetch, source} = setup({targetUrl: target.origin, now: clock.now});
    expect((await authFetch(`${target.origin}/`)).status).toBe(401);
    expect(source.calls).toBe(2);

    target.handler = (_req, res) => void res.end('ok');
    expect((await authFetch(`${target.origin}/`)).status).toBe(200);
    expect(source.calls).toBe(2);

    // The clock has not moved: without the 200 this 401 would be returned as it is.
    target.handler = refuse(new Set(['tok-2']));
    const res = await authFetch(`${target.origin}/`, {method: 'POST', body: 'again'});
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok again');
    expect(source.calls).toBe(3);
  });

  it('still refetches every revoked token once while the clock stands still', async () => {
    const clock = manualClock();
    const {authFetch, source} = setup({targetUrl: target.origin, now: clock.now});
    for (let n = 1; n <= 3; n++) {
      target.handler = refuse(new Set([`tok-${n}`]));
      const res = await authFetch(`${target.origin}/`);
      expect(res.status).toBe(200);
      expect(source.calls).toBe(n + 1);
    }
  });

  it('makes two token requests for 200 concurrent requests that are always refused, then none', async () => {
    target.handler = refuseAll;
    const clock = manualClock();
    const {authFetch, source} = setup({targetUrl: target.origin, now: clock.now});
    const responses = await Promise.all(
      Array.from({length: 200}, (_, i) =>
        authFetch(`${target.origin}/`, {method: 'POST', body: String(i)}),
      ),
    );
    expect(responses.every((r) => r.status === 401)).toBe(true);
    await Promise.all(responses.map((r) => r.text()));
    expect(source.calls).toBe(2);
    expect((await authFetch(`${target.origin}/`)).status).toBe(401);
    expect(source.calls).toBe(2);
  });

  it('applies when the container behind x-serverless-authorization refuses the caller Authorization', async () => {
    target.handler = (req, res) =>
      void (req.headers.authorization === 'Basic app'
        ? res.writeHead(401).end('app says no')
        : res.end('ok'));
    const clock = manualClock();
    const {authFetch, source} = setup({
      targetUrl: target.origin,
      header: 'x-serverless-authorization',
      now: clock.now,
    });
    const init = {headers: {authorization: 'Basic app'}};
    expect((await authFetch(`${target.origin}/`, init)).status).toBe(401);
    expect(source.calls).toBe(2);
    for (let i = 0; i < 5; i++) {
      const res = await authFetch(`${target.origin}/`, init);
      expect(await res.text()).toBe('app says no');
    }
    expect(source.calls).toBe(2);
    expect(target.seen.every((s) => s.headers.authorization === 'Basic app')).toBe(true);
  });

  it('is off with unauthorizedRetryCooldownMs: 0, and refuses a bad value or clock', async () => {
    target.handler = refuseAll;
    const {authFetch, source} = setup({targetUrl: target.origin, unauthorizedRetryCooldownMs: 0});
    await authFetch(`${target.origin}/`);
    await authFetch(`${target.origin}/`);
    await authFetch(`${target.origin}/`);
    // The initial token, then one refetch per request: the behaviour without a cooldown.
    expect(source.calls).toBe(4);
    expect(target.seen).toHaveLength(6);

    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '30' as never]) {
      expect(() => setup({unauthorizedRetryCooldownMs: bad})).toThrow(
        /unauthorizedRetryCooldownMs must be a finite number of milliseconds >= 0/,
      );
    }
    expect(() => setup({now: 5 as never})).toThrow(/googleAuthFetch now must be a function/);
  });
});

describe('googleAuthFetch: header modes', () => {
  it('authorization (default) replaces the caller Authorization', async () => {
    const {authFetch} = setup();
    await authFetch(`${target.origin}/`, {headers: {Authorization: 'Basic caller'}});
    expect(target.seen[0]?.headers.authorization).toBe('Bearer tok-1');
  });

  it('x-serverless-authorization leaves the caller Authorization untouched', async () => {
    const {authFetch} = setup({header: 'x-serverless-authorization'});
    await authFetch(`${target.origin}/`, {headers: {Authorization: 'Bearer app-token'}});
    expect(target.seen[0]?.headers['x-serverless-authorization']).toBe('Bearer tok-1');
    expect(target.seen[0]?.headers.authorization).toBe('Bearer app-token');
  });

  it('proxy-authorization carries the token for IAP', async () => {
    const {authFetch} = setup({header: 'proxy-authorization'});
    await authFetch(`${target.origin}/`);
    expect(target.seen[0]?.headers['proxy-authorization']).toBe('Bearer tok-1');
    expect(target.seen[0]?.headers.authorization).toBeUndefined();
  });

  it('takes the caller headers in every HeadersInit shape, leaves them unchanged, and the token wins', async () => {
    const {authFetch} = setup();
    const asHeaders = new Headers({'x-trace': 'a', authorization: 'Basic caller'});
    const asRecord = {'X-Trace': 'a', AUTHORIZATION: 'Basic caller'};
    const shapes: RequestInit['headers'][] = [
      asRecord,
      [
        ['X-Trace', 'a'],
        ['Authorization', 'Basic caller'],
      ],
      asHeaders,
    ];
    for (const headers of shapes) await authFetch(`${target.origin}/`, {headers});
    expect(target.seen.map((s) => [s.headers['x-trace'], s.headers.authorization])).toEqual([
      ['a', 'Bearer tok-1'],
      ['a', 'Bearer tok-1'],
      ['a', 'Bearer tok-1'],
    ]);
    expect(asHeaders.get('authorization')).toBe('Basic caller');
    expect(asRecord).toEqual({'X-Trace': 'a', AUTHORIZATION: 'Basic caller'});
  });

  it('joins a repeated header name as Headers does', async () => {
    const {authFetch} = setup();
    await authFetch(`${target.origin}/`, {
      headers: [
        ['X-Multi', 'one'],
        ['x-multi', 'two'],
      ],
    });
    expect(target.seen[0]?.headers['x-multi']).toBe('one, two');
  });

  it('refuses an unknown header mode', () => {
    expect(() => setup({header: 'cookie' as never})).toThrow(TypeError);
    expect(() => setup({header: 'cookie' as never})).toThrow(/header must be one of/);
  });
});

describe('googleAuthFetch: redirects never leak the token', () => {
  it('follows a same-origin 307 with the token, method and body', async () => {
    target.handler = (req, res) => {
      if (req.path === '/old') res.writeHead(307, {location: '/new'}).end();
      else res.end(`ok ${req.method} ${req.body}`);
    };
    const {authFetch} = setup();
    const res = await authFetch(`${target.origin}/old`, {method: 'POST', body: 'payload'});
    expect(await res.text()).toBe('ok POST payload');
    expect(target.seen.map((s) => [s.path, s.headers.authorization])).toEqual([
      ['/old', 'Bearer tok-1'],
      ['/new', 'Bearer tok-1'],
    ]);
  });

  it('drops every credential on a redirect to another origin, and never adds it back', async () => {
    target.handler = (req, res) => {
      if (req.path === '/start') res.writeHead(302, {location: `${other.origin}/elsewhere`}).end();
      else res.end('back on target');
    };
    other.handler = (_req, res) =>
      void res.writeHead(307, {location: `${target.origin}/again`}).end();
    const {authFetch} = setup({header: 'x-serverless-authorization'});
    const res = await authFetch(`${target.origin}/start`, {
      headers: {
        authorization: 'Bearer app',
        cookie: 'session=1',
        'proxy-authorization': 'Bearer p',
      },
    });
    expect(await res.text()).toBe('back on target');
    const hop = other.seen[0];
    expect(hop?.headers.authorization).toBeUndefined();
    expect(hop?.headers['x-serverless-authorization']).toBeUndefined();
    expect(hop?.headers['proxy-authorization']).toBeUndefined();
    expect(hop?.headers.cookie).toBeUndefined();
    expect(target.seen[1]?.path).toBe('/again');
    expect(target.seen[1]?.headers['x-serverless-authorization']).toBeUndefined();
  });

  it('turns a POST into a GET without body on 303', async () => {
    target.handler = (req, res) => {
      if (req.path === '/form') res.writeHead(303, {location: '/done'}).end();
      else res.end(`${req.method} [${req.body}] ${String(req.headers['content-type'])}`);
    };
    const {authFetch} = setup();
    const res = await authFetch(`${target.origin}/form`, {
      method: 'POST',
      body: 'x=1',
      headers: {'content-type': 'text/plain'},
    });
    expect(await res.text()).toBe('GET [] undefined');
  });

  it("returns the redirect itself with redirect: 'manual', and throws with 'error'", async () => {
    target.handler = (_req, res) => void res.writeHead(302, {location: `${other.origin}/x`}).end();
    const {authFetch} = setup();
    const res = await authFetch(`${target.origin}/`, {redirect: 'manual'});
    expect(res.status).toBe(302);
    await expect(authFetch(`${target.origin}/`, {redirect: 'error'})).rejects.toThrow(TypeError);
    expect(other.seen).toHaveLength(0);
  });

  it('stops after maxRedirects', async () => {
    target.handler = (_req, res) => void res.writeHead(302, {location: '/loop'}).end();
    const {authFetch} = setup({maxRedirects: 2});
    await expect(authFetch(`${target.origin}/`)).rejects.toThrow(/more than 2 redirects/);
    expect(target.seen).toHaveLength(3);
  });
});

describe('googleAuthFetch: fixed credentials', () => {
  it('sends an HTTP bearer token and does not retry its 401', async () => {
    target.handler = (_req, res) => void res.writeHead(401).end();
    const {authFetch} = setup({
      authCredential: {
        authType: 'http',
        http: {scheme: 'bearer', credentials: {token: 'static-tok'}},
      },
    });
    const res = await authFetch(`${target.origin}/`);
    expect(res.status).toBe(401);
    expect(target.seen.map((s) => s.headers.authorization)).toEqual(['Bearer static-tok']);
    expect(explainAuthFailure(res)).toContain('A fixed HTTP bearer token was sent');
  });

  it('sends HTTP basic credentials with additional headers, only to the target', async () => {
    const {authFetch} = setup({
      targetUrl: target.origin,
      authCredential: {
        authType: 'http',
        http: {
          scheme: 'basic',
          credentials: {username: 'u', password: 'p'},
          additionalHeaders: {'x-extra': 'e'},
        },
      },
    });
    await authFetch(`${target.origin}/`);
    await authFetch(`${other.origin}/`);
    expect(target.seen[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('u:p').toString('base64')}`,
    );
    expect(target.seen[0]?.headers['x-extra']).toBe('e');
    expect(other.seen[0]?.headers.authorization).toBeUndefined();
    expect(other.seen[0]?.headers['x-extra']).toBeUndefined();
  });

  it('drops additional headers named in any case on a redirect to another origin', async () => {
    target.handler = (_req, res) => void res.writeHead(302, {location: `${other.origin}/x`}).end();
    const {authFetch} = setup({
      authCredential: {
        authType: 'http',
        http: {
          scheme: 'bearer',
          credentials: {token: 'static-tok'},
          additionalHeaders: {'X-Tenant-Key': 'secret-ish'},
        },
      },
    });
    await authFetch(`${target.origin}/`, {headers: {'x-tenant-key': 'from-caller'}});
    expect(target.seen[0]?.headers['x-tenant-key']).toBe('secret-ish');
    expect(other.seen[0]?.headers['x-tenant-key']).toBeUndefined();
    expect(other.seen[0]?.headers.authorization).toBeUndefined();
  });

  it('sends an API key in the header the scheme names, or in the query', async () => {
    const header = setup({
      authCredential: {authType: 'apiKey', apiKey: 'k1'},
      authScheme: {type: 'apiKey', in: 'header', name: 'X-Api-Key'},
    });
    await header.authFetch(`${target.origin}/h`);
    expect(target.seen[0]?.headers['x-api-key']).toBe('k1');
    const query = setup({
      authCredential: {authType: 'apiKey', apiKey: 'k2'},
      authScheme: {type: 'apiKey', in: 'query', name: 'key'},
    });
    await query.authFetch(`${target.origin}/q?a=1`);
    expect(target.seen[1]?.path).toBe('/q?a=1&key=k2');
  });

  it('sends an OAuth2 access token as a bearer token', async () => {
    const {authFetch} = setup({
      authCredential: {authType: 'oauth2', oauth2: {accessToken: 'ya29.user'}},
    });
    await authFetch(`${target.origin}/`);
    expect(target.seen[0]?.headers.authorization).toBe('Bearer ya29.user');
  });

  it('refuses malformed credentials and misused options when built', () => {
    expect(() =>
      setup({authCredential: {authType: 'http', http: {scheme: 'bearer', credentials: {}}}}),
    ).toThrow(InvalidCredentialError);
    expect(() =>
      setup({authCredential: {authType: 'http', http: {scheme: 'bearer', credentials: {}}}}),
    ).toThrow(/http\.credentials\.token/);
    expect(() => setup({authCredential: {authType: 'apiKey', apiKey: 'k'}})).toThrow(
      /authScheme must be \{type: 'apiKey'/,
    );
    expect(() =>
      setup({
        authCredential: {authType: 'apiKey', apiKey: 'k'},
        authScheme: {type: 'apiKey', in: 'cookie', name: 'k'},
      }),
    ).toThrow(TypeError);
    expect(() => setup({authCredential: {authType: 'oauth2', oauth2: {}}})).toThrow(
      /oauth2\.accessToken/,
    );
    expect(() => setup({authCredential: {authType: 'serviceAccount'}})).toThrow(
      InvalidCredentialError,
    );
    expect(() => setup({targetUrl: 'ftp://x'})).toThrow(/targetUrl must be an http\(s\) URL/);
    expect(() => setup({maxRedirects: -1})).toThrow(/maxRedirects/);
    expect(() => setup({fetch: 'no' as never})).toThrow(/fetch must be a function/);
  });
});

describe('googleAuthFetch: wraps the given fetch', () => {
  it('calls options.fetch with redirect manual and the auth header', async () => {
    const calls: Array<{url: string; redirect: string | undefined; auth: string | null}> = [];
    const {authFetch} = setup({
      fetch: (input, init) => {
        calls.push({
          url: String(input),
          redirect: init?.redirect,
          auth: new Headers(init?.headers).get('authorization'),
        });
        return Promise.resolve(new Response('wrapped'));
      },
    });
    const res = await authFetch('https://svc-abc.a.run.app/mcp');
    expect(await res.text()).toBe('wrapped');
    expect(calls).toEqual([
      {url: 'https://svc-abc.a.run.app/mcp', redirect: 'manual', auth: 'Bearer tok-1'},
    ]);
  });
});
