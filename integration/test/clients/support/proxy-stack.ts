/**
 * What the real-client suites share, built from the package's public entries and its built
 * command (as a user runs it): the Google emulator, the demo MCP server behind the emulated
 * Cloud Run front, a service-account key file, and `mcp-google-auth proxy` as a child
 * process (HTTP mode) or as the command line a client starts (stdio mode).
 */
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {
  startCloudRunGateway,
  startDemoMcpServer,
  startGoogleEmulator,
} from 'mcp-google-auth/emulator';
import type {CloudRunGateway, DemoMcpServer, GoogleEmulator} from 'mcp-google-auth/emulator';

const require = createRequire(import.meta.url);

/** The built command of the installed package: `node <CLI> proxy ...`. */
export const CLI = join(
  dirname(require.resolve('mcp-google-auth/package.json')),
  'dist/cli/main.js',
);

/** A bin script of an installed client package, by package and path. */
export function clientBin(pkg: string, path: string): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), path);
}

/** The stack behind the proxy. */
export interface ClientStack {
  emu: GoogleEmulator;
  demo: DemoMcpServer;
  front: CloudRunGateway;
  /** `${front.url}/mcp`. */
  mcpUrl: string;
  /** The service account the proxy runs as. */
  email: string;
  /** Its key file (passed to the proxy with --key-file, as the README's client configs do). */
  keyFile: string;
  /** The environment every child gets: PATH, an empty HOME, the emulator's routing. */
  env: Record<string, string>;
  /** A temp directory of this stack (client config files, client state). */
  dir: string;
  close(): Promise<void>;
}

/** Starts emulator, demo server and front. */
export async function startClientStack(): Promise<ClientStack> {
  const emu = await startGoogleEmulator();
  const demo = await startDemoMcpServer();
  const front = await startCloudRunGateway({upstream: demo.origin, jwksUrl: emu.jwksUrl});
  const key = await emu.createServiceAccountKey(
    'real-clients@emulator-project.iam.gserviceaccount.com',
  );
  const dir = mkdtempSync(join(tmpdir(), 'mcp-google-auth-clients-'));
  return {
    emu,
    demo,
    front,
    mcpUrl: `${front.url}/mcp`,
    email: key.email,
    keyFile: key.path,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      NO_COLOR: '1',
      // mcp-remote keeps its OAuth state here; nothing of the machine's is read.
      MCP_REMOTE_CONFIG_DIR: join(dir, 'mcp-remote'),
      METADATA_SERVER_DETECTION: 'none',
      ...emu.env(),
    },
    dir,
    async close() {
      await front.close();
      await demo.close();
      await emu.close();
    },
  };
}

/** `mcp-google-auth proxy <url> --port 0 --key-file KEY` as a child; resolves with its URL. */
export async function startHttpProxyChild(
  stack: ClientStack,
): Promise<{url: string; child: ChildProcess; stderr: () => string; close(): Promise<void>}> {
  const child = spawn(
    process.execPath,
    [CLI, 'proxy', stack.mcpUrl, '--port', '0', '--key-file', stack.keyFile],
    {env: stack.env, stdio: ['ignore', 'pipe', 'pipe']},
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^Proxy ready: (http:\/\/\S+) as /m.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`proxy exited (${String(code)}): ${stderr}`)));
  });
  return {
    url,
    child,
    stderr: () => stderr,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The stdio proxy as a desktop client's config names it (Claude Desktop's `mcpServers` shape). */
export function stdioServerConfig(stack: ClientStack): {
  command: string;
  args: string[];
  env: Record<string, string>;
} {
  return {
    command: process.execPath,
    args: [CLI, 'proxy', stack.mcpUrl, '--key-file', stack.keyFile],
    env: stack.env,
  };
}

/** Writes an `mcpServers` config file with one server named `demo`; returns its path. */
export function writeServersConfig(stack: ClientStack, server: object): string {
  const path = join(stack.dir, `servers-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({mcpServers: {demo: server}}, null, 2));
  return path;
}

/** What a finished client process left. */
export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client to completion (killed after `timeoutMs`). */
export function run(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): {done: Promise<Finished>; child: ChildProcess} {
  const child = spawn(process.execPath, args, {env, stdio: ['ignore', 'pipe', 'pipe']});
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Finished>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({code, stdout, stderr});
    });
  });
  return {done, child};
}
