/**
 * googleA2aClientFactory against recording loopback servers: which requests carry the
 * credential, the origin guard on agent cards, card errors, and option checks. A fake token
 * source stands in for Google.
 */
import {randomUUID} from 'node:crypto';
import type {AgentCard, MessageSendParams} from '@a2a-js/sdk';
import {ClientFactory, DefaultAgentCardResolver, JsonRpcTransportFactory} from '@a2a-js/sdk/client';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {A2aClientError, MAX_AGENT_CARD_BYTES, googleA2aClientFactory} from '../../src/a2a/index.js';
import type {GoogleA2aClientFactoryOptions} from '../../src/a2a/index.js';
import type {AuthCredential} from '../../src/credentials/types.js';
import {googleAuthFetch} from '../../src/http/google-auth-fetch.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {FakeTokenSource, startLoopback} from '../http/support/loopback.js';
import type {Loopback, Seen} from '../http/support/loopback.js';

const credential: AuthCredential = {
  authType: 'serviceAccount',
  serviceAccount: {useDefaultCredential: true, useIdToken: true},
};

let agent: Loopback;
let elsewhere: Loopback;
beforeAll(async () => {
  agent = await startLoopback();
  elsewhere = await startLoopback();
});
afterAll(async () => {
  await Promise.all([agent.close(), elsewhere.close()]);
});
afterEach(() => {
  agent.seen.length = 0;
  elsewhere.seen.length = 0;
  elsewhere.handler = (req, res) => answerRpc(req, res);
});

function cardFor(endpoint: string, extra: Partial<AgentCard> = {}): AgentCard {
  return {
    name: 'agent',
    description: 'test',
    protocolVersion: '0.3.0',
    version: '1',
    url: endpoint,
    capabilities: {},
    defaultInputModes: ['text'],
    defaultOutputModes: ['text'],
    skills: [],
    ...extra,
  };
}

/** Serves `card` at any path ending in .json and answers JSON-RPC and REST sends. */
function serve(target: Loopback, card: AgentCard | string): void {
  target.handler = (req, res) => {
    if (req.method === 'GET' && req.path.endsWith('.json')) {
      res.setHeader('content-type', 'application/json');
      res.end(typeof card === 'string' ? card : JSON.stringify(card));
      return;
    }
    answerRpc(req, res);
  };
}

function answerRpc(req: Seen, res: import('node:http').ServerResponse): void {
  res.setHeader('content-type', 'application/json');
  const reply = {
    kind: 'message',
    messageId: 'r1',
    role: 'agent',
    parts: [{kind: 'text', text: 'pong'}],
  };
  if (req.path.includes('message:send')) {
    res.statusCode = 201;
    res.end(
      JSON.stringify({message: {messageId: 'r1', role: 'ROLE_AGENT', content: [{text: 'pong'}]}}),
    );
    return;
  }
  const id = (JSON.parse(req.body || '{}') as {id?: unknown}).id ?? null;
  res.end(JSON.stringify({jsonrpc: '2.0', id, result: reply}));
}

function factory(options: Partial<GoogleA2aClientFactoryOptions> = {}) {
  const tokens = new FakeTokenSource({jwt: true});
  return {
    tokens,
    factory: googleA2aClientFactory({
      url: agent.origin,
      authCredential: credential,
      tokenSource: tokens,
      cache: new TokenCache(),
      ...options,
    }),
  };
}

const hello: MessageSendParams = {
  message: {
    kind: 'message',
    messageId: randomUUID(),
    role: 'user',
    parts: [{kind: 'text', text: 'ping'}],
  },
};

function bearer(seen: Seen | undefined): string | undefined {
  return seen?.headers.authorization as string | undefined;
}

describe('the credential goes to the agent origin only', () => {
  it('the card and the JSON-RPC call carry an ID token for the URL origin', async () => {
    serve(agent, cardFor(`${agent.origin}/rpc`));
    const {factory: f, tokens} = factory({url: `${agent.origin}/a2a`});
    const client = await f.createClient();
    await client.sendMessage(hello);
    expect(agent.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'GET /a2a/.well-known/agent-card.json',
      'POST /rpc',
    ]);
    expect(agent.seen.every((s) => /^Bearer eyJ/.test(bearer(s) ?? ''))).toBe(true);
    expect(tokens.requests).toEqual([{kind: 'id', audience: agent.origin}]);
    expect(f.origin).toBe(agent.origin);
  });

  it('a card whose url points at another origin is refused: that origin gets nothing, not even the message', async () => {
    serve(agent, cardFor(`${elsewhere.origin}/rpc`));
    const {factory: f} = factory();
    const error = await f.createClient().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(A2aClientError);
    expect(error).toMatchObject({code: 'a2a_origin_refused', url: `${elsewhere.origin}/rpc`});
    expect((error as Error).message).toContain(elsewhere.origin);
    expect((error as Error).message).toContain('toA2a, set protocol, host and port');
    expect(elsewhere.seen).toEqual([]);
  });

  it('a card that also lists an interface on the agent origin is pinned to it', async () => {
    serve(
      agent,
      cardFor(`${elsewhere.origin}/rpc`, {
        additionalInterfaces: [
          {url: `${elsewhere.origin}/rpc`, transport: 'JSONRPC'},
          {url: `${agent.origin}/rest`, transport: 'HTTP+JSON'},
        ],
      }),
    );
    const {factory: f} = factory();
    const client = await f.createClient();
    await client.sendMessage(hello);
    expect(elsewhere.seen).toEqual([]);
    expect(agent.seen.at(-1)).toMatchObject({method: 'POST', path: '/rest/v1/message:send'});
    expect(bearer(agent.seen.at(-1))).toMatch(/^Bearer eyJ/);
  });

  it("even the SDK's own ClientFactory with googleAuthFetch never sends the token to the card's foreign url", async () => {
    serve(agent, cardFor(`${elsewhere.origin}/rpc`));
    const fetchImpl = googleAuthFetch({
      authCredential: credential,
      tokenSource: new FakeTokenSource({jwt: true}),
      cache: new TokenCache(),
      targetUrl: agent.origin,
    });
    const sdkFactory = new ClientFactory({
      transports: [new JsonRpcTransportFactory({fetchImpl})],
      cardResolver: new DefaultAgentCardResolver({fetchImpl}),
    });
    const client = await sdkFactory.createFromUrl(agent.origin);
    await client.sendMessage(hello);
    expect(bearer(agent.seen[0])).toMatch(/^Bearer eyJ/);
    expect(elsewhere.seen).toHaveLength(1);
    expect(bearer(elsewhere.seen[0])).toBeUndefined();
  });

  it('a redirect of the card request to another origin is followed without the credential', async () => {
    agent.handler = (_req, res) => {
      res.writeHead(302, {location: `${elsewhere.origin}/card.json`}).end();
    };
    serve(elsewhere, cardFor(`${elsewhere.origin}/rpc`));
    const {factory: f} = factory();
    await expect(f.fetchAgentCard()).resolves.toMatchObject({url: `${elsewhere.origin}/rpc`});
    expect(bearer(agent.seen[0])).toMatch(/^Bearer eyJ/);
    expect(bearer(elsewhere.seen[0])).toBeUndefined();
    // ...and a client is still refused for that card.
    await expect(f.createClient()).rejects.toMatchObject({code: 'a2a_origin_refused'});
  });

  it('createFromUrl for another origin fetches that card without the credential', async () => {
    serve(elsewhere, cardFor(`${elsewhere.origin}/rpc`));
    const {factory: f} = factory();
    await expect(f.createFromUrl(elsewhere.origin)).rejects.toMatchObject({
      code: 'a2a_origin_refused',
    });
    expect(elsewhere.seen).toHaveLength(1);
    expect(bearer(elsewhere.seen[0])).toBeUndefined();
  });
});

describe('where the card is read', () => {
  it.each([
    ['', '/.well-known/agent-card.json'],
    ['/a2a', '/a2a/.well-known/agent-card.json'],
    ['/a2a/', '/a2a/.well-known/agent-card.json'],
    ['/custom/card.json', '/custom/card.json'],
  ])('url %j reads %s', async (path, expected) => {
    serve(agent, cardFor(`${agent.origin}/rpc`));
    const {factory: f} = factory({url: `${agent.origin}${path}`});
    await f.fetchAgentCard();
    expect(agent.seen[0]?.path).toBe(expected);
    expect(f.agentCardUrl).toBe(`${agent.origin}${expected}`);
  });

  it('agentCardPath names another file below the URL', async () => {
    serve(agent, cardFor(`${agent.origin}/rpc`));
    const {factory: f} = factory({url: `${agent.origin}/a2a`, agentCardPath: 'my-card.json'});
    await f.fetchAgentCard();
    expect(agent.seen[0]?.path).toBe('/a2a/my-card.json');
  });
});

describe('card errors are typed and say what to do', () => {
  it.each([
    [404, /HTTP 404: there is no agent card at this path/],
    [401, /HTTP 401 from .*: the credential was refused/],
    [403, /HTTP 403 from .*: the caller is not allowed in/],
    [500, /could not be fetched: HTTP 500\./],
  ])('HTTP %i', async (status, message) => {
    agent.handler = (_req, res) => void res.writeHead(status).end('nope');
    const error = await factory()
      .factory.fetchAgentCard()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({code: 'a2a_card_unavailable', status});
    expect((error as Error).message).toMatch(message);
  });

  it('a body that is not JSON, JSON that is not a card, and a card over the size bound', async () => {
    serve(agent, '<html>hello</html>');
    await expect(factory().factory.fetchAgentCard()).rejects.toThrow(/is not JSON/);
    serve(agent, JSON.stringify({hello: 'world'}));
    await expect(factory().factory.fetchAgentCard()).rejects.toThrow(/not an A2A agent card/);
    serve(
      agent,
      JSON.stringify({...cardFor(`${agent.origin}/rpc`), pad: 'x'.repeat(MAX_AGENT_CARD_BYTES)}),
    );
    await expect(factory().factory.fetchAgentCard()).rejects.toThrow(/larger than 1048576 bytes/);
  });
});

describe('options are checked when the factory is built', () => {
  it.each([
    [{url: undefined}, /url must be the agent's http\(s\) URL/],
    [{url: 'ftp://agent.example.com'}, /url must be the agent's http\(s\) URL/],
    [{agentCardPath: ''}, /agentCardPath must be a non-empty relative path/],
    [
      {agentCardPath: 'https://evil.example.com/card.json'},
      /agentCardPath must stay on the agent URL's origin/,
    ],
    [{maxRedirects: 99}, /maxRedirects must be an integer from 0 to 20/],
    [
      {preferredTransports: ['GRPC']},
      /preferredTransports must be a list of 'JSONRPC', 'HTTP\+JSON'/,
    ],
    [{authCredential: undefined}, /authCredential is required/],
  ])('%j', (options, message) => {
    expect(() =>
      googleA2aClientFactory({
        url: agent.origin,
        authCredential: credential,
        ...options,
      } as GoogleA2aClientFactoryOptions),
    ).toThrow(message);
  });
});
