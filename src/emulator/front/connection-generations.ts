/**
 * Internal: a restart without a gap, for the emulator's servers. A restarted instance keeps
 * the listening port (as Cloud Run's front keeps the service URL while instances come and
 * go), and the connections of the old instance are retired gracefully: each is told
 * `Connection: close` on its next response, and idle ones are left to the keep-alive timeout
 * (which HTTP clients honour before the server does), so no request is refused or cut.
 */
import type {Server} from 'node:http';
import type {Socket} from 'node:net';

/** Tracks a server's connections by generation; {@link retire} ends the current one. */
export class ConnectionGenerations {
  #current = new Set<Socket>();
  readonly #retired = new WeakSet<Socket>();

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      this.#current.add(socket);
      socket.once('close', () => this.#current.delete(socket));
    });
    // First, so that the flag is set before any handler answers.
    server.prependListener('request', (req, res) => {
      if (this.#retired.has(req.socket)) res.shouldKeepAlive = false;
    });
  }

  /** Retires every open connection: it serves what is in flight and one more request at most. */
  retire(): void {
    for (const socket of this.#current) this.#retired.add(socket);
    this.#current = new Set();
  }
}
