import {createServer, request} from 'node:http';
import type {IncomingMessage, RequestListener, Server} from 'node:http';
import type {AddressInfo} from 'node:net';

/** A server listening on 127.0.0.1. */
export interface Listening {
  url: string;
  close(): Promise<void>;
}

/** Listens with `handler` (a node:http listener or an express app) on an ephemeral port. */
export async function listen(handler: RequestListener): Promise<Listening> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const {port} = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The answer of {@link rawGet}. */
export interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A GET with exactly these header values (fetch would normalise empty or blank ones). */
export function rawGet(
  url: string,
  headers: Record<string, string | string[]> = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, {method: 'GET', headers, agent: false}, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}));
    });
    req.on('error', reject);
    req.end();
  });
}
