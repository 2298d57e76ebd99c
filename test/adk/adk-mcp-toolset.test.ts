import {getEventListeners} from 'node:events';
import {
  InMemoryRunner,
  LlmAgent,
  MCPToolset,
  getFunctionResponses,
  isBaseTool,
  isBaseToolset,
  setLogger,
} from '@google/adk';
import type {BaseTool, BaseToolset, Context, ReadonlyContext} from '@google/adk';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {AdkMcpTool} from '../../src/adk/adk-mcp-tool.js';
import {AdkMcpToolset} from '../../src/adk/adk-mcp-toolset.js';
import {McpToolError} from '../../src/mcp/mcp-errors.js';
import {captureOutput} from './support/output-capture.js';
import {ScriptedLlm} from './support/scripted-llm.js';
import type {ScriptedCall} from './support/scripted-llm.js';
import {LEAKED_TOKEN, SHAPE_TOOLS, startShapesMcpServer} from './support/shapes-mcp-server.js';
import type {ShapesMcpServer} from './support/shapes-mcp-server.js';

setLogger(null);

let server: ShapesMcpServer;
beforeAll(async () => {
  server = await startShapesMcpServer();
});
afterAll(() => server.close());

const open: Array<{close(): Promise<void>}> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((toolset) => toolset.close()));
  setLogger(null);
});

function ours(
  options: Partial<ConstructorParameters<typeof AdkMcpToolset>[0]> = {},
): AdkMcpToolset {
  const toolset = new AdkMcpToolset({
    connectionParams: {type: 'StreamableHTTPConnectionParams', url: server.url},
    ...options,
  });
  open.push(toolset);
  return toolset;
}

function adks(prefix?: string): MCPToolset {
  const toolset = new MCPToolset(
    {type: 'StreamableHTTPConnectionParams', url: server.url},
    [],
    prefix,
  );
  open.push(toolset);
  return toolset;
}

/** The tool context ADK's `MCPTool` reads (only `abortSignal`). */
const contextWith = (abortSignal?: AbortSignal) => ({abortSignal}) as unknown as Context;

function byName(tools: BaseTool[], name: string): BaseTool {
  const tool = tools.find((candidate) => candidate.name === name);
  if (!tool) throw new Error(`no tool ${name}`);
  return tool;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** What the model sees from a scripted run: the declared tools and every function response. */
async function transcript(toolset: BaseToolset, turns: ScriptedCall[][]) {
  const model = new ScriptedLlm({turns});
  const agent = new LlmAgent({name: 'shapes', model, tools: [toolset]});
  const runner = new InMemoryRunner({agent, appName: 'shapes'});
  const responses: Array<{name?: string; response?: unknown}> = [];
  for await (const event of runner.runEphemeral({
    userId: 'u',
    newMessage: {role: 'user', parts: [{text: 'go'}]},
  })) {
    for (const {name, response} of getFunctionResponses(event)) responses.push({name, response});
  }
  return {declared: model.requests[0]?.config?.tools, responses};
}

describe('AdkMcpToolset against @google/adk MCPToolset on the same server', () => {
  it('is an ADK BaseToolset whose tools are ADK BaseTools', async () => {
    const toolset = ours();
    expect(isBaseToolset(toolset)).toBe(true);
    const tools = await toolset.getTools();
    expect(tools.map((tool) => tool.name)).toEqual(SHAPE_TOOLS.map((tool) => tool.name));
    for (const tool of tools) {
      expect(isBaseTool(tool)).toBe(true);
      expect(tool).toBeInstanceOf(AdkMcpTool);
      expect(tool.isLongRunning).toBe(false);
    }
  });

  it('gives an agent the same declarations, results and errors, and prints nothing where ADK prints errors', async () => {
    const turns: ScriptedCall[][] = [
      [{name: 'lookup', args: {id: 'r1', limit: null, tags: ['a']}}, {name: 'noargs'}],
      [{name: 'broken'}, {name: 'refuse'}],
    ];
    type Transcript = Awaited<ReturnType<typeof transcript>>;
    const adkOutput = captureOutput();
    let theirs: Transcript | undefined;
    try {
      const toolset = adks();
      theirs = await transcript(toolset, turns);
      await toolset.close();
    } finally {
      adkOutput.stop();
    }
    const ourOutput = captureOutput();
    let mine: Transcript | undefined;
    try {
      const toolset = ours();
      mine = await transcript(toolset, turns);
      await toolset.close();
    } finally {
      ourOutput.stop();
    }

    expect(mine).toEqual(theirs);
    if (!mine) throw new Error('no transcript');
    // The comparison is not vacuous: every shape is there.
    const declared = JSON.stringify(mine.declared);
    for (const tool of SHAPE_TOOLS) expect(declared).toContain(`"name":"${tool.name}"`);
    expect(mine.responses).toEqual([
      {
        name: 'lookup',
        response: {
          content: [{type: 'text', text: 'found r1'}],
          structuredContent: {found: true, score: null},
        },
      },
      {name: 'noargs', response: {content: [{type: 'text', text: 'nothing needed'}]}},
      {
        name: 'broken',
        response: {isError: true, content: [{type: 'text', text: 'the record store is down'}]},
      },
      {name: 'refuse', response: {error: 'MCP error -32000: the server refuses this call'}},
    ]);
    // ADK's toolset logs a red transport error for each session it drops; ours is silent.
    expect(adkOutput.adkProblems.join('\n')).toMatch(/SSE stream disconnected/);
    expect(ourOutput.adkProblems).toEqual([]);
    expect(ourOutput.printed).toEqual([]);
  });

  it('derives the same declarations with a prefix, and a prefixed tool calls the server by its own name', async () => {
    const mine = await ours({toolNamePrefix: 'shapes'}).getTools();
    const theirs = await adks('shapes').getTools();
    expect(mine.map((tool) => tool.name)).toEqual(theirs.map((tool) => tool.name));
    for (const [index, tool] of mine.entries()) {
      expect(tool._getDeclaration()).toEqual(theirs[index]!._getDeclaration());
      expect(tool.description).toBe(theirs[index]!.description);
    }
    const result = await byName(mine, 'shapes_noargs').runAsync({
      args: {},
      toolContext: contextWith(),
    });
    expect(result).toEqual({content: [{type: 'text', text: 'nothing needed'}]});
  });

  it("throws a server's JSON-RPC error with ADK's text, as an McpToolError", async () => {
    const [mine, theirs] = await Promise.all([ours().getTools(), adks().getTools()]);
    const call = {args: {}, toolContext: contextWith()};
    const adkError = (await rejection(byName(theirs, 'refuse').runAsync(call))) as Error;
    const ourError = await rejection(byName(mine, 'refuse').runAsync(call));
    expect(ourError).toBeInstanceOf(McpToolError);
    expect((ourError as McpToolError).message).toBe(adkError.message);
    expect((ourError as McpToolError).code).toBe('mcp_error');
    expect((ourError as McpToolError).toolName).toBe('refuse');
  });

  it('scrubs a token that a server echoes in its error (ADK shows it to the model)', async () => {
    const [mine, theirs] = await Promise.all([ours().getTools(), adks().getTools()]);
    const call = {args: {}, toolContext: contextWith()};
    const adkError = (await rejection(byName(theirs, 'leak').runAsync(call))) as Error;
    const ourError = (await rejection(byName(mine, 'leak').runAsync(call))) as Error;
    expect(adkError.message).toContain(LEAKED_TOKEN);
    expect(ourError.message).not.toContain(LEAKED_TOKEN);
    expect(ourError.message).toMatch(
      /^MCP error -32001: refused Authorization: Bearer \[redacted sha256:[0-9a-f]{8}\]$/,
    );
  });

  it("cancels a call on toolContext.abortSignal as ADK's MCPTool does, and leaves no listener on the signal", async () => {
    const [mine, theirs] = await Promise.all([ours().getTools(), adks().getTools()]);
    const abortedBy = async (tool: BaseTool) => {
      const controller = new AbortController();
      const call = tool.runAsync({args: {}, toolContext: contextWith(controller.signal)});
      setTimeout(() => controller.abort(new Error('the user gave up')), 50);
      return rejection(call);
    };
    const cancelledBefore = server.stats.cancelled;
    const adkError = (await abortedBy(byName(theirs, 'slow'))) as Error;
    const ourError = (await abortedBy(byName(mine, 'slow'))) as Error;
    expect(ourError.message).toBe(adkError.message);
    expect(ourError.message).toBe('MCP error -32001: Error: the user gave up');
    expect(ourError).toBeInstanceOf(McpToolError);
    // Our session lives on, so the server hears of the cancellation (ADK closes its session
    // at once and the notification is lost: the server's handler runs on).
    await expect.poll(() => server.stats.cancelled).toBe(cancelledBefore + 1);

    // One invocation signal across many calls: nothing accumulates on it.
    const invocation = new AbortController();
    const output = captureOutput();
    try {
      for (let i = 0; i < 25; i++) {
        await byName(mine, 'noargs').runAsync({
          args: {},
          toolContext: contextWith(invocation.signal),
        });
      }
    } finally {
      output.stop();
    }
    expect(getEventListeners(invocation.signal, 'abort')).toHaveLength(0);
    expect(output.warnings).toEqual([]);

    // An aborted signal: no request, the signal's reason.
    const requestsBefore = server.headers.length;
    invocation.abort(new Error('already over'));
    const early = await rejection(
      byName(mine, 'noargs').runAsync({args: {}, toolContext: contextWith(invocation.signal)}),
    );
    expect((early as Error).message).toBe('already over');
    expect(server.headers.length).toBe(requestsBefore);
  });

  it('filters by names (with or without the prefix) or by an ADK predicate given a context', async () => {
    const names = async (toolset: AdkMcpToolset, context?: ReadonlyContext) =>
      (await toolset.getTools(context)).map((tool) => tool.name);
    expect(await names(ours({toolNamePrefix: 'p', toolFilter: ['p_lookup', 'noargs']}))).toEqual([
      'p_lookup',
      'p_noargs',
    ]);
    const seen: unknown[] = [];
    const predicate = ours({
      toolFilter: (tool, context) => {
        seen.push(context);
        return tool.name.startsWith('l');
      },
    });
    const context = {marker: 'readonly'} as unknown as ReadonlyContext;
    expect(await names(predicate, context)).toEqual(['lookup', 'leak']);
    expect(seen.every((value) => value === context)).toBe(true);
    // Without a context ADK's MCPToolset skips a predicate, with a warning; so does this one.
    const output = captureOutput();
    try {
      expect(await names(predicate)).toEqual(SHAPE_TOOLS.map((tool) => tool.name));
    } finally {
      output.stop();
    }
    expect(output.adkProblems).toEqual([
      expect.stringMatching(/^WARN: AdkMcpToolset: a ToolPredicate toolFilter was provided/),
    ]);
  });

  it('uses one session for every getTools and call; close() ends it with DELETE; a later call reconnects', async () => {
    const before = {...server.stats, active: server.stats.active}; // ADK's toolsets leave theirs open
    const toolset = ours();
    for (let round = 0; round < 3; round++) {
      const tools = await toolset.getTools();
      await Promise.all(
        Array.from({length: 5}, () =>
          byName(tools, 'noargs').runAsync({args: {}, toolContext: contextWith()}),
        ),
      );
    }
    expect(server.stats.sessions - before.sessions).toBe(1);
    expect(toolset.sessionsOpened).toBe(1);
    await toolset.close();
    expect(server.stats.deletes - before.deletes).toBe(1);
    expect(server.stats.active).toBe(before.active);

    await toolset.getTools();
    expect(server.stats.sessions - before.sessions).toBe(2);
    expect(server.stats.active).toBe(before.active + 1);
    await toolset.close();
    expect(server.stats.active).toBe(before.active);
  });

  it('close() lets calls under way finish before it ends the session', async () => {
    const before = {deletes: server.stats.deletes, active: server.stats.active};
    const toolset = ours();
    const tools = await toolset.getTools();
    const call = byName(tools, 'pause').runAsync({args: {ms: 150}, toolContext: contextWith()});
    let closed = false;
    const closing = toolset.close().then(() => {
      closed = true;
    });
    await expect(call).resolves.toEqual({content: [{type: 'text', text: 'paused 150 ms'}]});
    await closing;
    expect(closed).toBe(true);
    expect(server.stats.deletes - before.deletes).toBe(1);
    expect(server.stats.active).toBe(before.active);
  });

  it("hands ADK's context to headerProvider, under the credential's header", async () => {
    const toolset = ours({
      authScheme: {type: 'http', scheme: 'bearer'},
      authCredential: {
        authType: 'http',
        http: {scheme: 'bearer', credentials: {token: 'configured'}},
      },
      headerProvider: (context) => ({
        'x-context': String((context as unknown as {marker?: string} | undefined)?.marker),
        Authorization: 'Bearer from-provider',
      }),
    });
    const from = server.headers.length;
    const tools = await toolset.getTools({marker: 'listing'} as unknown as ReadonlyContext);
    await byName(tools, 'noargs').runAsync({
      args: {},
      toolContext: {marker: 'calling'} as unknown as Context,
    });
    const posts = server.headers.slice(from).filter((headers) => headers['content-type']);
    expect(posts.map((headers) => headers['x-context'])).toContain('listing');
    expect(posts.at(-1)?.['x-context']).toBe('calling');
    for (const headers of posts) expect(headers.authorization).toBe('Bearer configured');
  });

  it('refuses bad options with a TypeError naming AdkMcpToolset and the option', () => {
    const connectionParams = {type: 'StreamableHTTPConnectionParams' as const, url: server.url};
    expect(() => new AdkMcpToolset(null as never)).toThrow(
      new TypeError('AdkMcpToolset options must be an object with connectionParams'),
    );
    expect(() => new AdkMcpToolset({connectionParams, toolFilter: 'add' as never})).toThrow(
      /^AdkMcpToolset toolFilter must be/,
    );
    expect(() => new AdkMcpToolset({connectionParams, headerProvider: {} as never})).toThrow(
      /^AdkMcpToolset headerProvider must be a function/,
    );
    expect(() => new AdkMcpToolset({connectionParams, toolNamePrefix: ''})).toThrow(
      new TypeError('AdkMcpToolset toolNamePrefix must be a non-empty string'),
    );
    expect(
      () =>
        new AdkMcpToolset({
          connectionParams: {type: 'StreamableHTTPConnectionParams', url: 'ftp://x/mcp'},
        }),
    ).toThrow(/^AdkMcpToolset connectionParams.url must be an http\(s\) URL/);
    expect(
      () =>
        new AdkMcpToolset({
          connectionParams,
          authScheme: {type: 'oauth2', flows: {}},
          authCredential: {authType: 'oauth2', oauth2: {}},
        }),
    ).toThrow(/^AdkMcpToolset authCredential.oauth2 needs clientId and clientSecret/);
    expect(
      () =>
        new AdkMcpToolset({
          connectionParams,
          authScheme: {type: 'http', scheme: 'bearer'},
          credentialKey: '',
        }),
    ).toThrow(new TypeError('AdkMcpToolset credentialKey must be a non-empty string'));
  });
});
