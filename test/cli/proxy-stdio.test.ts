/**
 * The stdio proxy in process (its stdin and stdout are streams), between an MCP SDK client
 * and the demo MCP server behind the Cloud Run front, with real tokens from the emulator.
 */
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {McpError} from '@modelcontextprotocol/sdk/types.js';
import type {Progress} from '@modelcontextprotocol/sdk/types.js';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {startStdioProxy} from '../../src/cli/proxy/stdio-proxy.js';
import type {StdioProxy, StdioProxyOptions} from '../../src/cli/proxy/stdio-proxy.js';
import {startGoogleEmulator} from '../../src/emulator/google-emulator.js';
import type {GoogleEmulator} from '../../src/emulator/google-emulator.js';
import {closedPort} from './cli-harness.js';
import {recordingLogger, startProxyStack, textOf} from './support/proxy-stack.js';
import type {ProxyStack} from './support/proxy-stack.js';
import {StreamClientTransport, stdioPipes} from './support/stdio-pipes.js';
import type {StdioPipes} from './support/stdio-pipes.js';

const SA = 'proxy-stdio@emulator-project.iam.gserviceaccount.com';
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: {name: 'raw', version: '1'},
  },
};

describe('startStdioProxy against the Cloud Run front', () => {
  let emu: GoogleEmulator;
  let keyJson: Record<string, string>;
  let stack: ProxyStack;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    emu = await startGoogleEmulator();
    keyJson = (await emu.createServiceAccountKey(SA)).json;
  });

  afterAll(async () => {
    await emu.close();
  });

  beforeEach(async () => {
    stack = await startProxyStack(emu, keyJson);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await stack.close();
  });

  async function proxy(
    options: Partial<StdioProxyOptions> = {},
  ): Promise<{proxy: StdioProxy; pipes: StdioPipes}> {
    const pipes = stdioPipes();
    const started = await startStdioProxy({
      remoteUrl: stack.mcpUrl,
      fetch: stack.authFetch(),
      stdin: pipes.stdin,
      stdout: pipes.stdout,
      ...options,
    });
    cleanups.push(() => started.close());
    return {proxy: started, pipes};
  }

  async function connect(
    options: Partial<StdioProxyOptions> = {},
  ): Promise<{client: Client; proxy: StdioProxy}> {
    const {proxy: started, pipes} = await proxy(options);
    const client = new Client({name: 'proxy-stdio-test', version: '1.0.0'});
    cleanups.push(() => client.close());
    await client.connect(new StreamClientTransport(pipes.stdin, pipes.stdout));
    return {client, proxy: started};
  }

  function send(pipes: StdioPipes, ...messages: (string | object)[]): void {
    for (const message of messages) {
      pipes.stdin.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
    }
  }

  it('forwards initialize, tools/list, tools/call and progress with a Google ID token', async () => {
    const {client} = await connect();
    expect(client.getServerVersion()?.name).toBe('mcp-google-auth-demo');
    const {tools} = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['add', 'echo', 'slow_count', 'whoami']);
    expect(textOf(await client.callTool({name: 'whoami', arguments: {}}))).toBe(SA);
    const seen: Progress[] = [];
    const counted = await client.callTool({name: 'slow_count', arguments: {n: 3}}, undefined, {
      onprogress: (progress) => seen.push(progress),
    });
    expect(textOf(counted)).toBe('counted to 3');
    expect(seen.map((p) => p.progress)).toEqual([1, 2, 3]);
    expect(stack.demo.stats.sessions).toBe(1);
  });

  it('re-initializes transparently when the remote forgets the session', async () => {
    const logger = recordingLogger();
    const {client, proxy: started} = await connect({logger});
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'before'}}))).toBe(
      'before',
    );
    expect(stack.demo.forgetSessions()).toBe(1);
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'after'}}))).toBe('after');
    expect(stack.demo.stats.sessions).toBe(2);
    expect(started.remoteSessions).toBe(2);
    expect(logger.lines.join('\n')).toContain('was lost');
  });

  it('answers a request in flight when its response stream ends without an answer', async () => {
    const {client} = await connect();
    const error = await client
      .callTool({name: 'slow_count', arguments: {n: 50, delayMs: 20}}, undefined, {
        onprogress: (progress) => {
          if (progress.progress === 1) stack.demo.forgetSessions();
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toContain(
      'closed the response stream without answering tools/call',
    );
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'next'}}))).toBe('next');
  });

  it('answers 403 with a JSON-RPC error that explains it, and no token', async () => {
    await stack.close();
    stack = await startProxyStack(emu, keyJson, {
      gateway: {invokers: ['someone-else@emulator-project.iam.gserviceaccount.com']},
    });
    const logger = recordingLogger();
    const error = await connect({logger}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toContain('HTTP 403');
    expect((error as McpError).message).toContain('roles/run.invoker');
    expect((error as McpError).message).not.toMatch(JWT);
    expect(logger.lines.join('\n')).not.toMatch(JWT);
  });

  it('answers with a clear error when the remote cannot be reached', async () => {
    const port = await closedPort();
    const error = await connect({
      remoteUrl: `http://127.0.0.1:${port}/mcp`,
      fetch: (i, init) => fetch(i, init),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toContain(
      `Could not reach the remote MCP server at http://127.0.0.1:${port} (ECONNREFUSED).`,
    );
  });

  it('answers pipelined requests after stdin ends, then ends the remote session', async () => {
    const {proxy: started, pipes} = await proxy();
    send(
      pipes,
      INITIALIZE,
      {jsonrpc: '2.0', method: 'notifications/initialized'},
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: {name: 'echo', arguments: {text: 'piped'}},
      },
    );
    pipes.stdin.end();
    await started.closed;
    const lines = pipes.lines() as {id: number; result: unknown}[];
    expect(lines.map((line) => line.id)).toEqual([0, 2]);
    expect(textOf(lines[1]?.result)).toBe('piped');
    expect(stack.demo.stats.sessions).toBe(1);
    expect(stack.demo.stats.activeSessions).toBe(0);
  });

  it('answers malformed lines with JSON-RPC errors (-32700, -32600; the right id or null) and keeps serving', async () => {
    const logger = recordingLogger();
    const {pipes} = await proxy({logger});
    send(pipes, INITIALIZE, {jsonrpc: '2.0', method: 'notifications/initialized'});
    await pipes.waitForLines(1);
    send(
      pipes,
      'this is not JSON',
      '{"jsonrpc": "2.0", "id": 5, "method": "tools/list"',
      {id: 6, method: 'tools/list'},
      [{jsonrpc: '2.0', id: 7, method: 'tools/list'}],
      {jsonrpc: '2.0', id: 8},
      {jsonrpc: '2.0', id: 9, method: 42},
      {jsonrpc: '2.0', id: {no: 'objects'}, method: 'tools/list'},
      '"a string"',
      {
        jsonrpc: '2.0',
        id: 10,
        method: 'tools/call',
        params: {name: 'echo', arguments: {text: 'still serving'}},
      },
    );
    const lines = (await pipes.waitForLines(10)) as {
      id: unknown;
      error?: {code: number; message: string};
      result?: unknown;
    }[];
    const answers = lines.slice(1);
    const errors = answers.filter((line) => line.error !== undefined);
    expect(errors.map((line) => [line.id, line.error?.code])).toEqual([
      [null, -32700],
      [null, -32700],
      [6, -32600],
      [null, -32600],
      [8, -32600],
      [9, -32600],
      [null, -32600],
      [null, -32600],
    ]);
    expect(errors[3]?.error?.message).toContain('batches are not supported');
    expect(errors[2]?.error?.message).toContain('"jsonrpc" must be "2.0"');
    const served = answers.find((line) => line.id === 10);
    expect(textOf(served?.result)).toBe('still serving');
    expect(logger.lines.filter((line) => line.includes('malformed'))).toHaveLength(8);
    // Nothing malformed reached the remote.
    expect(stack.demo.stats.toolCalls).toBe(1);
  });

  it('answers a line longer than the limit with -32600 and reads on', async () => {
    const {pipes} = await proxy({maxLineBytes: 1024});
    send(pipes, INITIALIZE);
    await pipes.waitForLines(1);
    send(pipes, {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {name: 'echo', arguments: {text: 'x'.repeat(2000)}},
    });
    send(
      pipes,
      {jsonrpc: '2.0', method: 'notifications/initialized'},
      {jsonrpc: '2.0', id: 2, method: 'tools/list'},
    );
    const lines = (await pipes.waitForLines(3)) as {
      id: unknown;
      error?: {code: number};
      result?: unknown;
    }[];
    expect(lines[1]).toMatchObject({id: null, error: {code: -32600}});
    expect(lines[2]).toMatchObject({id: 2, result: {tools: expect.any(Array)}});
  });

  it('rejects bad options with a TypeError naming the option', async () => {
    await expect(startStdioProxy({remoteUrl: 'ftp://x', fetch})).rejects.toThrow(
      /options\.remoteUrl/,
    );
    await expect(
      startStdioProxy({remoteUrl: stack.mcpUrl, fetch, drainTimeoutMs: -1}),
    ).rejects.toThrow(/options\.drainTimeoutMs/);
    await expect(
      startStdioProxy({remoteUrl: stack.mcpUrl, fetch, maxLineBytes: 0}),
    ).rejects.toThrow(/options\.maxLineBytes/);
  });
});
