/**
 * A small real MCP SDK server on 127.0.0.1 for the MCP layer's unit tests: Streamable HTTP
 * at `/mcp` (stateful) and legacy SSE at `/sse` + `/messages`, an auth gate the test
 * controls, a log of request headers, and counters.
 */
import {randomUUID} from 'node:crypto';
import {createServer} from 'node:http';
import type {IncomingHttpHeaders, IncomingMessage, ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js';
import {SSEServerTransport} from '@modelcontextprotocol/sdk/server/sse.js';
import {StreamableHTTPServerTransport} from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import * as z from 'zod';

/** Decides a request's fate before MCP sees it: a status to refuse with, or undefined to let it in. */
export type Gate = (headers: IncomingHttpHeaders, method: string) => number | undefined;

export interface McpTestServer {
  origin: string;
  url: string;
  sseUrl: string;
  gate: Gate;
  /** Headers of every request that reached the server (gate passed or not). */
  headers: IncomingHttpHeaders[];
  sessions: number;
  toolCalls: number;
  deletes: number;
  forgetSessions(): void;
  close(): Promise<void>;
}

function buildServer(stats: {toolCalls: number}): McpServer {
  const server = new McpServer({name: 'mcp-test', version: '1.0.0'});
  server.registerTool(
    'echo',
    {description: 'Echoes text.', inputSchema: {text: z.string()}},
    ({text}) => {
      stats.toolCalls++;
      return {content: [{type: 'text', text}]};
    },
  );
  server.registerTool(
    'add',
    {description: 'Adds.', inputSchema: {a: z.number(), b: z.number()}},
    ({a, b}) => {
      stats.toolCalls++;
      return {content: [{type: 'text', text: String(a + b)}]};
    },
  );
  server.registerTool(
    'wrap',
    {description: 'Takes an argument called args.', inputSchema: {args: z.string()}},
    ({args}) => {
      stats.toolCalls++;
      return {content: [{type: 'text', text: `args=${args}`}]};
    },
  );
  server.registerTool('fail', {description: 'Always reports an error.'}, () => {
    stats.toolCalls++;
    return {isError: true, content: [{type: 'text', text: 'it failed'}]};
  });
  server.registerTool(
    'header',
    {description: 'Answers a request header.', inputSchema: {name: z.string()}},
    ({name}, extra) => {
      stats.toolCalls++;
      const value = extra.requestInfo?.headers[name.toLowerCase()];
      return {content: [{type: 'text', text: String(value)}]};
    },
  );
  return server;
}

/** Starts the server; `gate` defaults to letting every request in. */
export async function startMcpTestServer(gate?: Gate): Promise<McpTestServer> {
  const streamable = new Map<string, StreamableHTTPServerTransport>();
  const sse = new Map<string, SSEServerTransport>();
  const stats = {toolCalls: 0};
  const state: McpTestServer = {
    origin: '',
    url: '',
    sseUrl: '',
    gate: gate ?? (() => undefined),
    headers: [],
    sessions: 0,
    get toolCalls() {
      return stats.toolCalls;
    },
    set toolCalls(value: number) {
      stats.toolCalls = value;
    },
    deletes: 0,
    forgetSessions() {
      for (const transport of streamable.values()) void transport.close();
      streamable.clear();
      for (const transport of sse.values()) void transport.close();
      sse.clear();
    },
    close: () => Promise.resolve(),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    state.headers.push(req.headers);
    const refused = state.gate(req.headers, req.method ?? 'GET');
    if (refused !== undefined) {
      res.writeHead(refused, {'content-type': 'text/plain'}).end(`refused ${refused}`);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/mcp') {
      if (req.method === 'DELETE') state.deletes++;
      const id = req.headers['mcp-session-id'];
      if (typeof id === 'string') {
        const transport = streamable.get(id);
        if (!transport) {
          res.writeHead(404, {'content-type': 'application/json'}).end(
            JSON.stringify({
              jsonrpc: '2.0',
              error: {code: -32001, message: 'Session not found'},
              id: null,
            }),
          );
          return;
        }
        await transport.handleRequest(req, res);
        return;
      }
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sessionId) => {
          state.sessions++;
          streamable.set(sessionId, transport);
        },
      });
      await buildServer(stats).connect(transport);
      await transport.handleRequest(req, res);
      return;
    }
    if (url.pathname === '/sse' && req.method === 'GET') {
      const transport = new SSEServerTransport('/messages', res);
      sse.set(transport.sessionId, transport);
      state.sessions++;
      await buildServer(stats).connect(transport);
      return;
    }
    if (url.pathname === '/messages' && req.method === 'POST') {
      const transport = sse.get(url.searchParams.get('sessionId') ?? '');
      if (!transport) {
        res.writeHead(404).end('Session not found');
        return;
      }
      await transport.handlePostMessage(req, res);
      return;
    }
    res.writeHead(404).end('not found');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.url = `${state.origin}/mcp`;
  state.sseUrl = `${state.origin}/sse`;
  state.close = async () => {
    state.forgetSessions();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  return state;
}
