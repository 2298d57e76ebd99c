/**
 * Small node:http helpers shared by the local servers this package runs (the CLI's HTTP
 * proxy, the emulator's demo MCP server). Internal; not exported from any entry.
 */
import type {ClientRequest, IncomingMessage, Server, ServerResponse} from 'node:http';

/** A request body went over its size limit. */
export class BodyTooLargeError extends Error {}

/** The first value of a request header, or `undefined`. */
export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads and parses a JSON body of at most `limit` bytes; throws {@link BodyTooLargeError} past it. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new BodyTooLargeError();
    chunks.push(buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** Answers with a JSON-RPC error object (`id: null`), as MCP servers do for transport errors. */
export function sendJsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
): void {
  res
    .writeHead(status, {'content-type': 'application/json'})
    .end(JSON.stringify({jsonrpc: '2.0', error: {code, message}, id: null}));
}

/** Starts listening; rejects on a listen error (port in use, address not available). */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** What {@link readJsonRpcBody} returns when it has already answered the request. */
export const ANSWERED = Symbol('answered');

/**
 * Reads a JSON-RPC request body of at most `limit` bytes. On an oversized (413) or unparsable
 * (400, JSON-RPC parse error) body it answers the request itself and returns {@link ANSWERED}.
 */
export async function readJsonRpcBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<unknown> {
  try {
    return await readJsonBody(req, limit);
  } catch (error) {
    const tooLarge = error instanceof BodyTooLargeError;
    sendJsonRpcError(
      res,
      tooLarge ? 413 : 400,
      -32700,
      tooLarge ? 'Body too large' : 'Parse error',
    );
    return ANSWERED;
  }
}

/**
 * Whether a request that failed may be sent once more on a new connection: it went out on a
 * kept-alive socket and the connection broke (`ECONNRESET`, `EPIPE`) before any byte of an
 * answer came back. That is the keep-alive race: the server closed the idle connection at
 * the moment the client picked it for the next request, so the server never saw the request.
 * Node.js documents `request.reusedSocket` for exactly this retry.
 *
 * @param request - The failed request.
 * @param error - What it failed with.
 * @param answered - Whether response headers (or any byte of them) had arrived.
 */
export function failedOnStaleConnection(
  request: ClientRequest,
  error: unknown,
  answered: boolean,
): boolean {
  if (answered || !request.reusedSocket) return false;
  const code = (error as {code?: unknown} | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}
