/**
 * Where the HTTP proxy listens and whom it serves: loopback by default, refusal to listen
 * beyond it without an explicit opt-in, and the Host/Origin checks against DNS rebinding.
 */
import {describe, expect, it} from 'vitest';
import {startHttpProxy} from '../../src/cli/proxy/http-proxy.js';
import {
  DEFAULT_PROXY_HOST,
  hostNameOf,
  isLoopbackHost,
  refuseLocalRequest,
} from '../../src/cli/proxy/loopback.js';
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

describe('refuseLocalRequest', () => {
  it('serves loopback Host names, with or without a loopback Origin', () => {
    expect(refuseLocalRequest({host: '127.0.0.1:3000'}, true)).toBeUndefined();
    expect(
      refuseLocalRequest({host: 'localhost:3000', origin: 'http://localhost:6274'}, true),
    ).toBeUndefined();
  });

  it('refuses a non-loopback Host on a loopback proxy (DNS rebinding)', () => {
    expect(refuseLocalRequest({host: 'attacker.example:3000'}, true)).toMatch(
      /not a loopback name/,
    );
    expect(refuseLocalRequest({}, true)).toMatch(/not a loopback name/);
  });

  it('refuses a browser request from another site, wherever the proxy listens', () => {
    expect(
      refuseLocalRequest({host: '127.0.0.1:3000', origin: 'https://evil.example'}, true),
    ).toMatch(/another site/);
    expect(
      refuseLocalRequest({host: '10.0.0.5:3000', origin: 'https://evil.example'}, false),
    ).toMatch(/another site/);
    expect(
      refuseLocalRequest({host: '10.0.0.5:3000', origin: 'http://10.0.0.5:3000'}, false),
    ).toBeUndefined();
    expect(refuseLocalRequest({host: '10.0.0.5:3000'}, false)).toBeUndefined();
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
      `The proxy listens on ${host}, beyond this machine: anyone who can reach its port calls https://svc-abc.a.run.app as this proxy's Google identity (the service account).`,
    ]);
  });

  it('rejects bad options with a TypeError naming the option', async () => {
    for (const remoteUrl of ['not a url', 'ftp://svc-abc.a.run.app/mcp']) {
      await expect(startHttpProxy({remoteUrl, fetch: unusedFetch})).rejects.toThrow(
        /options\.remoteUrl must be an http\(s\) URL/,
      );
    }
    await expect(
      startHttpProxy({remoteUrl: 'https://svc-abc.a.run.app/mcp', fetch: unusedFetch, port: 70000}),
    ).rejects.toThrow(/options\.port/);
  });

  it('answers 404 off the /mcp path and 400 to a first request that is not initialize', async () => {
    const proxy = await startHttpProxy({
      remoteUrl: 'https://svc-abc.a.run.app/mcp',
      fetch: unusedFetch,
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
      expect(notInit.status).toBe(400);
      await notInit.body?.cancel();
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
    } finally {
      await proxy.close();
    }
  });
});
