/**
 * An @a2a-js/sdk express server (JSON-RPC at /jsonrpc, REST at /rest, the card at
 * /.well-known/agent-card.json) with a given user builder, whose executor records every
 * caller it sees. For tests that look at what the SDK does with a user builder.
 */
import {randomUUID} from 'node:crypto';
import {createServer} from 'node:http';
import type {IncomingMessage, ServerResponse} from 'node:http';
import {createRequire} from 'node:module';
import type {AddressInfo} from 'node:net';
import type {AgentCard} from '@a2a-js/sdk';
import {DefaultRequestHandler, InMemoryTaskStore} from '@a2a-js/sdk/server';
import type {AgentExecutor} from '@a2a-js/sdk/server';
import {agentCardHandler, jsonRpcHandler, restHandler} from '@a2a-js/sdk/server/express';

type Middleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;
type ExpressApp = ((req: IncomingMessage, res: ServerResponse) => void) & {
  use(...handlers: unknown[]): unknown;
};
const express = createRequire(import.meta.url)('express') as () => ExpressApp;

export interface SdkServer {
  url: string;
  /** The userName of every call that reached the executor. */
  executed: string[];
  close(): Promise<void>;
}

export async function startSdkServer(options: {
  // biome-ignore lint/suspicious/noExplicitAny: the SDK types the request as express's, which has no types here
  userBuilder: (req: any) => Promise<{isAuthenticated: boolean; userName: string}>;
  guard?: Middleware;
}): Promise<SdkServer> {
  const executed: string[] = [];
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const card: AgentCard = {
    name: 'test agent',
    description: 'records its callers',
    protocolVersion: '0.3.0',
    version: '1.0.0',
    url: `${url}/jsonrpc`,
    preferredTransport: 'JSONRPC',
    additionalInterfaces: [{url: `${url}/rest`, transport: 'HTTP+JSON'}],
    capabilities: {streaming: true},
    defaultInputModes: ['text'],
    defaultOutputModes: ['text'],
    skills: [],
  };
  const executor: AgentExecutor = {
    async execute(context, bus) {
      const user = context.context?.user;
      executed.push(user?.userName ?? '');
      bus.publish({
        kind: 'message',
        messageId: randomUUID(),
        role: 'agent',
        parts: [{kind: 'text', text: `hello ${user?.userName ?? ''}`}],
      });
      bus.finished();
    },
    async cancelTask() {},
  };
  const requestHandler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor);
  const app = express();
  if (options.guard) app.use(options.guard);
  app.use('/.well-known/agent-card.json', agentCardHandler({agentCardProvider: requestHandler}));
  app.use('/jsonrpc', jsonRpcHandler({requestHandler, userBuilder: options.userBuilder}));
  app.use('/rest', restHandler({requestHandler, userBuilder: options.userBuilder}));
  server.on('request', app);
  return {
    url,
    executed,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A JSON-RPC `message/send` body. */
export function jsonRpcSend(text: string): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'message/send',
    params: {
      message: {
        kind: 'message',
        messageId: randomUUID(),
        role: 'user',
        parts: [{kind: 'text', text}],
      },
    },
  });
}

/** A REST `message:send` body. */
export function restSend(text: string): string {
  return JSON.stringify({
    message: {messageId: randomUUID(), role: 'ROLE_USER', content: [{text}]},
  });
}
