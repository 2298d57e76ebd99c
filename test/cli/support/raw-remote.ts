/**
 * A hand-written remote for byte-level proxy tests: it records every request exactly as it
 * arrived and answers with whatever the test scripted, byte for byte.
 */
import {createServer} from 'node:http';
import type {IncomingHttpHeaders, OutgoingHttpHeaders, Server} from 'node:http';
import type {AddressInfo} from 'node:net';

/** One request as the remote saw it. */
export interface RawRequest {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the remote answers: status, headers, and body chunks written one by one. */
export interface RawAnswer {
  status: number;
  headers?: OutgoingHttpHeaders;
  chunks?: (string | Buffer)[];
  /** Leave the response open after the chunks (a stream that is cut later by `close`). */
  keepOpen?: boolean;
}

/** A running {@link startRawRemote}. */
export interface RawRemote {
  url: string;
  requests: RawRequest[];
  close(): Promise<void>;
}

/** Starts a remote that answers each request with `answer(request)`. */
export async function startRawRemote(
  answer: (request: RawRequest, index: number) => RawAnswer,
): Promise<RawRemote> {
  const requests: RawRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: RawRequest = {
        method: req.method ?? 'GET',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      const scripted = answer(request, requests.length - 1);
      res.writeHead(scripted.status, scripted.headers ?? {});
      for (const chunk of scripted.chunks ?? []) res.write(chunk);
      if (!scripted.keepOpen) res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The HTML page Google's front answers a 502 with (as the Cloud Run front emulation does). */
export const FRONT_502_PAGE =
  '<html><head>\n<meta http-equiv="content-type" content="text/html;charset=utf-8">\n' +
  '<title>502 Server Error</title>\n</head>\n<body text=#000000 bgcolor=#ffffff>\n' +
  '<h1>Error: Server Error</h1>\n<h2>The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds.</h2>\n<h2></h2>\n</body></html>\n';
