import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {SSEClientTransport} from '@modelcontextprotocol/sdk/client/sse.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {Progress} from '@modelcontextprotocol/sdk/types.js';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {startDemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import type {DemoMcpServer} from '../../src/emulator/demo-mcp-server.js';

/** A JWT as a Cloud Run container receives it: claims readable, signature removed. */
function forwardedToken(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({alg: 'RS256', kid: 'k1'})}.${part(claims)}.SIGNATURE_REMOVED_BY_GOOGLE`;
}

function textOf(result: unknown): string {
  const content = (result as {content: {type: string; text?: string}[]}).content;
  return content.map((item) => item.text ?? '').join('');
}

describe('startDemoMcpServer', () => {
  let demo: DemoMcpServer;
  const clients: Client[] = [];

  async function connect(headers: Record<string, string> = {}): Promise<Client> {
    const client = new Client({name: 'demo-test', version: '1.0.0'});
    await client.connect(
      new StreamableHTTPClientTransport(new URL(demo.url), {requestInit: {headers}}),
    );
    clients.push(client);
    return client;
  }

  beforeEach(async () => {
    demo = await startDemoMcpServer();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await demo.close();
  });

  it('serves on loopback with the documented URLs', () => {
    expect(demo.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(demo.url).toBe(`${demo.origin}/mcp`);
    expect(demo.sseUrl).toBe(`${demo.origin}/sse`);
  });

  it('lists the demo tools with their input schemas', async () => {
    const client = await connect();
    const {tools} = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['add', 'echo', 'slow_count', 'whoami']);
    const add = tools.find((tool) => tool.name === 'add');
    expect(add?.inputSchema.properties).toMatchObject({a: {type: 'number'}, b: {type: 'number'}});
    expect(add?.inputSchema.required).toEqual(['a', 'b']);
  });

  it('echo answers its text and add answers the sum', async () => {
    const client = await connect();
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'héllo'}}))).toBe('héllo');
    expect(textOf(await client.callTool({name: 'add', arguments: {a: 2, b: 40.5}}))).toBe('42.5');
    expect(demo.stats.toolCalls).toBe(2);
    expect(demo.stats.sessions).toBe(1);
  });

  it('rejects arguments that do not match the schema', async () => {
    const client = await connect();
    const result = await client.callTool({name: 'add', arguments: {a: 'two', b: 3}});
    expect(result.isError).toBe(true);
  });

  it('whoami says anonymous without a forwarded token', async () => {
    const client = await connect();
    expect(textOf(await client.callTool({name: 'whoami', arguments: {}}))).toBe('anonymous');
  });

  it('whoami reads the email from a forwarded Authorization token without verifying it', async () => {
    const token = forwardedToken({email: 'caller@proj.iam.gserviceaccount.com', aud: 'x'});
    const client = await connect({authorization: `Bearer ${token}`});
    expect(textOf(await client.callTool({name: 'whoami', arguments: {}}))).toBe(
      'caller@proj.iam.gserviceaccount.com',
    );
  });

  it('whoami prefers X-Serverless-Authorization over Authorization', async () => {
    const client = await connect({
      authorization: `Bearer ${forwardedToken({email: 'app-user@example.com'})}`,
      'x-serverless-authorization': `Bearer ${forwardedToken({email: 'sa@proj.iam.gserviceaccount.com'})}`,
    });
    expect(textOf(await client.callTool({name: 'whoami', arguments: {}}))).toBe(
      'sa@proj.iam.gserviceaccount.com',
    );
  });

  it('whoami says anonymous when the Authorization header is not a JWT', async () => {
    const client = await connect({authorization: 'Basic dXNlcjpwYXNz'});
    expect(textOf(await client.callTool({name: 'whoami', arguments: {}}))).toBe('anonymous');
  });

  it('slow_count sends one progress notification per step when asked', async () => {
    const client = await connect();
    const progress: Progress[] = [];
    const result = await client.callTool({name: 'slow_count', arguments: {n: 3}}, undefined, {
      onprogress: (p) => progress.push(p),
    });
    expect(textOf(result)).toBe('counted to 3');
    expect(progress.map((p) => [p.progress, p.total])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  it('forgetSessions makes the old session id answer 404 and a new session works', async () => {
    const client = await connect();
    await client.callTool({name: 'echo', arguments: {text: 'a'}});
    const transport = client.transport as StreamableHTTPClientTransport;
    const oldSessionId = transport.sessionId;
    expect(oldSessionId).toBeTruthy();

    expect(demo.forgetSessions()).toBe(1);
    expect(demo.stats.forgottenSessions).toBe(1);
    expect(demo.stats.activeSessions).toBe(0);

    const response = await fetch(demo.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': oldSessionId ?? '',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({jsonrpc: '2.0', id: 9, method: 'tools/list', params: {}}),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({error: {code: -32001}});
    await expect(client.listTools()).rejects.toThrow(/404|Session not found/);
    expect(demo.stats.unknownSessionRequests).toBe(2);

    const fresh = await connect();
    expect(textOf(await fresh.callTool({name: 'echo', arguments: {text: 'b'}}))).toBe('b');
    expect(demo.stats.sessions).toBe(2);
  });

  it('answers 400 to a request without a session id that is not initialize', async () => {
    const response = await fetch(demo.url, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'application/json, text/event-stream'},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'tools/list', params: {}}),
    });
    expect(response.status).toBe(400);
    expect(demo.stats.sessions).toBe(0);
  });

  it('answers 400 to a body that is not JSON', async () => {
    const response = await fetch(demo.url, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'application/json, text/event-stream'},
      body: '{not json',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({error: {code: -32700}});
  });

  it('ends the session on DELETE', async () => {
    const client = await connect();
    const transport = client.transport as StreamableHTTPClientTransport;
    await transport.terminateSession();
    expect(demo.stats.activeSessions).toBe(0);
  });

  it('serves the same tools over the SSE transport', async () => {
    const token = forwardedToken({email: 'sse-caller@example.com'});
    const client = new Client({name: 'demo-sse-test', version: '1.0.0'});
    await client.connect(
      new SSEClientTransport(new URL(demo.sseUrl), {
        requestInit: {headers: {authorization: `Bearer ${token}`}},
      }),
    );
    clients.push(client);
    expect(demo.stats.sseSessions).toBe(1);
    expect(textOf(await client.callTool({name: 'add', arguments: {a: 1, b: 2}}))).toBe('3');
    expect(textOf(await client.callTool({name: 'whoami', arguments: {}}))).toBe(
      'sse-caller@example.com',
    );
    const progress: Progress[] = [];
    await client.callTool({name: 'slow_count', arguments: {n: 2}}, undefined, {
      onprogress: (p) => progress.push(p),
    });
    expect(progress).toHaveLength(2);
  });

  it('answers 404 to SSE messages for an unknown session', async () => {
    const response = await fetch(`${demo.origin}/messages?sessionId=nope`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'tools/list'}),
    });
    expect(response.status).toBe(404);
  });

  it('rejects a bad port option', async () => {
    await expect(startDemoMcpServer({port: -1})).rejects.toThrow(TypeError);
  });
});
