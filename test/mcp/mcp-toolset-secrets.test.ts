import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {McpToolset} from '../../src/mcp/mcp-toolset.js';

/** A server that fails every request and echoes the request's Authorization header back. */
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(500, {'content-type': 'text/plain'});
      res.end(`internal error while handling ${req.headers.authorization ?? ''}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('McpToolset errors', () => {
  it('keep a token that the server echoes back out of the message', async () => {
    const token = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from('{"aud":"x","sub":"1"}').toString('base64url')}.c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw`;
    const toolset = new McpToolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url},
      authCredential: {authType: 'http', http: {scheme: 'bearer', credentials: {token}}},
    });
    try {
      const error = await toolset.getTools().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      const message = (error as Error).message;
      expect(message).toMatch(/HTTP 500/);
      expect(message).toMatch(/internal error while handling/);
      expect(message).not.toContain(token);
      expect(message).not.toContain(token.split('.')[2]);
    } finally {
      await toolset.close();
    }
  });
});
