/**
 * The stdio proxy in process: its stdin and stdout are PassThrough streams, and an MCP SDK
 * client talks to them through {@link StreamClientTransport} (what StdioClientTransport does
 * with a child process's pipes), or a test writes raw lines.
 */
import {PassThrough} from 'node:stream';
import {ReadBuffer, serializeMessage} from '@modelcontextprotocol/sdk/shared/stdio.js';
import type {Transport} from '@modelcontextprotocol/sdk/shared/transport.js';
import type {JSONRPCMessage} from '@modelcontextprotocol/sdk/types.js';

/** An MCP client transport over two streams (the proxy's stdin and stdout). */
export class StreamClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #toProxy: PassThrough;
  readonly #fromProxy: PassThrough;
  readonly #buffer = new ReadBuffer();

  constructor(toProxy: PassThrough, fromProxy: PassThrough) {
    this.#toProxy = toProxy;
    this.#fromProxy = fromProxy;
  }

  async start(): Promise<void> {
    this.#fromProxy.on('data', (chunk: Buffer) => {
      this.#buffer.append(chunk);
      for (;;) {
        let message: JSONRPCMessage | null;
        try {
          message = this.#buffer.readMessage();
        } catch (error) {
          this.onerror?.(error as Error);
          continue;
        }
        if (message === null) break;
        this.onmessage?.(message);
      }
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.#toProxy.write(serializeMessage(message));
  }

  async close(): Promise<void> {
    this.#toProxy.end();
    this.onclose?.();
  }
}

/** The two pipes of an in-process stdio proxy, and what it wrote as parsed lines. */
export interface StdioPipes {
  stdin: PassThrough;
  stdout: PassThrough;
  /** Every line the proxy wrote to stdout so far, parsed. */
  lines(): unknown[];
  /** Waits until at least `count` lines were written; returns them all. */
  waitForLines(count: number, timeoutMs?: number): Promise<unknown[]>;
}

/** Two PassThrough streams for the proxy, with a reader of its stdout lines. */
export function stdioPipes(): StdioPipes {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const parsed: unknown[] = [];
  let pending = '';
  const waiters: (() => void)[] = [];
  stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    for (let index = pending.indexOf('\n'); index !== -1; index = pending.indexOf('\n')) {
      const line = pending.slice(0, index);
      pending = pending.slice(index + 1);
      if (line.trim() !== '') parsed.push(JSON.parse(line));
    }
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    stdin,
    stdout,
    lines: () => [...parsed],
    async waitForLines(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (parsed.length < count) {
        if (Date.now() > deadline)
          throw new Error(`waited for ${count} lines, got ${JSON.stringify(parsed)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return [...parsed];
    },
  };
}
