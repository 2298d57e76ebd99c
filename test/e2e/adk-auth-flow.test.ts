/**
 * `AdkMcpToolset` with `@google/adk`'s agent auth flow: no credential of its own, so a call
 * asks the client for one, and the credential the client supplies through the flow reaches
 * the MCP server (the demo server's `whoami` reads the email from the bearer token).
 */
import {
  InMemoryRunner,
  LlmAgent,
  getFunctionCalls,
  getFunctionResponses,
  setLogger,
} from '@google/adk';
import type {Event} from '@google/adk';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {AdkMcpToolset} from '../../src/adk/adk-mcp-toolset.js';
import {startDemoMcpServer, startGoogleEmulator} from '../../src/emulator/index.js';
import type {DemoMcpServer, GoogleEmulator} from '../../src/emulator/index.js';
import type {FetchLike} from '../../src/tokens/google-routing.js';
import {ScriptedLlm, textOfToolResult} from '../adk/support/scripted-llm.js';

setLogger(null);

let emu: GoogleEmulator;
let demo: DemoMcpServer;
beforeAll(async () => {
  emu = await startGoogleEmulator();
  demo = await startDemoMcpServer();
});
afterAll(async () => {
  await demo.close();
  await emu.close();
});

/** JSON-RPC method and Authorization header of every POST the toolset sends. */
interface Sent {
  method: string;
  authorization: string | null;
}

describe("AdkMcpToolset with ADK's agent auth flow", () => {
  it('asks for a credential, sends the one the client supplies, and keeps it for later invocations', async () => {
    const sent: Sent[] = [];
    const spy: FetchLike = (input, init) => {
      if (init?.method === 'POST' && typeof init.body === 'string') {
        const method = (JSON.parse(init.body) as {method?: string}).method ?? '';
        sent.push({method, authorization: new Headers(init.headers).get('authorization')});
      }
      return fetch(input, init);
    };
    const toolset = new AdkMcpToolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url: demo.url},
      authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
      fetch: spy,
    });
    const agent = new LlmAgent({
      name: 'caller',
      model: new ScriptedLlm('whoami', {}, (response) => `You are ${textOfToolResult(response)}`),
      tools: [toolset],
    });
    const appName = 'adk-auth-flow';
    const runner = new InMemoryRunner({agent, appName});
    const session = await runner.sessionService.createSession({appName, userId: 'u'});
    const run = async (parts: NonNullable<Event['content']>['parts']): Promise<Event[]> => {
      const events: Event[] = [];
      for await (const event of runner.runAsync({
        userId: 'u',
        sessionId: session.id,
        newMessage: {role: 'user', parts},
      })) {
        events.push(event);
      }
      return events;
    };
    const responses = (events: Event[]) =>
      events
        .flatMap((event) => getFunctionResponses(event))
        .map(({name, response}) => ({name, response}));
    const sessionsBefore = demo.stats.sessions;
    const toolCallsBefore = demo.stats.toolCalls;

    try {
      // 1. No credential yet: the tool answers as ADK's RestApiTool does and asks the client.
      const first = await run([{text: 'Who am I?'}]);
      expect(responses(first)).toEqual([
        {
          name: 'whoami',
          response: {pending: true, message: 'Needs your authorization to access your data.'},
        },
      ]);
      const request = first
        .flatMap((event) => getFunctionCalls(event))
        .find((call) => call.name === 'adk_request_credential')!;
      const authConfig = (request.args as {auth_config: Record<string, unknown>}).auth_config;
      expect(authConfig).toEqual({
        authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
        credentialKey: expect.stringMatching(/^mcp_google_auth_[0-9a-f]{12}$/),
      });
      expect(demo.stats.toolCalls).toBe(toolCallsBefore); // nothing was called without it

      // 2. The client supplies a bearer token; ADK re-runs the call with it.
      const token = await emu.mintIdToken({audience: demo.origin, email: 'user@example.com'});
      const second = await run([
        {
          functionResponse: {
            name: 'adk_request_credential',
            id: request.id,
            response: {
              ...authConfig,
              exchangedAuthCredential: {
                authType: 'http',
                http: {scheme: 'bearer', credentials: {token}},
              },
            },
          },
        },
      ]);
      expect(responses(second)).toEqual([
        {name: 'whoami', response: {content: [{type: 'text', text: 'user@example.com'}]}},
      ]);

      // 3. A later invocation: the credential kept in session state is used, nothing is asked.
      const listedFrom = sent.length;
      const third = await run([{text: 'And now?'}]);
      expect(responses(third)).toEqual([
        {name: 'whoami', response: {content: [{type: 'text', text: 'user@example.com'}]}},
      ]);
      expect(third.flatMap((event) => getFunctionCalls(event)).map((call) => call.name)).toEqual([
        'whoami',
      ]);
      // Listing the tools carried it too, once it was there.
      const later = sent.slice(listedFrom);
      expect(later.filter((s) => s.method === 'tools/list').length).toBeGreaterThan(0);
      for (const s of later) expect(s.authorization).toBe(`Bearer ${token}`);
    } finally {
      await toolset.close();
    }
    expect(demo.stats.toolCalls - toolCallsBefore).toBe(2);
    // ADK's Runner closes every toolset when an invocation ends: one MCP session per
    // invocation, each ended on the server.
    expect(demo.stats.sessions - sessionsBefore).toBe(3);
    expect(toolset.sessionsOpened).toBe(3);
    expect(demo.stats.activeSessions).toBe(0);
  });
});
