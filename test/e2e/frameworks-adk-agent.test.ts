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
    // One ID token for the whole run, although ADK opened several MCP sessions.
    expect(stack.emu.requests.byEndpoint.token).toBe(1);
  });
});
