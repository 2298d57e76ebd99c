/**
 * The four clients a soak drives, as their users would run them, each on its own path to an
 * ID token for the front:
 * - `McpToolset`, Application Default Credentials on the metadata server;
 * - the MCP SDK client with `googleAuthFetch`, a key impersonating another service account
 *   (the token endpoint for the caller's access token, then IAM Credentials);
 * - the stdio proxy, the built CLI with `--key-file` (the token endpoint);
 * - the HTTP proxy, the built CLI with `--port 0` and an external_account file (STS, then
 *   IAM Credentials).
 * Each tool call is `add {a, b}`; an answer other than `a + b` is a failure like an error.
 */
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {parseAuthCredential} from '../src/credentials/parse.js';
import {googleAuthFetch} from '../src/http/google-auth-fetch.js';
import {McpToolset} from '../src/mcp/mcp-toolset.js';
import type {McpTool} from '../src/mcp/mcp-tool.js';
import type {FetchLike} from '../src/tokens/google-routing.js';
import {TokenCache} from '../src/tokens/token-cache.js';
import type {SoakStack} from './stack.js';

/** The built CLI (`npm run build`). */
export const CLI_PATH = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** One client under soak. */
export interface SoakClient {
  /** What it is and how it gets its token. */
  readonly name: string;
  /** One tool call: resolves when `add` answered `a + b`, rejects otherwise. */
  call(a: number): Promise<void>;
  /** MCP sessions it opened, when it can tell (the proxies keep theirs inside their process). */
  sessions(): number | undefined;
  /** Calls that its driver had to run again on a new session (the raw SDK client only). */
  readonly reconnects: number;
  /** The last lines its process wrote to stderr (the proxies), for failure reports. */
  stderr(): string[];
  close(): Promise<void>;
}

interface CallResult {
  content?: unknown;
  isError?: boolean;
}

function check(a: number, result: CallResult): void {
  const [first] = (result.content ?? []) as Array<{text?: string}>;
  if (result.isError || first?.text !== String(a + 1)) {
    throw new Error(
      `add answered ${JSON.stringify(first?.text ?? null)}${result.isError ? ' (isError)' : ''} instead of ${a + 1}`,
    );
  }
}

/** `McpToolset` on ADC: the emulator's metadata server mints its ID tokens. */
export async function toolsetClient(stack: SoakStack): Promise<SoakClient> {
  const toolset = new McpToolset({
    connectionParams: {type: 'StreamableHTTPConnectionParams', url: stack.mcpUrl},
    authCredential: {
      authType: 'serviceAccount',
      serviceAccount: {useDefaultCredential: true, useIdToken: true},
    },
    cache: new TokenCache(),
  });
  const add = (await toolset.getTools()).find((tool) => tool.name === 'add') as McpTool;
  return {
    name: 'McpToolset (ADC: metadata server)',
    call: async (a) => check(a, await add.runAsync({a, b: 1})),
    sessions: () => toolset.sessionsOpened,
    reconnects: 0,
    stderr: () => [],
    close: () => toolset.close(),
  };
}

/**
 * The MCP SDK client with `googleAuthFetch`, as an application uses it: when the server has
 * lost the session (404), the application connects again and runs the call once more.
 */
export async function sdkClient(stack: SoakStack): Promise<SoakClient> {
  const authCredential = parseAuthCredential(
    {
      authType: 'serviceAccount',
      serviceAccount: {
        serviceAccountCredential: stack.key.json,
        impersonateServiceAccount: stack.impersonationTarget,
        useIdToken: true,
      },
    },
    {requireAudience: false},
  );
  const fetch: FetchLike = googleAuthFetch({authCredential, cache: new TokenCache()});
  let opened = 0;
  let reconnects = 0;
  const connect = async (): Promise<Client> => {
    const client = new Client({name: 'soak-sdk', version: '1.0.0'});
    await client.connect(new StreamableHTTPClientTransport(new URL(stack.mcpUrl), {fetch}));
    opened++;
    return client;
  };
  let current = await connect();
  let reconnecting: Promise<Client> | undefined;
  const reconnect = (lost: Client): Promise<Client> => {
    if (current !== lost) return Promise.resolve(current);
    reconnecting ??= connect().then(
      (client) => {
        void lost.close().catch(() => undefined);
        current = client;
        reconnecting = undefined;
        return client;
      },
      (error: unknown) => {
        reconnecting = undefined;
        throw error;
      },
    );
    return reconnecting;
  };
  const run = async (client: Client, a: number) =>
    check(a, (await client.callTool({name: 'add', arguments: {a, b: 1}})) as CallResult);
  return {
    name: 'MCP SDK client + googleAuthFetch (key impersonating: token endpoint, IAM)',
    async call(a) {
      const client = current;
      try {
        await run(client, a);
      } catch (error) {
        if (!(error instanceof StreamableHTTPError) || error.code !== 404) throw error;
        reconnects++;
        await run(await reconnect(client), a);
      }
    },
    sessions: () => opened,
    get reconnects() {
      return reconnects;
    },
    stderr: () => [],
    close: async () => {
      const transport = current.transport as StreamableHTTPClientTransport | undefined;
      await transport?.terminateSession().catch(() => undefined);
      await current.close();
    },
  };
}

/** Keeps the last `max` lines of a stream. */
function tail(stream: NodeJS.ReadableStream | null | undefined, max = 20): () => string[] {
  const lines: string[] = [];
  if (stream) {
    createInterface({input: stream}).on('line', (line) => {
      lines.push(line);
      if (lines.length > max) lines.shift();
    });
  }
  return () => [...lines];
}

/** The stdio proxy of the built CLI, with `--key-file` (a service-account key). */
export async function stdioProxyClient(stack: SoakStack): Promise<SoakClient> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_PATH, 'proxy', stack.mcpUrl, '--key-file', stack.key.path],
    env: {...(process.env as Record<string, string>), ...stack.env},
    stderr: 'pipe',
  });
  const stderr = tail(transport.stderr as NodeJS.ReadableStream | null);
  const client = new Client({name: 'soak-stdio', version: '1.0.0'});
  await client.connect(transport);
  return {
    name: 'stdio proxy, built CLI (--key-file key: token endpoint)',
    call: async (a) =>
      check(a, (await client.callTool({name: 'add', arguments: {a, b: 1}})) as CallResult),
    sessions: () => undefined,
    reconnects: 0,
    stderr,
    close: () => client.close(),
  };
}

/** Waits for a child to exit, killing it after `ms`. */
function exited(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The HTTP proxy of the built CLI, `--port 0 --json`, with an external_account file (STS, IAM). */
export async function httpProxyClient(stack: SoakStack): Promise<SoakClient> {
  const child = spawn(
    process.execPath,
    [
      CLI_PATH,
      'proxy',
      stack.mcpUrl,
      '--port',
      '0',
      '--json',
      '--key-file',
      stack.externalAccountPath,
    ],
    {env: {...process.env, ...stack.env}, stdio: ['ignore', 'pipe', 'pipe']},
  );
  const stderr = tail(child.stderr);
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({input: child.stdout});
    lines.once('line', (line) => {
      try {
        resolve((JSON.parse(line) as {url: string}).url);
      } catch (error) {
        reject(error as Error);
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`the HTTP proxy exited (${code}): ${stderr().join(' | ')}`)),
    );
  });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({name: 'soak-http', version: '1.0.0'});
  await client.connect(transport);
  return {
    name: 'HTTP proxy, built CLI (--key-file external_account: STS, IAM)',
    call: async (a) =>
      check(a, (await client.callTool({name: 'add', arguments: {a, b: 1}})) as CallResult),
    sessions: () => undefined,
    reconnects: 0,
    stderr,
    async close() {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
      child.kill('SIGTERM');
      await exited(child, 5_000);
    },
  };
}
