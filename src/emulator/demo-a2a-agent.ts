import {randomUUID} from 'node:crypto';
import {createServer} from 'node:http';
import type {IncomingMessage, Server, ServerResponse} from 'node:http';
import {createRequire} from 'node:module';
import type {AddressInfo} from 'node:net';
import type {AgentCard, Message} from '@a2a-js/sdk';
import type {AgentExecutor} from '@a2a-js/sdk/server';
import {listen} from '../util/node-http.js';
import {googleIdTokenUserBuilder} from '../verify/google-id-token-user-builder.js';
import type {GoogleIdTokenUserBuilder} from '../verify/google-id-token-user-builder.js';
import type {VerifyGoogleIdTokenOptions} from '../verify/verify-options.js';

/** Options of {@link startDemoA2aAgent}. */
export interface DemoA2aAgentOptions {
  /** TCP port on 127.0.0.1. Default is 0 (any free port). */
  port?: number;
  /**
   * The URL callers use: the agent card's endpoints are below it, and with `authentication`
   * it is the audience tokens must carry. Behind a Cloud Run gateway that is the gateway's
   * URL, known only once the gateway runs: set it then with
   * {@link DemoA2aAgent.setPublicUrl}. Default is the agent's own origin.
   */
  publicUrl?: string;
  /**
   * How callers are checked: the options of `googleIdTokenUserBuilder` for ID tokens (without
   * `audience`, which is the public URL), e.g. `{jwksUrl: emulator.jwksUrl, front: 'cloud-run'}`
   * behind the emulated Cloud Run front. Default is no check: every caller is `anonymous`.
   */
  authentication?: Omit<VerifyGoogleIdTokenOptions, 'audience'> & {front?: 'none' | 'cloud-run'};
}

/** Live counters of a {@link DemoA2aAgent}. */
export interface DemoA2aAgentStats {
  /** Messages the agent executor handled (refused callers never get here). */
  readonly messages: number;
  /** The `userName` of the last caller the executor saw (`anonymous` without authentication). */
  readonly lastCaller: string | undefined;
}

/** A running demo A2A agent (see {@link startDemoA2aAgent}). */
export interface DemoA2aAgent {
  /** `http://127.0.0.1:PORT` (the `upstream` to give a Cloud Run gateway). */
  readonly origin: string;
  /** The URL callers use (see {@link DemoA2aAgentOptions.publicUrl}). */
  readonly publicUrl: string;
  /** Live counters; read them at any time. */
  readonly stats: DemoA2aAgentStats;
  /**
   * Sets the URL callers use (the card's endpoints; the audience with `authentication`), e.g.
   * the gateway's URL once it runs. An origin without a path.
   */
  setPublicUrl(url: string): void;
  /** Closes the server and its open sockets. */
  close(): Promise<void>;
}

/** What the demo agent needs of express (loaded at start, so the entry does not need it). */
type ExpressApp = ((req: IncomingMessage, res: ServerResponse) => void) & {
  use(...handlers: unknown[]): unknown;
};

/**
 * Starts a real `@a2a-js/sdk` agent on 127.0.0.1 (JSON-RPC at `/jsonrpc`, HTTP+JSON at
 * `/rest`, its card at `/.well-known/agent-card.json`), to stand behind a Cloud Run gateway in
 * tests and demos. Its one skill answers `<caller> said: <text>`, where the caller is the
 * `userName` that `googleIdTokenUserBuilder` verified (with `authentication`), so a client
 * sees which identity arrived. Needs the optional peer `@a2a-js/sdk` and express (which the
 * MCP SDK brings).
 *
 * @example
 * const agent = await startDemoA2aAgent({authentication: {jwksUrl: emu.jwksUrl, front: 'cloud-run'}});
 * const front = await startCloudRunGateway({upstream: agent.origin, jwksUrl: emu.jwksUrl});
 * agent.setPublicUrl(front.url);
 * // A2A clients use front.url
 */
export async function startDemoA2aAgent(options: DemoA2aAgentOptions = {}): Promise<DemoA2aAgent> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError('options.port must be an integer from 0 to 65535');
  }
  let publicUrl = options.publicUrl === undefined ? '' : checkPublicUrl(options.publicUrl);
  const authOptions = options.authentication;
  if (authOptions !== undefined && (authOptions === null || typeof authOptions !== 'object')) {
    throw new TypeError('options.authentication must be the options of googleIdTokenUserBuilder');
  }
  const {express, server: a2aServer, serverExpress} = await loadA2aServer();

  let authentication: GoogleIdTokenUserBuilder | undefined;
  const counts = {messages: 0, lastCaller: undefined as string | undefined};

  // One card object: the SDK's request handler keeps it, and setPublicUrl updates it.
  const card: AgentCard = {
    name: 'mcp-google-auth demo agent',
    description: 'Answers who called it and what they said.',
    protocolVersion: '0.3.0',
    version: '1.0.0',
    url: '',
    preferredTransport: 'JSONRPC',
    capabilities: {streaming: true, pushNotifications: false},
    defaultInputModes: ['text'],
    defaultOutputModes: ['text'],
    skills: [
      {
        id: 'whoami-echo',
        name: 'whoami echo',
        description: "Answers '<caller> said: <text>', the caller being the verified identity.",
        tags: ['demo'],
      },
    ],
  };
  const setEndpoints = (): void => {
    card.url = `${publicUrl}/jsonrpc`;
    card.additionalInterfaces = [
      {url: `${publicUrl}/jsonrpc`, transport: 'JSONRPC'},
      {url: `${publicUrl}/rest`, transport: 'HTTP+JSON'},
    ];
    authentication =
      authOptions === undefined
        ? undefined
        : googleIdTokenUserBuilder({...authOptions, audience: publicUrl});
  };

  const executor: AgentExecutor = {
    async execute(requestContext, eventBus) {
      const user = requestContext.context?.user;
      const caller = user?.isAuthenticated ? user.userName : 'anonymous';
      counts.messages++;
      counts.lastCaller = caller;
      const text = requestContext.userMessage.parts
        .map((part) => (part.kind === 'text' ? part.text : `[${part.kind}]`))
        .join(' ');
      const reply: Message = {
        kind: 'message',
        messageId: randomUUID(),
        role: 'agent',
        contextId: requestContext.contextId,
        parts: [{kind: 'text', text: `${caller} said: ${text}`}],
      };
      eventBus.publish(reply);
      eventBus.finished();
    },
    async cancelTask() {
      // Replies are immediate messages; there is never a running task to cancel.
    },
  };

  const requestHandler = new a2aServer.DefaultRequestHandler(
    card,
    new a2aServer.InMemoryTaskStore(),
    executor,
  );
  const userBuilder = async (req: IncomingMessage) =>
    authentication ? authentication(req) : new a2aServer.UnauthenticatedUser();
  const app = express();
  app.use((req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): unknown =>
    authentication ? authentication.guard(req, res, next) : next(),
  );
  app.use(
    '/.well-known/agent-card.json',
    serverExpress.agentCardHandler({agentCardProvider: requestHandler}),
  );
  app.use('/jsonrpc', serverExpress.jsonRpcHandler({requestHandler, userBuilder}));
  app.use('/rest', serverExpress.restHandler({requestHandler, userBuilder}));

  const httpServer: Server = createServer(app);
  await listen(httpServer, port, '127.0.0.1');
  const origin = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  if (publicUrl === '') publicUrl = origin;
  try {
    setEndpoints();
  } catch (error) {
    httpServer.close();
    throw error;
  }

  return {
    origin,
    get publicUrl() {
      return publicUrl;
    },
    stats: {
      get messages() {
        return counts.messages;
      },
      get lastCaller() {
        return counts.lastCaller;
      },
    },
    setPublicUrl(url: string) {
      publicUrl = checkPublicUrl(url);
      setEndpoints();
    },
    close() {
      return new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
    },
  };
}

function checkPublicUrl(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (
    !parsed ||
    (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
    parsed.href !== `${parsed.origin}/`
  ) {
    throw new TypeError(
      `publicUrl must be an http(s) origin without a path, e.g. http://127.0.0.1:8086, got ${JSON.stringify(url)}`,
    );
  }
  return parsed.origin;
}

async function loadA2aServer() {
  try {
    const [server, serverExpress] = await Promise.all([
      import('@a2a-js/sdk/server'),
      import('@a2a-js/sdk/server/express'),
    ]);
    const express = createRequire(import.meta.url)('express') as () => ExpressApp;
    return {express, server, serverExpress};
  } catch (error) {
    throw new Error(
      'The demo A2A agent needs @a2a-js/sdk and express: npm install @a2a-js/sdk express',
      {cause: error},
    );
  }
}
