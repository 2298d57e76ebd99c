import {
  InMemoryRunner,
  LlmAgent,
  MCPToolset,
  getFunctionCalls,
  isFinalResponse,
  setLogger,
  stringifyContent,
} from '@google/adk';
import type {Event} from '@google/adk';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {adkMcpConnectionParams} from '../../src/adk/adk-mcp-connection-params.js';
import {AdkMcpToolset} from '../../src/adk/adk-mcp-toolset.js';
import {ScriptedLlm as PackageScriptedLlm} from '../../src/adk/scripted-llm.js';
import {
  startCloudRunGateway,
  startDemoMcpServer,
  startGoogleEmulator,
} from '../../src/emulator/index.js';
import {ScriptedLlm} from '../adk/support/scripted-llm.js';
import {startProtectedDemo} from '../adk/support/protected-demo.js';
import type {ProtectedDemo} from '../adk/support/protected-demo.js';

setLogger(null);

let stack: ProtectedDemo;
beforeAll(async () => {
  stack = await startProtectedDemo();
});
afterAll(() => stack.close());

describe('@google/adk LlmAgent with an MCPToolset on a protected Cloud Run MCP server', () => {
  it('calls whoami through the front and answers with the service account email', async () => {
    const toolset = new MCPToolset(
      adkMcpConnectionParams({
        url: stack.mcpUrl,
        authCredential: stack.authCredential,
        cache: stack.cache,
        tokenSourceOptions: stack.tokenSourceOptions,
      }),
    );
    const model = new ScriptedLlm('whoami', {}, (response) => {
      const content = (response as {content?: Array<{text?: string}>}).content ?? [];
      return `You are ${content.map((part) => part.text ?? '').join('')}`;
    });
    const agent = new LlmAgent({
      name: 'caller',
      model,
      instruction: 'Say who I am.',
      tools: [toolset],
    });
    const runner = new InMemoryRunner({agent, appName: 'frameworks-adk'});
    const events: Event[] = [];
    try {
      for await (const event of runner.runEphemeral({
        userId: 'u1',
        newMessage: {role: 'user', parts: [{text: 'Who am I?'}]},
      })) {
        events.push(event);
      }
    } finally {
      await toolset.close();
    }

    expect(Object.keys(model.requests[0]?.toolsDict ?? {})).toContain('whoami');
    expect(
      events.some((event) => getFunctionCalls(event).some((call) => call.name === 'whoami')),
    ).toBe(true);
    const final = events.filter(isFinalResponse).at(-1);
    expect(final && stringifyContent(final)).toContain(stack.email);
    expect(stack.demo.stats.toolCalls).toBe(1);
    expect(stack.front.stats.forwarded).toBeGreaterThan(0);
    expect(stack.front.stats.invalidToken + stack.front.stats.missingToken).toBe(0);
    // One ID token for the whole run, although ADK opened several MCP sessions: one per
    // getTools (every model turn) and one per call, none of them ended on the server.
    expect(stack.emu.requests.byEndpoint.token).toBe(1);
    expect(stack.demo.stats.sessions).toBeGreaterThanOrEqual(3);
    expect(stack.demo.stats.activeSessions).toBe(stack.demo.stats.sessions);
  });
});

describe("the README's offline AdkMcpToolset example", () => {
  it('runs an agent against the emulator, the demo server and the Cloud Run front', async () => {
    const savedEnv = {...process.env};
    const printed: string[] = [];
    const log = (line: string) => printed.push(line);
    try {
      // From here to the closes: the README's block, with console.log as `log`.
      const google = await startGoogleEmulator();
      const demo = await startDemoMcpServer();
      const front = await startCloudRunGateway({upstream: demo.origin, jwksUrl: google.jwksUrl});
      const key = await google.createServiceAccountKey();
      // Application Default Credentials find the key file; Google's endpoints are the emulator.
      Object.assign(process.env, google.env(), {GOOGLE_APPLICATION_CREDENTIALS: key.path});

      const toolset = new AdkMcpToolset({
        connectionParams: {type: 'StreamableHTTPConnectionParams', url: `${front.url}/mcp`},
        authCredential: {
          authType: 'serviceAccount',
          serviceAccount: {useDefaultCredential: true, useIdToken: true},
        },
      });
      // The stand-in model: calls `add` and `whoami` at once, then answers with what they returned.
      const model = new PackageScriptedLlm({
        turns: [
          [
            {name: 'add', args: {a: 2, b: 3}},
            {name: 'whoami', args: {}},
          ],
        ],
      });
      const agent = new LlmAgent({name: 'offline', model, tools: [toolset]});
      const runner = new InMemoryRunner({agent, appName: 'offline'});
      for await (const event of runner.runEphemeral({
        userId: 'me',
        newMessage: {role: 'user', parts: [{text: 'Add 2 and 3, and tell me who I am.'}]},
      })) {
        if (isFinalResponse(event)) log(stringifyContent(event));
      }
      await toolset.close();
      await front.close();
      await demo.close();
      await google.close();

      expect(printed).toEqual([`add: 5\nwhoami: ${key.email}`]);
      expect(demo.stats.sessions).toBe(1);
      expect(google.requests.byEndpoint.token).toBe(1);
    } finally {
      process.env = savedEnv;
    }
  });
});
