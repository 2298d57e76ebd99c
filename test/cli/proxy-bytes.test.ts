/**
 * The proxies forward bytes, not objects: bodies pass unchanged both ways (event streams
 * included, comments and odd formatting kept), and only the credential header and the
 * session id change. Checked against a hand-written remote that records what it got.
 */
import {afterEach, describe, expect, it} from 'vitest';
import {startHttpProxy} from '../../src/cli/proxy/http-proxy.js';
import {nodeHttpFetch} from '../../src/cli/proxy/node-http-fetch.js';
import {startStdioProxy} from '../../src/cli/proxy/stdio-proxy.js';
import type {FetchLike} from '../../src/tokens/google-routing.js';
import {FRONT_502_PAGE, startRawRemote} from './support/raw-remote.js';
import type {RawRemote, RawRequest} from './support/raw-remote.js';
import {recordingLogger} from './support/proxy-stack.js';
import {stdioPipes} from './support/stdio-pipes.js';

/** nodeHttpFetch with a fixed credential, standing in for googleAuthFetch. */
function withCredential(): FetchLike & {close(): void} {
  const base = nodeHttpFetch();
  const wrapped: FetchLike = (input, init) =>
    base(input, {
      ...init,
      headers: {
        ...(init?.headers as Record<string, string>),
        authorization: 'Bearer proxy-credential',
      },
    });
  return Object.assign(wrapped, {close: () => base.close()});
}

const INITIALIZE_SSE =
  ': a comment the client may ignore\r\n' +
  'retry: 3000\r\n' +
  'event: message\r\n' +
  'data: {"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"raw","version":"1"}},\r\n' +
  'data:  "jsonrpc":"2.0","id":0}\r\n' +
  '\r\n';

/** Answers initialize with an event stream, anything else with pretty-printed JSON. */
function scripted(request: RawRequest): {
  status: number;
  headers: Record<string, string | string[]>;
  chunks: string[];
} {
  if (request.body.includes('"initialize"')) {
    return {
      status: 200,
      headers: {
        'content-type': 'text/event-stream',
        'mcp-session-id': 'remote-session-1',
        'x-remote-thing': 'kept',
        'set-cookie': ['tracking=1'],
      },
      chunks: [INITIALIZE_SSE.slice(0, 40), INITIALIZE_SSE.slice(40)],
    };
  }
  if (!request.body.includes('"id"')) return {status: 202, headers: {}, chunks: []};
  const id = /"id"\s*:\s*(\d+)/.exec(request.body)?.[1] ?? '0';
  return {
    status: 200,
    headers: {'content-type': 'application/json', 'mcp-session-id': 'remote-session-1'},
    chunks: [`{\n  "jsonrpc": "2.0",\n  "id": ${id},\n  "result": {"tools": []}\n}`],
  };
}

describe('byte-for-byte forwarding', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function remote(answer = scripted): Promise<RawRemote> {
    const started = await startRawRemote(answer);
    cleanups.push(() => started.close());
    return started;
  }

  it('HTTP: bodies pass unchanged both ways; the credential and the session id are the only headers rewritten', async () => {
    const raw = await remote();
    const fetch = withCredential();
    cleanups.push(() => fetch.close());
    const proxy = await startHttpProxy({remoteUrl: raw.url, fetch});
    cleanups.push(() => proxy.close());

    const initialize =
      '{ "jsonrpc" : "2.0",  "id": 0, "method": "initialize",\n "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bytes", "version": "1"}} }';
    const first = await globalThis.fetch(proxy.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: 'Bearer the-local-clients-own',
        cookie: 'local=1',
        'x-client-thing': 'passes',
      },
      body: initialize,
    });
    expect(first.status).toBe(200);
    expect(await first.text()).toBe(INITIALIZE_SSE);
    const localId = first.headers.get('mcp-session-id');
    expect(localId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.headers.get('x-remote-thing')).toBe('kept');
    expect(first.headers.get('set-cookie')).toBeNull();

    const seen = raw.requests[0] as RawRequest;
    expect(seen.body).toBe(initialize);
    expect(seen.headers.authorization).toBe('Bearer proxy-credential');
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['x-client-thing']).toBe('passes');
    expect(seen.headers['mcp-session-id']).toBeUndefined();

    const list = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';
    const second = await globalThis.fetch(proxy.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': localId as string,
        'mcp-protocol-version': '2025-06-18',
      },
      body: list,
    });
    expect(await second.text()).toBe(
      '{\n  "jsonrpc": "2.0",\n  "id": 1,\n  "result": {"tools": []}\n}',
    );
    expect(second.headers.get('mcp-session-id')).toBe(localId);
    const next = raw.requests[1] as RawRequest;
    expect(next.body).toBe(list);
    expect(next.headers['mcp-session-id']).toBe('remote-session-1');
    expect(next.headers['mcp-protocol-version']).toBe('2025-06-18');
  });

  it('stdio: each line goes out as it came; event data and JSON bodies come back one line each', async () => {
    const raw = await remote();
    const fetch = withCredential();
    cleanups.push(() => fetch.close());
    const pipes = stdioPipes();
    const proxy = await startStdioProxy({
      remoteUrl: raw.url,
      fetch,
      stdin: pipes.stdin,
      stdout: pipes.stdout,
    });
    cleanups.push(() => proxy.close());

    const initialize =
      '{ "jsonrpc" : "2.0",  "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bytes", "version": "1"}} }';
    pipes.stdin.write(`${initialize}\n`);
    pipes.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\r\n');
    pipes.stdin.write('{"jsonrpc":"2.0","id":1,"method":"tools/list"}\n');
    const lines = await pipes.waitForLines(2);
    expect(lines[0]).toEqual({
      result: {
        protocolVersion: '2025-06-18',
        capabilities: {tools: {}},
        serverInfo: {name: 'raw', version: '1'},
      },
      jsonrpc: '2.0',
      id: 0,
    });
    expect(lines[1]).toEqual({jsonrpc: '2.0', id: 1, result: {tools: []}});
    const posts = raw.requests.filter((r) => r.method === 'POST');
    expect(posts[0]?.body).toBe(initialize);
    expect(posts[0]?.headers.authorization).toBe('Bearer proxy-credential');
    expect(posts[1]?.body).toBe('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    expect(posts.at(-1)?.headers['mcp-session-id']).toBe('remote-session-1');
    expect(posts.at(-1)?.headers['mcp-protocol-version']).toBe('2025-06-18');
  });

  it('summarizes a 502 page of the front (status, what it usually means, one hint), never the HTML', async () => {
    const raw = await remote(() => ({
      status: 502,
      headers: {'content-type': 'text/html; charset=UTF-8'},
      chunks: [FRONT_502_PAGE],
    }));
    const fetch = withCredential();
    cleanups.push(() => fetch.close());
    const logger = recordingLogger();
    const http = await startHttpProxy({remoteUrl: raw.url, fetch, logger});
    cleanups.push(() => http.close());
    const answer = await globalThis.fetch(http.url, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'application/json, text/event-stream'},
      body: '{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}',
    });
    const body = (await answer.json()) as {
      id: number;
      error: {message: string; data: Record<string, unknown>};
    };
    expect(body.id).toBe(3);
    expect(body.error.message).toContain('answered HTTP 502 Bad Gateway');
    expect(body.error.message).toContain('the front got no valid answer from the container');
    expect(body.error.message).toContain('gcloud run services logs read');
    expect(body.error.message).not.toMatch(/<html|<title|<h1/i);
    expect(body.error.data).toMatchObject({reason: 'remote_http_error', httpStatus: 502});
    expect(logger.lines.join('\n')).toContain('HTTP 502 Bad Gateway');
    expect(logger.lines.join('\n')).not.toMatch(/<html/i);
    expect(http.sessions).toBe(0);

    const pipes = stdioPipes();
    const stdio = await startStdioProxy({
      remoteUrl: raw.url,
      fetch,
      stdin: pipes.stdin,
      stdout: pipes.stdout,
    });
    cleanups.push(() => stdio.close());
    pipes.stdin.write(
      '{"jsonrpc":"2.0","id":"a","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}\n',
    );
    const [line] = (await pipes.waitForLines(1)) as {id: string; error: {message: string}}[];
    expect(line?.id).toBe('a');
    expect(line?.error.message).toContain('answered HTTP 502 Bad Gateway');
    expect(line?.error.message).not.toMatch(/<html/i);
  });
});
