/**
 * A real `@google/adk` `LlmAgent` (with a scripted model) calls two tools of the demo MCP
 * server several times, through the emulated Cloud Run front, with `AdkMcpToolset`.
 */
import {
  InMemoryRunner,
  LlmAgent,
  getFunctionResponses,
  isFinalResponse,
  stringifyContent,
} from '@google/adk';
import type {Event} from '@google/adk';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {AdkMcpToolset} from '../../src/adk/adk-mcp-toolset.js';
import {McpToolset} from '../../src/mcp/mcp-toolset.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {captureOutput} from '../adk/support/output-capture.js';
import {startProtectedDemo} from '../adk/support/protected-demo.js';
import type {ProtectedDemo} from '../adk/support/protected-demo.js';
import {ScriptedLlm} from '../adk/support/scripted-llm.js';
import type {ScriptedCall} from '../adk/support/scripted-llm.js';

let stack: ProtectedDemo;
beforeAll(async () => {
  stack = await startProtectedDemo();
  // The emulator's one-time routing warning and the lazy imports happen here, before any
  // test watches the output.
  const warmUp = new McpToolset({
    connectionParams: {type: 'StreamableHTTPConnectionParams', url: stack.mcpUrl},
    authCredential: stack.authCredential,
    cache: new TokenCache(),
    tokenSourceOptions: stack.tokenSourceOptions,
  });
  await warmUp.getTools();
  await warmUp.close();
});
afterAll(() => stack.close());

const add = (a: number, b: number): ScriptedCall => ({name: 'add', args: {a, b}});
const echo = (text: string): ScriptedCall => ({name: 'echo', args: {text}});

/** Six calls of two tools over four turns (two turns call both at once). */
const SCRIPT: ScriptedCall[][] = [
  [add(2, 3), echo('alpha')],
  [add(5, 8)],
  [echo('beta'), add(13, 21)],
  [echo('gamma')],
];
const EXPECTED_ANSWER = [
  'add: 5',
  'echo: alpha',
  'add: 13',
  'echo: beta',
  'add: 34',
  'echo: gamma',
].join('\n');

interface Counters {
  sessions: number;
  toolCalls: number;
  tokens: number;
  unknownSessionRequests: number;
}

function counters(): Counters {
  return {
    sessions: stack.demo.stats.sessions,
    toolCalls: stack.demo.stats.toolCalls,
    tokens: stack.emu.requests.byEndpoint.token,
    unknownSessionRequests: stack.demo.stats.unknownSessionRequests,
  };
}

function since(before: Counters): Counters {
  const now = counters();
  return {
    sessions: now.sessions - before.sessions,
    toolCalls: now.toolCalls - before.toolCalls,
    tokens: now.tokens - before.tokens,
    unknownSessionRequests: now.unknownSessionRequests - before.unknownSessionRequests,
  };
}

async function runAgent(
  toolset: AdkMcpToolset,
  beforeTool?: (callNumber: number) => void,
): Promise<Event[]> {
  let calls = 0;
  const agent = new LlmAgent({
    name: 'calculator',
    model: new ScriptedLlm({turns: SCRIPT}),
    tools: [toolset],
    beforeToolCallback: () => {
      beforeTool?.(++calls);
      return undefined;
    },
  });
  const runner = new InMemoryRunner({agent, appName: 'adk-mcp-toolset'});
  const events: Event[] = [];
  for await (const event of runner.runEphemeral({
    userId: 'u1',
    newMessage: {role: 'user', parts: [{text: 'Add and echo, please.'}]},
  })) {
    events.push(event);
  }
  return events;
}

function newToolset(): AdkMcpToolset {
  return new AdkMcpToolset({
    connectionParams: {type: 'StreamableHTTPConnectionParams', url: stack.mcpUrl},
    authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
    authCredential: stack.authCredential,
    cache: new TokenCache(),
    tokenSourceOptions: stack.tokenSourceOptions,
  });
}

function expectSixGoodResponses(events: Event[]): void {
  const responses = events.flatMap((event) => getFunctionResponses(event));
  expect(responses.map((response) => response.name)).toEqual([
    'add',
    'echo',
    'add',
    'echo',
    'add',
    'echo',
  ]);
  for (const response of responses) {
    expect(response.response).not.toHaveProperty('error');
    expect(response.response).not.toHaveProperty('isError');
  }
  const final = events.filter(isFinalResponse).at(-1);
  expect(final && stringifyContent(final)).toBe(EXPECTED_ANSWER);
}

describe('AdkMcpToolset in an LlmAgent, through the Cloud Run front', () => {
  it('serves six calls of two tools over one MCP session and one token, and closes it quietly', async () => {
    const toolset = newToolset();
    const before = counters();
    const output = captureOutput();
    let events: Event[];
    try {
      events = await runAgent(toolset);
      await toolset.close();
    } finally {
      output.stop();
    }

    expectSixGoodResponses(events);
    expect(since(before)).toEqual({
      sessions: 1,
      toolCalls: 6,
      tokens: 1,
      unknownSessionRequests: 0,
    });
    expect(toolset.sessionsOpened).toBe(1);
    expect(stack.demo.stats.activeSessions).toBe(0); // close() ended it on the server
    expect(stack.front.stats.invalidToken + stack.front.stats.missingToken).toBe(0);
    expect(output.printed).toEqual([]);
    expect(output.adkProblems).toEqual([]);
    expect(output.warnings).toEqual([]);
  });

  it('re-initializes once when the server forgets the session mid-run, and no call fails', async () => {
    const toolset = newToolset();
    const before = counters();
    const output = captureOutput();
    let events: Event[];
    let forgotten = 0;
    try {
      // Before the third call (the second turn), the server drops every session, as a
      // restarted container would.
      events = await runAgent(toolset, (callNumber) => {
        if (callNumber === 3) forgotten = stack.demo.forgetSessions();
      });
      await toolset.close();
    } finally {
      output.stop();
    }

    expect(forgotten).toBe(1);
    expectSixGoodResponses(events);
    const counted = since(before);
    expect(counted.sessions).toBe(2); // one re-initialization
    expect(counted.toolCalls).toBe(6);
    expect(counted.tokens).toBe(1);
    expect(counted.unknownSessionRequests).toBeGreaterThanOrEqual(1);
    expect(toolset.sessionsOpened).toBe(2);
    expect(stack.demo.stats.activeSessions).toBe(0);
    expect(output.printed).toEqual([]);
    expect(output.adkProblems).toEqual([]);
    expect(output.warnings).toEqual([]);
  });
});
