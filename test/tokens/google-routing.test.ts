/**
 * Production code reaches the emulator only when GOOGLE_AUTH_EMULATOR_HOST (or the explicit
 * option) routes Google's auth hosts there, with a one-time warning. No request here leaves
 * the process: the fetch under test is a recorder that answers by itself.
 */
import {generateKeyPairSync} from 'node:crypto';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {createTokenSource} from '../../src/tokens/create-token-source.js';
import {
  createGoogleFetch,
  googleJwksUrl,
  resolveEmulatorHost,
  routeToEmulator,
  type FetchLike,
} from '../../src/tokens/google-routing.js';
import {TokenCache} from '../../src/tokens/token-cache.js';

const EMULATOR = '127.0.0.1:8085';

/** A fetch that records the URLs it is asked for and answers 400 invalid_grant. */
function recorder(): {fetch: FetchLike; urls: string[]} {
  const urls: string[] = [];
  return {
    urls,
    fetch: async (input) => {
      urls.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return Response.json({error: 'invalid_grant', error_description: 'recorded'}, {status: 400});
    },
  };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('routing to the emulator', () => {
  it('leaves every URL alone when no emulator is configured', async () => {
    vi.stubEnv('GOOGLE_AUTH_EMULATOR_HOST', '');
    const warn = vi.spyOn(process, 'emitWarning');
    const wire = recorder();
    const routed = createGoogleFetch({fetch: wire.fetch});
    await routed('https://oauth2.googleapis.com/token');
    expect(wire.urls).toEqual(['https://oauth2.googleapis.com/token']);
    expect(googleJwksUrl()).toBe('https://www.googleapis.com/oauth2/v3/certs');
    expect(warn).not.toHaveBeenCalled();
  });

  it("sends a key source's token request to Google itself without the variable", async () => {
    const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048});
    const wire = recorder();
    const source = createTokenSource(
      {
        serviceAccountCredential: {
          type: 'service_account',
          clientEmail: 'sa@p.iam.gserviceaccount.com',
          privateKey: privateKey.export({type: 'pkcs8', format: 'pem'}).toString(),
        },
      },
      {env: {}, fetch: wire.fetch, cache: new TokenCache()},
    );
    await expect(source.getToken({kind: 'id', audience: 'https://a.run.app'})).rejects.toThrow(
      /HTTP 400/,
    );
    expect(wire.urls).toEqual(['https://oauth2.googleapis.com/token']);
  });

  it("rewrites only https URLs on Google's auth hosts, and warns once", async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const wire = recorder();
    const routed = createGoogleFetch({emulatorHost: EMULATOR, fetch: wire.fetch});
    await routed('https://example.com/token');
    await routed('http://oauth2.googleapis.com/token');
    expect(warn).not.toHaveBeenCalled();
    await routed('https://oauth2.googleapis.com/token');
    await routed(new URL('https://www.googleapis.com/oauth2/v3/certs?x=1'));
    await routed(
      new Request(
        'https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/a@b.c:generateIdToken',
        {method: 'POST', body: '{}'},
      ),
    );
    expect(wire.urls).toEqual([
      'https://example.com/token',
      'http://oauth2.googleapis.com/token',
      `http://${EMULATOR}/token`,
      `http://${EMULATOR}/oauth2/v3/certs?x=1`,
      `http://${EMULATOR}/v1/projects/-/serviceAccounts/a@b.c:generateIdToken`,
    ]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain(EMULATOR);
  });

  it('reads GOOGLE_AUTH_EMULATOR_HOST, with the option taking precedence', () => {
    vi.stubEnv('GOOGLE_AUTH_EMULATOR_HOST', 'http://127.0.0.1:9000/');
    expect(resolveEmulatorHost()).toBe('127.0.0.1:9000');
    expect(resolveEmulatorHost(EMULATOR)).toBe(EMULATOR);
    expect(googleJwksUrl()).toBe('http://127.0.0.1:9000/oauth2/v3/certs');
    expect(routeToEmulator('https://sts.googleapis.com/v1/token', undefined)).toBe(
      'https://sts.googleapis.com/v1/token',
    );
  });

  it('refuses a value that is not host:port, naming the variable', () => {
    expect(() => resolveEmulatorHost('localhost')).toThrow(/GOOGLE_AUTH_EMULATOR_HOST/);
    expect(() => resolveEmulatorHost('127.0.0.1:80/path')).toThrow(TypeError);
  });
});
