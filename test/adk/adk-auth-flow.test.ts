/**
 * `AdkMcpToolset` and ADK's agent auth flow, call by call, with a tool context that records
 * what the toolset asks of it (the whole flow through a real Runner is in
 * test/e2e/adk-auth-flow.test.ts).
 */
import type {AuthConfig, BaseTool, Context} from '@google/adk';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {AdkMcpToolset} from '../../src/adk/adk-mcp-toolset.js';
import type {AdkMcpToolsetOptions} from '../../src/adk/adk-mcp-toolset.js';
import {InvalidCredentialError} from '../../src/credentials/errors.js';
import {startShapesMcpServer} from './support/shapes-mcp-server.js';
import type {ShapesMcpServer} from './support/shapes-mcp-server.js';

let server: ShapesMcpServer;
beforeAll(async () => {
  server = await startShapesMcpServer();
});
afterAll(() => server.close());

const open: AdkMcpToolset[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((toolset) => toolset.close()));
});

function toolset(options: Partial<AdkMcpToolsetOptions> = {}): AdkMcpToolset {
  const created = new AdkMcpToolset({
    connectionParams: {type: 'StreamableHTTPConnectionParams', url: server.url},
    ...options,
  });
  open.push(created);
  return created;
}

/** A tool context with ADK's auth methods and a state, recording what is asked of it. */
function fakeContext(supplied?: unknown, state: Map<string, unknown> = new Map()) {
  const requested: AuthConfig[] = [];
  const asked: AuthConfig[] = [];
  const context = {
    state: {
      get: (key: string) => state.get(key),
      set: (key: string, value: unknown) => state.set(key, value),
    },
    getAuthResponse: (config: AuthConfig) => {
      asked.push(config);
      return supplied;
    },
    requestCredential: (config: AuthConfig) => {
      requested.push(config);
    },
  } as unknown as Context;
  return {context, state, requested, asked};
}

const bearer = (token: string) => ({
  authType: 'http',
  http: {scheme: 'bearer', credentials: {token}},
});

async function noargs(created: AdkMcpToolset): Promise<BaseTool> {
  const tool = (await created.getTools()).find((candidate) => candidate.name === 'noargs');
  if (!tool) throw new Error('no noargs tool');
  return tool;
}

/** The headers of the last POST (JSON-RPC) the server saw since `from`. */
function lastPost(from: number) {
  return server.headers
    .slice(from)
    .filter((headers) => headers['content-type'])
    .at(-1);
}

function lastCallAuthorization(from: number): string | undefined {
  return lastPost(from)?.authorization;
}

describe("AdkMcpToolset with ADK's agent auth flow", () => {
  it('asks for a credential and answers pending, without calling the server', async () => {
    const created = toolset({authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'}});
    const tool = await noargs(created);
    const {context, requested} = fakeContext();
    const from = server.headers.length;
    await expect(tool.runAsync({args: {}, toolContext: context})).resolves.toEqual({
      pending: true,
      message: 'Needs your authorization to access your data.',
    });
    expect(requested).toEqual([
      {
        authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
        rawAuthCredential: undefined,
        credentialKey: expect.stringMatching(/^mcp_google_auth_[0-9a-f]{12}$/),
      },
    ]);
    expect(server.headers.length).toBe(from);
  });

  it('sends the supplied credential, keeps it in state once, and uses the kept one later', async () => {
    const created = toolset({
      authScheme: {type: 'http', scheme: 'bearer'},
      credentialKey: 'shapes',
      // The provider's Authorization (any case) loses to the credential's.
      headerProvider: () => ({Authorization: 'Bearer from-provider', 'x-team': 'blue'}),
    });
    const tool = await noargs(created);
    const first = fakeContext(bearer('user-token'));
    let from = server.headers.length;
    await tool.runAsync({args: {}, toolContext: first.context});
    expect(lastCallAuthorization(from)).toBe('Bearer user-token');
    expect(lastPost(from)?.['x-team']).toBe('blue');
    expect(first.asked.map((config) => config.credentialKey)).toEqual(['shapes']);
    expect([...first.state.entries()]).toEqual([
      ['shapes_exchanged_credential', bearer('user-token')],
    ]);

    // A later invocation: nothing supplied, the kept credential is used, nothing is asked.
    const later = fakeContext(undefined, first.state);
    from = server.headers.length;
    await tool.runAsync({args: {}, toolContext: later.context});
    expect(lastCallAuthorization(from)).toBe('Bearer user-token');
    expect(later.requested).toEqual([]);

    // A credential supplied again wins over the kept one.
    const again = fakeContext(bearer('newer-token'), first.state);
    from = server.headers.length;
    await tool.runAsync({args: {}, toolContext: again.context});
    expect(lastCallAuthorization(from)).toBe('Bearer newer-token');
    expect(first.state.get('shapes_exchanged_credential')).toEqual(bearer('newer-token'));
  });

  it('asks with the camelCase credential when the toolset was given ADK Python snake_case', async () => {
    const created = toolset({
      authScheme: {type: 'oauth2', flows: {}},
      authCredential: {
        auth_type: 'oauth2',
        oauth2: {client_id: 'client', client_secret: 'secret'},
      } as never,
    });
    const tool = await noargs(created);
    const {context, requested} = fakeContext();
    await tool.runAsync({args: {}, toolContext: context});
    expect(requested[0]?.rawAuthCredential).toEqual({
      authType: 'oauth2',
      oauth2: {clientId: 'client', clientSecret: 'secret'},
    });
  });

  it("never consults ADK's flow for a credential that authenticates by itself", async () => {
    const created = toolset({
      authScheme: {type: 'http', scheme: 'bearer'},
      authCredential: bearer('configured') as AdkMcpToolsetOptions['authCredential'],
    });
    const tool = await noargs(created);
    const {context, asked, requested, state} = fakeContext(bearer('supplied'));
    const from = server.headers.length;
    await tool.runAsync({args: {}, toolContext: context});
    expect(lastCallAuthorization(from)).toBe('Bearer configured');
    expect([asked, requested, [...state.keys()]]).toEqual([[], [], []]);
  });

  it('refuses a supplied service account, and a call without ADK’s tool context', async () => {
    const created = toolset({authScheme: {type: 'http', scheme: 'bearer'}});
    const tool = await noargs(created);
    const {context} = fakeContext({
      authType: 'serviceAccount',
      serviceAccount: {useDefaultCredential: true, useIdToken: true},
    });
    const error = await tool.runAsync({args: {}, toolContext: context}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidCredentialError);
    expect((error as Error).message).toMatch(
      /^authType: a credential from ADK's auth flow must be/,
    );
    await expect(tool.runAsync({args: {}, toolContext: undefined as never})).rejects.toThrow(
      /needs the tool context ADK passes to runAsync/,
    );
  });

  it('gives toolsets of different servers different credential keys', async () => {
    const key = async (url: string) => {
      const created = toolset({
        connectionParams: {type: 'StreamableHTTPConnectionParams', url},
        authScheme: {type: 'http', scheme: 'bearer'},
      });
      const tool = await noargs(created);
      const {context, requested} = fakeContext();
      await tool.runAsync({args: {}, toolContext: context});
      return requested[0]?.credentialKey;
    };
    const here = await key(server.url);
    expect(await key(`${server.url}?tenant=a`)).toBe(here); // the query is not part of it
    const other = await key(server.url.replace('127.0.0.1', 'localhost'));
    expect(other).not.toBe(here);
  });
});
