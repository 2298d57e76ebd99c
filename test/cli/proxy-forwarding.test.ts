/**
 * What passes through the proxy besides tool calls: server-to-client requests (elicitation on
 * the tool call's stream, sampling and roots on the standing GET stream) and their answers,
 * logging notifications, and cancellation. Both proxies are exercised in process: the stdio
 * proxy over two streams, and the HTTP proxy.
 */
import {randomUUID} from 'node:crypto';
import {createServer} from 'node:http';
import type {Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js';
import {StreamableHTTPServerTransport} from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ElicitResultSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type {CallToolResult} from '@modelcontextprotocol/sdk/types.js';
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';
import * as z from 'zod';
import {startHttpProxy} from '../../src/cli/proxy/http-proxy.js';
import {nodeHttpFetch} from '../../src/cli/proxy/node-http-fetch.js';
import {startStdioProxy} from '../../src/cli/proxy/stdio-proxy.js';
import {StreamClientTransport, stdioPipes} from './support/stdio-pipes.js';

function text(value: string): CallToolResult {
  return {content: [{type: 'text', text: value}]};
}

function textOf(result: unknown): string {
  const content = (result as {content: {type: string; text?: string}[]}).content;
  return content.map((item) => item.text ?? '').join('');
}

interface ProbeServer {
  url: string;
  /** Tool names whose call started, and whose call saw its cancellation. */
  started: string[];
  cancelled: string[];
  close(): Promise<void>;
}

/** A stateful MCP SDK server whose tools talk back to the client. */
async function startProbeServer(): Promise<ProbeServer> {
  const started: string[] = [];
  const cancelled: string[] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const servers: McpServer[] = [];

  function build(): McpServer {
    const server = new McpServer({name: 'probe', version: '1.0.0'}, {capabilities: {logging: {}}});
    server.registerTool('ask', {inputSchema: {question: z.string()}}, async ({question}, extra) => {
      // Related to the tool call: travels on the call's own response stream.
      const answer = await extra.sendRequest(
        {
          method: 'elicitation/create',
          params: {
            message: question,
            requestedSchema: {
              type: 'object',
              properties: {name: {type: 'string'}},
              required: ['name'],
            },
          },
        },
        ElicitResultSchema,
      );
      return text(`${answer.action}:${String(answer.content?.name)}`);
    });
    server.registerTool('sample', {inputSchema: {prompt: z.string()}}, async ({prompt}) => {
      // Not related to the call: travels on the standing GET stream.
      const result = await server.server.createMessage({
        messages: [{role: 'user', content: {type: 'text', text: prompt}}],
        maxTokens: 16,
      });
      return text(result.content.type === 'text' ? result.content.text : '?');
    });
    server.registerTool('roots', {}, async () => {
      const {roots} = await server.server.listRoots();
      return text(roots.map((root) => root.uri).join(','));
    });
    server.registerTool('log', {}, async (extra) => {
      await extra.sendNotification({
        method: 'notifications/message',
        params: {level: 'info', logger: 'probe', data: 'hello from the server'},
      });
      return text('logged');
    });
    server.registerTool('wait', {}, async (extra) => {
      started.push('wait');
      await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve()));
      cancelled.push('wait');
      return text('aborted');
    });
    servers.push(server);
    return server;
  }

  const httpServer: Server = createServer((req, res) => {
    void (async () => {
      const id = req.headers['mcp-session-id'];
      if (typeof id === 'string') {
        const transport = transports.get(id);
        if (!transport) {
          res.writeHead(404).end();
          return;
        }
        await transport.handleRequest(req, res);
        return;
      }
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sessionId) => {
          transports.set(sessionId, transport);
        },
      });
      await build().connect(transport);
      await transport.handleRequest(req, res);
    })();
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const {port} = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    started,
    cancelled,
    async close() {
      await Promise.all(servers.map((server) => server.close().catch(() => undefined)));
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
    },
  };
}

/** A client that answers every server-to-client request and records log messages. */
function probeClient(): {client: Client; logs: unknown[]} {
  const client = new Client(
    {name: 'probe-client', version: '1.0.0'},
    {capabilities: {elicitation: {}, sampling: {}, roots: {listChanged: true}}},
  );
  const logs: unknown[] = [];
  client.setRequestHandler(ElicitRequestSchema, async () => ({
    action: 'accept',
    content: {name: 'Ada'},
  }));
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const first = request.params.messages[0]?.content;
    const prompt = first && 'text' in first ? String(first.text) : '';
    return {
      role: 'assistant',
      model: 'test-model',
      content: {type: 'text', text: `sampled ${prompt}`},
    };
  });
  client.setRequestHandler(ListRootsRequestSchema, async () => ({
    roots: [{uri: 'file:///work', name: 'work'}],
  }));
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    logs.push(notification.params.data);
  });
  return {client, logs};
}

const LOCAL_SIDES = ['stdio', 'local HTTP'] as const;

describe.each(LOCAL_SIDES)('proxy forwarding over %s', (side) => {
  let probe: ProbeServer;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    probe = await startProbeServer();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await probe.close();
  });

  async function connected(): Promise<{client: Client; logs: unknown[]}> {
    const {client, logs} = probeClient();
    const remoteFetch = nodeHttpFetch();
    cleanups.push(async () => remoteFetch.close());
    if (side === 'local HTTP') {
      const proxy = await startHttpProxy({remoteUrl: probe.url, fetch: remoteFetch});
      cleanups.push(() => proxy.close());
      cleanups.push(() => client.close());
      await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
    } else {
      const pipes = stdioPipes();
      const proxy = await startStdioProxy({
        remoteUrl: probe.url,
        fetch: remoteFetch,
        stdin: pipes.stdin,
        stdout: pipes.stdout,
      });
      cleanups.push(() => proxy.close());
      cleanups.push(() => client.close());
      await client.connect(new StreamClientTransport(pipes.stdin, pipes.stdout));
    }
    return {client, logs};
  }

  it('passes an elicitation request sent on the tool call stream, and its answer', async () => {
    const {client} = await connected();
    const result = await client.callTool({name: 'ask', arguments: {question: 'Your name?'}});
    expect(textOf(result)).toBe('accept:Ada');
  });

  it('passes sampling and roots requests sent on the standing stream, and their answers', async () => {
    const {client} = await connected();
    expect(textOf(await client.callTool({name: 'sample', arguments: {prompt: 'hi'}}))).toBe(
      'sampled hi',
    );
    expect(textOf(await client.callTool({name: 'roots', arguments: {}}))).toBe('file:///work');
  });

  it('passes logging notifications', async () => {
    const {client, logs} = await connected();
    expect(textOf(await client.callTool({name: 'log', arguments: {}}))).toBe('logged');
    await vi.waitFor(() => expect(logs).toEqual(['hello from the server']));
  });

  it('passes a cancellation to the server', async () => {
    const {client} = await connected();
    const controller = new AbortController();
    const call = client.callTool({name: 'wait', arguments: {}}, undefined, {
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(probe.started).toEqual(['wait']));
    controller.abort('user pressed stop');
    await expect(call).rejects.toThrow();
    await vi.waitFor(() => expect(probe.cancelled).toEqual(['wait']));
    // The session still works after the cancelled call.
    expect(textOf(await client.callTool({name: 'log', arguments: {}}))).toBe('logged');
  });
});
