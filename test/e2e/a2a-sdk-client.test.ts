/**
 * A2A end to end through the emulated Cloud Run front: an @a2a-js/sdk client whose fetch is
 * googleAuthFetch talks to an @a2a-js/sdk server guarded by googleIdTokenUserBuilder (the demo
 * agent), and the agent executor sees the service account's email.
 */
import {randomUUID} from 'node:crypto';
import type {Message, MessageSendParams} from '@a2a-js/sdk';
import {ClientFactory, DefaultAgentCardResolver, JsonRpcTransportFactory} from '@a2a-js/sdk/client';
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {googleA2aClientFactory} from '../../src/a2a/index.js';
import {googleAuthFetch} from '../../src/http/google-auth-fetch.js';
import type {FetchLike} from '../../src/tokens/google-routing.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {startA2aStack} from '../a2a/support/a2a-stack.js';
import type {A2aStack} from '../a2a/support/a2a-stack.js';

let stack: A2aStack;
beforeAll(async () => {
  stack = await startA2aStack();
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.emu.resetCounts();
  stack.front.resetStats();
});

function message(text: string): MessageSendParams {
  return {
    message: {
      kind: 'message',
      messageId: randomUUID(),
      role: 'user',
      parts: [{kind: 'text', text}],
    },
  };
}

function replyText(result: unknown): string {
  const reply = result as Message;
  expect(reply.kind).toBe('message');
  return reply.parts.map((part) => (part.kind === 'text' ? part.text : '')).join('');
}

/** Records the Authorization header of every request that goes out (after googleAuthFetch). */
function recordingFetch(): {fetch: FetchLike; sent: Array<{url: string; token?: string}>} {
  const sent: Array<{url: string; token?: string}> = [];
  return {
    sent,
    fetch: (input, init) => {
      const header = new Headers(init?.headers).get('authorization');
      sent.push({
        url: String(input instanceof Request ? input.url : input),
        ...(header ? {token: header.replace(/^Bearer /, '')} : {}),
      });
      return fetch(input, init);
    },
  };
}

describe('@a2a-js/sdk client with googleAuthFetch as fetchImpl', () => {
  it('the agent card and a JSON-RPC message carry the ID token; the executor sees the service account', async () => {
    const cache = new TokenCache({now: stack.clock.now});
    const fetchImpl = googleAuthFetch({
      authCredential: stack.authCredential,
      tokenSourceOptions: stack.tokenSourceOptions,
      cache,
      targetUrl: stack.front.url,
    });
    // The SDK's own factory, resolver and transports: our fetch is all they get.
    const factory = new ClientFactory({
      transports: [new JsonRpcTransportFactory({fetchImpl})],
      cardResolver: new DefaultAgentCardResolver({fetchImpl}),
    });
    const client = await factory.createFromUrl(stack.front.url);
    const reply = await client.sendMessage(message('hello'));

    expect(replyText(reply)).toBe(`${stack.email} said: hello`);
    expect(stack.agent.stats.lastCaller).toBe(stack.email);
    // Card + message, both let through by the front; one ID token for both.
    expect(stack.front.stats.forwarded).toBe(2);
    expect(stack.front.stats.missingToken + stack.front.stats.invalidToken).toBe(0);
    expect(stack.emu.requests.byEndpoint.token).toBe(1);
  });

  it('googleA2aClientFactory: JSON-RPC, REST and streaming all reach the executor as the service account', async () => {
    for (const transport of ['JSONRPC', 'HTTP+JSON'] as const) {
      const factory = googleA2aClientFactory({
        url: stack.front.url,
        authCredential: stack.authCredential,
        tokenSourceOptions: stack.tokenSourceOptions,
        cache: new TokenCache({now: stack.clock.now}),
        preferredTransports: [transport],
      });
      const client = await factory.createClient();
      expect(replyText(await client.sendMessage(message(transport)))).toBe(
        `${stack.email} said: ${transport}`,
      );
      const streamed: string[] = [];
      for await (const event of client.sendMessageStream(message(`${transport} stream`))) {
        streamed.push(replyText(event));
      }
      expect(streamed).toEqual([`${stack.email} said: ${transport} stream`]);
    }
    expect(stack.agent.stats.lastCaller).toBe(stack.email);
    expect(stack.front.stats.missingToken + stack.front.stats.invalidToken).toBe(0);
    // One token per factory (each has its own cache here), however many requests.
    expect(stack.emu.requests.byEndpoint.token).toBe(2);
  });
});

describe('tokens across rotations', () => {
  it('one token request per token lifetime, however many messages', async () => {
    stack.emu.setTokenLifetime(120);
    try {
      const recorder = recordingFetch();
      const factory = googleA2aClientFactory({
        url: stack.front.url,
        authCredential: stack.authCredential,
        tokenSourceOptions: stack.tokenSourceOptions,
        cache: new TokenCache({refreshMarginSeconds: 0, now: stack.clock.now}),
        fetch: recorder.fetch,
      });
      const client = await factory.createClient();
      for (let lifetime = 0; lifetime < 3; lifetime++) {
        for (let i = 0; i < 4; i++) {
          expect(replyText(await client.sendMessage(message(`t${lifetime} m${i}`)))).toBe(
            `${stack.email} said: t${lifetime} m${i}`,
          );
          stack.clock.advance(25_000);
        }
        stack.clock.advance(25_000); // 125 s since this token was minted: past its 120 s
      }
      expect(stack.emu.requests.byEndpoint.token).toBe(3);
      expect(recorder.sent).toHaveLength(13); // the card and 12 messages
      expect(recorder.sent.every((request) => request.token !== undefined)).toBe(true);
      expect(new Set(recorder.sent.map((request) => request.token)).size).toBe(3);
      expect(stack.front.stats.invalidToken + stack.front.stats.revoked).toBe(0);
    } finally {
      stack.emu.setTokenLifetime(3600);
    }
  });

  it('a revoked token costs exactly one refetch, and the message still goes through', async () => {
    const recorder = recordingFetch();
    const factory = googleA2aClientFactory({
      url: stack.front.url,
      authCredential: stack.authCredential,
      tokenSourceOptions: stack.tokenSourceOptions,
      cache: new TokenCache({now: stack.clock.now}),
      fetch: recorder.fetch,
    });
    const client = await factory.createClient();
    await client.sendMessage(message('before'));
    expect(stack.emu.requests.byEndpoint.token).toBe(1);

    const revoked = recorder.sent.at(-1)?.token as string;
    stack.front.revoke(revoked);
    stack.clock.advance(1_000); // a new token differs from the revoked one
    expect(replyText(await client.sendMessage(message('after')))).toBe(
      `${stack.email} said: after`,
    );
    await client.sendMessage(message('again'));

    expect(stack.front.stats.revoked).toBe(1);
    expect(stack.emu.requests.byEndpoint.token).toBe(2);
    const tokens = recorder.sent.map((request) => request.token);
    expect(tokens.filter((token) => token === revoked)).toHaveLength(3); // card, before, after (refused)
    expect(tokens.slice(-2)).toEqual([tokens.at(-1), tokens.at(-1)]);
    expect(tokens.at(-1)).not.toBe(revoked);
  });
});

describe('refusals through the front never reach the executor', () => {
  async function send(fetchImpl: FetchLike): Promise<Response> {
    return fetchImpl(`${stack.front.url}/jsonrpc`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'message/send', params: message('x')}),
    });
  }

  it('no token: the front answers 403', async () => {
    const before = stack.agent.stats.messages;
    const response = await send(fetch);
    expect(response.status).toBe(403);
    expect(stack.front.stats.missingToken).toBe(1);
    expect(stack.agent.stats.messages).toBe(before);
  });

  it('wrong audience: the front answers 401 with WWW-Authenticate', async () => {
    const before = stack.agent.stats.messages;
    const response = await send(
      googleAuthFetch({
        authCredential: stack.authCredential,
        tokenSourceOptions: stack.tokenSourceOptions,
        cache: new TokenCache({now: stack.clock.now}),
        audience: 'https://some-other-agent.a.run.app',
        onWarning: () => undefined,
      }),
    );
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(stack.front.stats.rejections.bad_audience).toBe(2); // refused, refetched, refused
    expect(stack.agent.stats.messages).toBe(before);
  });
});

describe('an agent that allows only some emails, behind the front', () => {
  let strict: A2aStack;
  beforeAll(async () => {
    strict = await startA2aStack({
      agent: {
        authentication: {allowedEmails: ['someone-else@emulator-project.iam.gserviceaccount.com']},
      },
    });
  });
  afterAll(() => strict.close());

  it('the front lets the caller in, googleIdTokenUserBuilder answers 403, the executor never runs', async () => {
    const factory = googleA2aClientFactory({
      url: strict.front.url,
      authCredential: strict.authCredential,
      tokenSourceOptions: strict.tokenSourceOptions,
      cache: new TokenCache({now: strict.clock.now}),
    });
    const error = await factory.createClient().catch((e: unknown) => e);
    expect(error).toMatchObject({code: 'a2a_card_unavailable', status: 403});
    expect(String((error as Error).message)).toContain('not allowed');

    const response = await factory.fetch(`${strict.front.url}/jsonrpc`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'message/send', params: message('x')}),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", error_description="forbidden_principal"',
    );
    expect(await response.json()).toEqual({
      error: 'insufficient_scope',
      error_description: 'forbidden_principal',
    });
    expect(strict.front.stats.forwarded).toBe(2);
    expect(strict.agent.stats.messages).toBe(0);
  });
});
