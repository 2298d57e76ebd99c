/**
 * MCP Inspector 0.15.0 in CLI mode (`mcp-inspector --cli`), a client nobody here wrote,
 * through both modes of `mcp-google-auth proxy` to the demo MCP server behind the emulated
 * Cloud Run front: the HTTP proxy by URL, and the stdio proxy started from an `mcpServers`
 * config file (the shape Claude Desktop and Cursor use), the credential passed explicitly
 * with `--key-file`.
 *
 * Each inspector run is one session: connect, one method, disconnect. The scenario: tools
 * listed, tools called, errors (an unknown tool, a tool that fails), and the remote
 * restarting in the middle of a call (the call ends with the proxy's error instead of
 * hanging; the next run works). The inspector CLI cannot express two things: it never asks
 * for progress (no `progressToken` on its calls) and it cannot cancel a call (it sends no
 * `notifications/cancelled`). Both are covered with the MCP SDK client in
 * test/cli/proxy-forwarding.test.ts (cancellation, both modes), test/cli/proxy-http.test.ts
 * and test/cli/proxy-stdio.test.ts (progress), and here with mcp-remote.
 */
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';
import {
  clientBin,
  run,
  startClientStack,
  startHttpProxyChild,
  stdioServerConfig,
  writeServersConfig,
} from './support/proxy-stack.js';
import type {ClientStack, Finished} from './support/proxy-stack.js';

const INSPECTOR = clientBin('@modelcontextprotocol/inspector', 'cli/build/cli.js');

interface Tools {
  tools: {name: string}[];
}
interface CallResult {
  content: {type: string; text: string}[];
  isError?: boolean;
}

const MODES = ['HTTP proxy (by URL)', 'stdio proxy (from an mcpServers config)'] as const;

describe.each(MODES)('MCP Inspector 0.15.0 --cli through the %s', (mode) => {
  let stack: ClientStack;
  let target: string[];
  let closeProxy: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    stack = await startClientStack();
    if (mode === 'HTTP proxy (by URL)') {
      const proxy = await startHttpProxyChild(stack);
      closeProxy = proxy.close;
      target = [proxy.url, '--transport', 'http'];
    } else {
      target = [
        '--config',
        writeServersConfig(stack, stdioServerConfig(stack)),
        '--server',
        'demo',
      ];
    }
  }, 60_000);

  afterAll(async () => {
    await closeProxy();
    await stack.close();
  });

  function inspect(method: string, ...extra: string[]): {done: Promise<Finished>} {
    return run([INSPECTOR, '--cli', ...target, '--method', method, ...extra], stack.env, 60_000);
  }

  it('lists the remote tools', async () => {
    const result = await inspect('tools/list').done;
    expect(result.code, result.stderr).toBe(0);
    const {tools} = JSON.parse(result.stdout) as Tools;
    expect(tools.map((tool) => tool.name).sort()).toEqual(['add', 'echo', 'slow_count', 'whoami']);
  }, 60_000);

  it('calls tools, as the proxy’s service account', async () => {
    const sum = await inspect('tools/call', '--tool-name', 'add', '--tool-arg', 'a=2', 'b=40').done;
    expect(sum.code, sum.stderr).toBe(0);
    expect((JSON.parse(sum.stdout) as CallResult).content[0]?.text).toBe('42');
    const who = await inspect('tools/call', '--tool-name', 'whoami').done;
    expect(who.code, who.stderr).toBe(0);
    expect((JSON.parse(who.stdout) as CallResult).content[0]?.text).toBe(stack.email);
  }, 60_000);

  it('passes errors back: a method the server lacks (JSON-RPC error, exit 1), an unknown tool and a failing tool (isError)', async () => {
    const lacking = await inspect('prompts/list').done;
    expect(lacking.code).toBe(1);
    expect(lacking.stderr).toMatch(/Method not found|-32601/);
    const unknown = await inspect('tools/call', '--tool-name', 'no_such_tool').done;
    expect(unknown.code, unknown.stderr).toBe(0);
    expect((JSON.parse(unknown.stdout) as CallResult).isError).toBe(true);
    expect(unknown.stdout).toContain('no_such_tool');
    const failing = await inspect('tools/call', '--tool-name', 'add', '--tool-arg', 'a=2').done;
    expect(failing.code, failing.stderr).toBe(0);
    const result = JSON.parse(failing.stdout) as CallResult;
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toMatch(/invalid|required|expected/i);
  }, 60_000);

  it('ends a call with the proxy’s error when the remote restarts in the middle of it, and the next run works', async () => {
    const calls = stack.demo.stats.toolCalls;
    const slow = inspect(
      'tools/call',
      '--tool-name',
      'slow_count',
      '--tool-arg',
      'n=500',
      'delayMs=20',
    );
    await vi.waitFor(() => expect(stack.demo.stats.toolCalls).toBe(calls + 1), {timeout: 30_000});
    expect(stack.demo.forgetSessions()).toBeGreaterThan(0);
    const ended = await slow.done;
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain('closed the response stream without answering tools/call');
    expect(ended.stderr).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
    const after = await inspect(
      'tools/call',
      '--tool-name',
      'echo',
      '--tool-arg',
      'text=back again',
    ).done;
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as CallResult).content[0]?.text).toBe('back again');
  }, 60_000);
});
