/**
 * Where the HTTP proxy listens and whom it serves: loopback by default, refusal to listen
 * beyond it without an explicit opt-in, and the Host/Origin/token checks of the
 * RequestGuard (the attacks themselves are in test/security/proxy-*.test.ts).
 */
import {describe, expect, it} from 'vitest';
import {startHttpProxy} from '../../src/cli/proxy/http-proxy.js';
import {DEFAULT_PROXY_HOST, hostNameOf, isLoopbackHost} from '../../src/cli/proxy/loopback.js';
import {RequestGuard, normalizeHost} from '../../src/cli/proxy/request-guard.js';
import {unassignedAddress} from './cli-harness.js';

const unusedFetch = (): Promise<Response> => Promise.reject(new Error('not used'));
const silent = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};

describe('isLoopbackHost', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    'localhost',
    'LOCALHOST',
    'app.localhost',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
  ])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each([
    '0.0.0.0',
    '::',
    '192.168.1.10',
    '10.0.0.1',
    'example.com',
    '128.0.0.1',
    '::ffff:10.0.0.1',
    '',
  ])('%s is not loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('hostNameOf', () => {
  it('drops the port and the IPv6 brackets', () => {
    expect(hostNameOf('127.0.0.1:3000')).toBe('127.0.0.1');
    expect(hostNameOf('[::1]:3000')).toBe('::1');
    expect(hostNameOf('Localhost')).toBe('localhost');
  });
});

describe('RequestGuard', () => {
  it('serves loopback Host names, with or without a loopback Origin, on every bind', () => {
    for (const boundHost of ['127.0.0.1', '0.0.0.0', '::', '192.168.1.10']) {
      const guard = new RequestGuard({boundHost});
      expect(guard.check({host: '127.0.0.1:3000'})).toBeUndefined();
      expect(guard.check({host: '[::1]:3000'})).toBeUndefined();
      expect(
        guard.check({host: 'localhost:3000', origin: 'http://localhost:6274'}),
      ).toBeUndefined();
    }
  });

  it('serves the bound address and --allowed-host names, never a wildcard as a name', () => {
    const guard = new RequestGuard({
      boundHost: '192.168.1.10',
      allowedHosts: ['Dev-Box.lan', '[fd00::5]'],
    });
    expect(guard.check({host: '192.168.1.10:3000'})).toBeUndefined();
    expect(
      guard.check({host: 'dev-box.lan:3000', origin: 'http://dev-box.lan:3000'}),
    ).toBeUndefined();
    expect(guard.check({host: '[fd00::5]:3000'})).toBeUndefined();
    expect(new RequestGuard({boundHost: '0.0.0.0'}).check({host: '0.0.0.0:3000'})).toMatch(
      /not an allowed name/,
    );
  });

  it('refuses any other Host, a missing one, and a browser request from another site', () => {
    const guard = new RequestGuard({boundHost: '0.0.0.0', allowedHosts: ['dev-box.lan']});
    expect(guard.check({host: 'attacker.example:3000'})).toMatch(/not an allowed name/);
    expect(guard.check({})).toMatch(/not an allowed name/);
    expect(guard.check({host: '127.0.0.1:3000', origin: 'https://evil.example'})).toMatch(
      /another site/,
    );
    expect(guard.check({host: '127.0.0.1:3000', origin: 'null'})).toMatch(/not a URL/);
  });

  it('asks for the token when one is required, without ever naming it', () => {
    const guard = new RequestGuard({boundHost: '127.0.0.1', requireToken: 'a-long-enough-secret'});
    expect(
      guard.check({host: '127.0.0.1:3000', authorization: 'Bearer a-long-enough-secret'}),
    ).toBeUndefined();
    for (const authorization of [
      undefined,
      'Bearer wrong-secret-of-length',
      'a-long-enough-secret',
      'Basic a-long-enough-secret',
    ]) {
      const refused = guard.check({
        host: '127.0.0.1:3000',
        ...(authorization ? {authorization} : {}),
      });
      expect(refused).toMatch(/proxy token/);
      expect(refused).not.toContain('a-long-enough-secret');
    }
  });

  it('normalizes host names and refuses what cannot be one', () => {
    expect(normalizeHost('Dev-Box.LAN:8080')).toBe('dev-box.lan');
    expect(normalizeHost('[::1]:3000')).toBe('::1');
    expect(normalizeHost('fd00::5')).toBe('fd00::5');
    for (const bad of ['', 'http://x/y', 'a b', 'user@host'])
      expect(() => normalizeHost(bad)).toThrow(TypeError);
  });
});

describe('startHttpProxy listening address', () => {
  it('binds 127.0.0.1 by default', async () => {
    expect(DEFAULT_PROXY_HOST).toBe('127.0.0.1');
    const proxy = await startHttpProxy({
      remoteUrl: 'https://svc-abc.a.run.app/mcp',
      fetch: unusedFetch,
    });
    try {
      expect(proxy.host).toBe('127.0.0.1');
      expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}/mcp`);
    } finally {
      await proxy.close();
    }
  });

  it('refuses to listen beyond loopback without allowNonLoopback', async () => {
    const warnings: string[] = [];
    for (const host of ['0.0.0.0', '::', '192.168.1.10']) {
      await expect(
        startHttpProxy({
          remoteUrl: 'https://svc-abc.a.run.app/mcp',
          fetch: unusedFetch,
          host,
          logger: {...silent, warn: (m) => warnings.push(m)},
        }),
      ).rejects.toThrow(
        `options.host ${JSON.stringify(host)} is not a loopback address; set allowNonLoopback`,
      );
    }
    expect(warnings).toEqual([]);
  });

  it('accepts an address beyond loopback when allowed, warning about the risk before it binds', async () => {
    // An address no interface of this machine has: the bind fails, so nothing ever listens
    // beyond loopback, but the decision and the warning are the ones 0.0.0.0 would get.
    const host = unassignedAddress();
    const warnings: string[] = [];
    const error = await startHttpProxy({
      remoteUrl: 'https://svc-abc.a.run.app/mcp',
      fetch: unusedFetch,
      host,
      allowNonLoopback: true,
      logger: {...silent, warn: (m) => warnings.push(m)},
    }).then(
      async (proxy) => {
        await proxy.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect((error as {code?: unknown} | undefined)?.code).toBe('EADDRNOTAVAIL');
    expect(warnings).toEqual([
      `The proxy listens on ${host}, beyond this machine: anyone who can reach its port calls https://svc-abc.a.run.app as this proxy's Google identity (the service account). Add --require-token on a machine with other users.`,
    ]);
  });

  it('rejects bad options with a TypeError naming the option', async () => {
    for (const remoteUrl of ['not a url', 'ftp://svc-abc.a.run.app/mcp']) {
      await expect(startHttpProxy({remoteUrl, fetch: unusedFetch})).rejects.toThrow(
        /options\.remoteUrl must be an http\(s\) URL/,
      );
    }
    const remoteUrl = 'https://svc-abc.a.run.app/mcp';
    const bad: [Record<string, unknown>, RegExp][] = [
      [{port: 70000}, /options\.port/],
      [{maxSessions: 0}, /options\.maxSessions/],
      [{maxSessions: 1.5}, /options\.maxSessions/],
      [{allowedHosts: ['http://x/']}, /options\.allowedHosts/],
      [{requireToken: 'short'}, /options\.requireToken/],
      [{reinitializeTimeoutMs: 0}, /options\.reinitializeTimeoutMs/],
      [{fetch: 'not a function'}, /options\.fetch/],
    ];
    for (const [options, message] of bad) {
      await expect(startHttpProxy({remoteUrl, fetch: unusedFetch, ...options})).rejects.toThrow(
        message,
      );
    }
  });

  it('answers 404 off the /mcp path and for an unknown session; other requests without a session go to the remote as they are (a stateless server)', async () => {
    const forwarded: {sessionId: string | undefined; body: string}[] = [];
    const stateless = async (
      _input: string | URL | Request,
      init?: RequestInit,
    ): Promise<Response> => {
      const headers = (init?.headers ?? {}) as Record<string, string>;
      forwarded.push({
        sessionId: headers['mcp-session-id'],
        body: Buffer.from(init?.body as Uint8Array).toString('utf8'),
      });
      return new Response('{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}', {
        headers: {'content-type': 'application/json'},
      });
    };
    const proxy = await startHttpProxy({
      remoteUrl: 'https://svc-abc.a.run.app/mcp',
      fetch: stateless,
    });
    try {
      const offPath = await fetch(proxy.url.replace('/mcp', '/other'));
      expect(offPath.status).toBe(404);
      await offPath.body?.cancel();
      const notInit = await fetch(proxy.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'tools/list'}),
      });
      expect(notInit.status).toBe(200);
      expect(await notInit.json()).toEqual({jsonrpc: '2.0', id: 1, result: {tools: []}});
      expect(notInit.headers.get('mcp-session-id')).toBeNull();
      const unknown = await fetch(proxy.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': 'not-a-session',
        },
        body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'tools/list'}),
      });
      expect(unknown.status).toBe(404);
      await unknown.body?.cancel();
      expect(forwarded).toEqual([
        {sessionId: undefined, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'},
      ]);
      const notJson = await fetch(proxy.url, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: '{not json',
      });
      expect(notJson.status).toBe(400);
      expect(await notJson.json()).toMatchObject({error: {code: -32700}});
      const tooLarge = await fetch(proxy.url, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: `{"pad": "${'x'.repeat(4 * 1024 * 1024)}"}`,
      });
      expect(tooLarge.status).toBe(413);
      await tooLarge.body?.cancel();
      expect(forwarded).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});
