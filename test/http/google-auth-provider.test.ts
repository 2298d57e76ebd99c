import {describe, expect, it} from 'vitest';
import {googleAuthProvider} from '../../src/http/google-auth-provider.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {FakeTokenSource} from './support/loopback.js';

const idCredential = {
  authType: 'serviceAccount',
  serviceAccount: {useDefaultCredential: true, useIdToken: true},
} as const;

describe('googleAuthProvider', () => {
  it('hands out the cached token, fetched once for concurrent callers', async () => {
    const source = new FakeTokenSource();
    const provider = googleAuthProvider({
      authCredential: idCredential,
      targetUrl: 'https://svc-abc.a.run.app/mcp',
      tokenSource: source,
      cache: new TokenCache(),
    });
    const tokens = await Promise.all(Array.from({length: 20}, () => provider.token()));
    expect(new Set(tokens)).toEqual(new Set(['tok-1']));
    expect(source.requests).toEqual([{kind: 'id', audience: 'https://svc-abc.a.run.app'}]);
  });

  it('onUnauthorized drops the last token so that the next token() is fresh', async () => {
    const source = new FakeTokenSource();
    const provider = googleAuthProvider({
      authCredential: idCredential,
      audience: 'https://svc',
      tokenSource: source,
      cache: new TokenCache(),
    });
    expect(await provider.token()).toBe('tok-1');
    expect(await provider.token()).toBe('tok-1');
    await provider.onUnauthorized();
    expect(await provider.token()).toBe('tok-2');
    expect(source.calls).toBe(2);
  });

  it('needs an audience or a targetUrl for ID tokens', () => {
    expect(() =>
      googleAuthProvider({authCredential: idCredential, tokenSource: new FakeTokenSource()}),
    ).toThrow(/needs audience .* or targetUrl/);
  });

  it('gives access tokens without an audience', async () => {
    const source = new FakeTokenSource();
    const provider = googleAuthProvider({
      authCredential: {authType: 'serviceAccount', serviceAccount: {useDefaultCredential: true}},
      tokenSource: source,
      cache: new TokenCache(),
    });
    expect(await provider.token()).toBe('tok-1');
    expect(source.requests[0]?.kind).toBe('access');
  });

  it('hands out a fixed bearer or OAuth2 token, and refuses credentials that are not bearer tokens', async () => {
    const bearer = googleAuthProvider({
      authCredential: {authType: 'http', http: {scheme: 'bearer', credentials: {token: 'b1'}}},
    });
    expect(await bearer.token()).toBe('b1');
    await bearer.onUnauthorized();
    expect(await bearer.token()).toBe('b1');
    const oauth = googleAuthProvider({
      authCredential: {authType: 'oauth2', oauth2: {accessToken: 'ya29.x'}},
    });
    expect(await oauth.token()).toBe('ya29.x');
    expect(() =>
      googleAuthProvider({
        authCredential: {
          authType: 'http',
          http: {scheme: 'basic', credentials: {username: 'u', password: 'p'}},
        },
      }),
    ).toThrow(/bearer tokens only/);
  });
});
