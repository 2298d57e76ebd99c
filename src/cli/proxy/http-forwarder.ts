import type {IncomingMessage, ServerResponse} from 'node:http';
import {sendJsonRpcError} from '../../util/node-http.js';
import {AnswerWatch} from './answer-watch.js';
import {localResponseHeaders, remoteRequestHeaders} from './http-headers.js';
import type {LocalSession} from './http-session-table.js';
import {requestsIn} from './json-rpc.js';
import type {ProxyLogger} from './proxy-logger.js';
import type {RemoteEndpoint} from './remote-endpoint.js';
import {describeRemoteError, failureAnswer} from './remote-failure.js';
import type {RemoteFailure} from './remote-failure.js';
import {discardReply, isEventStream, readReplyText, replyHeader} from './remote-reply.js';
import type {RemoteReply} from './remote-reply.js';
import {refusal} from './remote-session.js';
import {pumpReply} from './reply-pump.js';

/** Options of {@link HttpForwarder}. */
export interface HttpForwarderOptions {
  /** The remote endpoint and the fetch that reaches it. */
  endpoint: RemoteEndpoint;
  /** Where failures are reported. */
  logger: ProxyLogger;
  /** Called each time a lost remote session was opened again. */
  onReestablished(): void;
}

/**
 * Sends the local client's HTTP requests to the remote and the answers back, byte for byte:
 * the HTTP proxy's transport. Reads nothing of a message except where it answers itself: a
 * lost remote session (404: re-established by replaying the client's own initialize, then
 * the request is sent once more), a refusal (explained or summarized as a JSON-RPC error), and
 * the end of an event stream that did not bring the answer it owed.
 */
export class HttpForwarder {
  readonly #endpoint: RemoteEndpoint;
  readonly #remote: URL;
  readonly #log: ProxyLogger;
  readonly #onReestablished: () => void;

  constructor(options: HttpForwarderOptions) {
    this.#endpoint = options.endpoint;
    this.#remote = options.endpoint.url;
    this.#log = options.logger;
    this.#onReestablished = options.onReestablished;
  }

  /** Sends one local request to the remote and its answer back (see {@link send}). */
  async forward(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    body: Uint8Array | undefined,
    session: LocalSession | undefined,
  ): Promise<void> {
    const reply = await this.send(req, res, method, body, session);
    if (reply !== undefined) await this.deliver(reply, res, method, body, session);
  }

  /** Answers the local client with the proxy's JSON-RPC error for `failure`, and says so on stderr. */
  answerFailure(
    res: ServerResponse,
    body: Uint8Array | undefined,
    failure: RemoteFailure,
    status: number,
    what?: string,
  ): void {
    const requests = body === undefined ? [] : requestsIn(body);
    const subject =
      what ?? (requests.length > 0 ? requests.map((r) => r.method).join(', ') : 'a message');
    this.#log.error(`${subject}: ${failure.message}`);
    if (failure.hint) this.#log.info(failure.hint);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (requests.length === 0) {
      res
        .writeHead(status, {'content-type': 'application/json'})
        .end(JSON.stringify(failureAnswer(null, failure)));
      return;
    }
    // Requests get their answer as JSON-RPC: the client shows the message for the call.
    const answers = requests.map((request) => failureAnswer(request.id, failure));
    res
      .writeHead(200, {'content-type': 'application/json'})
      .end(JSON.stringify(answers.length === 1 ? answers[0] : answers));
  }

  /**
   * Sends one local request to the remote. Resolves to the reply when it is an answer to pass
   * on (below 400), or to undefined once the proxy answered the local client itself: a
   * refusal, an unreachable remote, the MCP server's own JSON error (passed on as it is). With
   * a session, a 404 for its remote id means the remote lost it: the session is opened again
   * and the request sent once more.
   */
  async send(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    body: Uint8Array | undefined,
    session: LocalSession | undefined,
    retried = false,
  ): Promise<RemoteReply | undefined> {
    const remoteId = session?.remote.id;
    let reply: RemoteReply;
    try {
      reply = await this.#endpoint.send(method, remoteRequestHeaders(req.headers, remoteId), body);
    } catch (error) {
      if (res.destroyed) return;
      this.answerFailure(
        res,
        body,
        describeRemoteError(error, this.#remote),
        502,
        what(method, body),
      );
      return;
    }
    if (res.destroyed) {
      // The local client left while the remote was answering.
      discardReply(reply);
      return;
    }
    const status = reply.status;
    if (status < 400) return reply;
    let text: string | undefined;
    if (session !== undefined && remoteId !== undefined && !retried) {
      let lost = status === 404 && (method !== 'GET' || session.getWorked);
      if (status === 400) {
        // Many servers answer an unknown session with 400 and a message about the session id.
        text = await readReplyText(reply, 64 * 1024);
        lost = /session/i.test(text);
      }
      if (lost) {
        discardReply(reply);
        if (session.closed) {
          sendJsonRpcError(res, 404, -32001, 'Session not found');
          return;
        }
        const before = session.remote.opened;
        const failure = await session.remote.reestablish(remoteId);
        if (session.remote.opened > before) this.#onReestablished();
        if (failure !== undefined) {
          this.answerFailure(res, body, failure, 502, what(method, body));
          return;
        }
        if (res.destroyed) return;
        if (session.closed) {
          sendJsonRpcError(res, 404, -32001, 'Session not found');
          return;
        }
        return this.send(req, res, method, body, session, true);
      }
    }
    const contentType = replyHeader(reply, 'content-type') ?? '';
    if (status !== 401 && status !== 403 && /json/i.test(contentType)) {
      // A JSON answer (a JSON-RPC error of the MCP server) is for the client as it is.
      if (text === undefined) return reply;
      res.writeHead(status, localResponseHeaders(reply.headers, session?.id)).end(text);
      return undefined;
    }
    const failure = await refusal(reply, this.#remote, text);
    // Never a 401 or 403 to the local client: it would start an OAuth flow against the proxy.
    this.answerFailure(
      res,
      body,
      failure,
      status === 401 || status === 403 ? 502 : status,
      what(method, body),
    );
    return undefined;
  }

  /** Sends a remote answer to the local client as it comes. */
  async deliver(
    reply: RemoteReply,
    res: ServerResponse,
    method: string,
    body: Uint8Array | undefined,
    session: LocalSession | undefined,
  ): Promise<void> {
    const headers = localResponseHeaders(reply.headers, session?.id);
    const stream = isEventStream(reply);
    if (stream) delete headers['content-length'];
    res.writeHead(reply.status, headers);
    const source = reply.body;
    if (source === undefined) {
      res.end();
      return;
    }
    if (method === 'GET' && reply.status === 200 && session !== undefined) session.getWorked = true;
    const encoded = (replyHeader(reply, 'content-encoding') ?? 'identity') !== 'identity';
    const watch =
      stream && method === 'POST' && body !== undefined && !encoded
        ? new AnswerWatch(body)
        : undefined;
    await pumpReply(source, res, {
      onChunk: watch ? (chunk) => watch.feed(chunk) : undefined,
      finish: (how) => {
        if (watch !== undefined && !watch.resumable) {
          const missing = watch.unanswered();
          if (missing.length > 0) {
            const failure: RemoteFailure = {
              reason: 'stream_ended',
              message: `The remote MCP server at ${this.#remote.origin} closed the response stream without answering ${missing.map((r) => r.method).join(', ')} (it may have restarted); retry it if that is safe.`,
            };
            this.#log.error(failure.message);
            for (const request of missing) {
              res.write(
                `event: message\ndata: ${JSON.stringify(failureAnswer(request.id, failure))}\n\n`,
              );
            }
          }
        }
        // An event stream that broke off ends cleanly (its requests were answered above); a
        // JSON body that broke off must not look complete.
        if (how === 'ended' || stream) res.end();
        else res.destroy();
      },
    });
  }
}

/** What a request was, for log lines: its methods, or the HTTP method. */
function what(method: string, body: Uint8Array | undefined): string {
  if (body === undefined) return method === 'GET' ? 'the event stream (GET)' : method;
  const requests = requestsIn(body);
  return requests.length > 0 ? requests.map((r) => r.method).join(', ') : 'a message';
}
