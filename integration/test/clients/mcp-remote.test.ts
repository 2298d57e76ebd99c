/**
 * mcp-remote 0.15.1, the stdio bridge many desktop clients use for remote servers, pointed at
 * the HTTP proxy (`mcp-google-auth proxy URL --port 0`), driven over stdio by an MCP SDK
 * client as a desktop client would: mcp-remote -> HTTP proxy -> emulated Cloud Run front ->
 * demo MCP server. One long session through all of it: tools listed and called, progress,
 * errors, cancellation, and the remote restarting (between calls: the proxy re-establishes
 * the session by itself; in the middle of a call: the call ends with the proxy's error).
 */
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js';
import {McpError} from '@modelcontextprotocol/sdk/types.js';
import type {CallToolResult, Progress} from '@modelcontextprotocol/sdk/types.js';
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';
import {clientBin, startClientStack, startHttpProxyChild} from './support/proxy-stack.js';
import type {ClientStack} from './support/proxy-stack.js';

const MCP_REMOTE = clientBin('mcp-remote', 'dist/proxy.js');

function textOf(result: unknown): string {
  return (result as CallToolResult).content
    .map((item) => ('text' in item ? item.text : ''))
    .join('');
}

describe('mcp-remote 0.15.1 through the HTTP proxy', () => {
  let stack: ClientStack;
  let proxy: Awaited<ReturnType<typeof startHttpProxyChild>>;
  let client: Client;
  let bridgeStderr = '';

  beforeAll(async () => {
    stack = await startClientStack();
    proxy = await startHttpProxyChild(stack);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MCP_REMOTE, proxy.url, '--transport', 'http-only'],
      env: stack.env,
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => {
      bridgeStderr += chunk.toString('utf8');
    });
    client = new Client({name: 'desktop-client', version: '1.0.0'});
    await client.connect(transport);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await proxy?.close();
    await stack?.close();
  });

  it('lists the remote tools and calls them as the proxy’s service account', async () => {
    const {tools} = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['add', 'echo', 'slow_count', 'whoami']);
    expect(textOf(await client.callTool({name: 'add', arguments: {a: 20, b: 22}}))).toBe('42');
    expect(textOf(await client.callTool({name: 'whoami', arguments: {}}))).toBe(stack.email);
  });

  it('passes progress notifications', async () => {
    const seen: Progress[] = [];
    // 50 ms between steps: the SDK client drops a notification that arrives in the same
    // chunk as the result, and three processes in the path can join them on a loaded machine.
    const result = await client.callTool(
      {name: 'slow_count', arguments: {n: 4, delayMs: 50}},
      undefined,
      {
        onprogress: (progress) => seen.push(progress),
      },
    );
    expect(textOf(result)).toBe('counted to 4');
    expect(seen.map((p) => [p.progress, p.total])).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
  });

  it('passes errors back: a failing tool (isError), an unknown tool, a method the server lacks', async () => {
    const failing = (await client.callTool({
      name: 'add',
      arguments: {a: 'two', b: 2},
    })) as CallToolResult;
    expect(failing.isError).toBe(true);
    const unknown = (await client.callTool({
      name: 'no_such_tool',
      arguments: {},
    })) as CallToolResult;
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toContain('no_such_tool');
    const lacking = await client.listPrompts().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(lacking).toBeInstanceOf(McpError);
    expect((lacking as McpError).code).toBe(-32601);
  });

  it('passes a cancellation to the remote, and the session goes on', async () => {
    const calls = stack.demo.stats.toolCalls;
    const controller = new AbortController();
    const call = client.callTool(
      {name: 'slow_count', arguments: {n: 500, delayMs: 20}},
      undefined,
      {
        signal: controller.signal,
      },
    );
    await vi.waitFor(() => expect(stack.demo.stats.toolCalls).toBe(calls + 1));
    controller.abort('the user pressed stop');
    await expect(call).rejects.toThrow();
    await vi.waitFor(() => expect(stack.demo.stats.cancelledToolCalls).toBe(1), {timeout: 10_000});
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'after stop'}}))).toBe(
      'after stop',
    );
  });

  it('survives the remote restarting between calls: the proxy re-establishes the session, mcp-remote never notices', async () => {
    const sessions = stack.demo.stats.sessions;
    expect(stack.demo.forgetSessions()).toBeGreaterThan(0);
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'after restart'}}))).toBe(
      'after restart',
    );
    expect(stack.demo.stats.sessions).toBeGreaterThan(sessions);
    expect(proxy.stderr()).toContain('re-established');
    const {tools} = await client.listTools();
    expect(tools).toHaveLength(4);
  });

  it('ends a call with the proxy’s error when the remote restarts in the middle of it', async () => {
    const calls = stack.demo.stats.toolCalls;
    const call = client.callTool({name: 'slow_count', arguments: {n: 500, delayMs: 20}});
    await vi.waitFor(() => expect(stack.demo.stats.toolCalls).toBe(calls + 1));
    stack.demo.forgetSessions();
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toContain(
      'closed the response stream without answering tools/call',
    );
    expect(textOf(await client.callTool({name: 'add', arguments: {a: 1, b: 1}}))).toBe('2');
    // Never a credential in what the bridge or the proxy printed.
    expect(`${bridgeStderr}${proxy.stderr()}`).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  });
});
