/**
 * A low-level MCP SDK server (raw JSON Schemas, handlers that throw) on 127.0.0.1, to compare
 * what `AdkMcpToolset` and `@google/adk`'s own `MCPToolset` make of the same tools: schemas
 * that exercise ADK's conversion (nullable types, `anyOf`, `enum`, `const`, nested objects
 * without `type`, arrays, an output schema), an `isError` result, JSON-RPC errors, a call that
 * waits to be cancelled. Streamable HTTP at `/mcp`, stateful.
 */
import {randomUUID} from 'node:crypto';
import {createServer} from 'node:http';
import type {IncomingHttpHeaders} from 'node:http';
import type {AddressInfo} from 'node:net';
import {Server} from '@modelcontextprotocol/sdk/server/index.js';
import {StreamableHTTPServerTransport} from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {CallToolRequestSchema, ListToolsRequestSchema} from '@modelcontextprotocol/sdk/types.js';
import type {CallToolResult, Tool} from '@modelcontextprotocol/sdk/types.js';

/** What `leak` puts in its JSON-RPC error: token-like text a server might echo. */
export const LEAKED_TOKEN =
  'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiYXVkIjoiaHR0cHM6Ly9zdmMifQ.c2lnbmF0dXJlc2lnbmF0dXJl';

export const SHAPE_TOOLS: Tool[] = [
  {
    name: 'lookup',
    description: 'Looks a record up.',
    inputSchema: {
      type: 'object',
      properties: {
        id: {type: 'string', description: 'The record id.'},
        mode: {enum: ['fast', 'thorough']},
        limit: {type: ['integer', 'null']},
        tags: {type: 'array', items: {type: 'string'}},
        key: {anyOf: [{type: 'string'}, {type: 'number'}]},
        strict: {const: true},
        filter: {properties: {field: {type: 'string'}, values: {items: {type: 'number'}}}},
      },
      required: ['id'],
    },
    outputSchema: {
      type: 'object',
      properties: {found: {type: 'boolean'}, score: {type: ['number', 'null']}},
      required: ['found'],
    },
  },
  {name: 'noargs', inputSchema: {type: 'object'}},
  {name: 'broken', description: 'Reports an error in its result.', inputSchema: {type: 'object'}},
  {name: 'refuse', description: 'Answers a JSON-RPC error.', inputSchema: {type: 'object'}},
  {name: 'leak', description: 'Echoes a token in a JSON-RPC error.', inputSchema: {type: 'object'}},
  {
    name: 'pause',
    description: 'Answers after `ms` milliseconds.',
    inputSchema: {type: 'object', properties: {ms: {type: 'integer'}}, required: ['ms']},
  },
  {
    name: 'slow',
    description: 'Answers after 5 seconds, or when the call is cancelled.',
    inputSchema: {type: 'object'},
  },
];

export interface ShapesMcpServer {
  readonly url: string;
  /** Sessions initialized, sessions open now, DELETEs received. */
  readonly stats: {sessions: number; active: number; deletes: number; cancelled: number};
  /** Headers of every request. */
  readonly headers: IncomingHttpHeaders[];
  close(): Promise<void>;
}

function handlerFor(name: string, signal: AbortSignal, stats: {cancelled: number}) {
  return async (args: Record<string, unknown>): Promise<CallToolResult> => {
    switch (name) {
      case 'lookup':
        return {
          content: [{type: 'text', text: `found ${String(args.id)}`}],
          structuredContent: {found: true, score: null},
        };
      case 'noargs':
        return {content: [{type: 'text', text: 'nothing needed'}]};
      case 'broken':
        return {isError: true, content: [{type: 'text', text: 'the record store is down'}]};
      case 'refuse':
        throw Object.assign(new Error('the server refuses this call'), {code: -32000});
      case 'leak':
        throw Object.assign(new Error(`refused Authorization: Bearer ${LEAKED_TOKEN}`), {
          code: -32001,
        });
      case 'pause':
        await new Promise((resolve) => setTimeout(resolve, Number(args.ms)));
        return {content: [{type: 'text', text: `paused ${String(args.ms)} ms`}]};
      case 'slow':
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            stats.cancelled++;
            resolve();
          });
        });
        return {content: [{type: 'text', text: 'slow done'}]};
      default:
        throw Object.assign(new Error(`Tool ${name} not found`), {code: -32602});
    }
  };
}

function buildServer(stats: {cancelled: number}): Server {
  const server = new Server({name: 'shapes', version: '1.0.0'}, {capabilities: {tools: {}}});
  server.setRequestHandler(ListToolsRequestSchema, () => ({tools: SHAPE_TOOLS}));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    handlerFor(request.params.name, extra.signal, stats)(request.params.arguments ?? {}),
  );
  return server;
}

export async function startShapesMcpServer(): Promise<ShapesMcpServer> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const stats = {
    sessions: 0,
    get active() {
      return transports.size;
    },
    deletes: 0,
    cancelled: 0,
  };
  const headers: IncomingHttpHeaders[] = [];
  const http = createServer((req, res) => {
    headers.push(req.headers);
    if (req.method === 'DELETE') stats.deletes++;
    const id = req.headers['mcp-session-id'];
    const handle = async () => {
      if (typeof id === 'string') {
        const transport = transports.get(id);
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
          stats.sessions++;
          transports.set(sessionId, transport);
        },
        onsessionclosed: (sessionId) => {
          transports.delete(sessionId);
        },
      });
      await buildServer(stats).connect(transport);
      await transport.handleRequest(req, res);
    };
    handle().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    stats,
    headers,
    async close() {
      for (const transport of transports.values()) await transport.close();
      transports.clear();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
