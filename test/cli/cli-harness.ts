/**
 * Runs the BUILT command (`node dist/cli/main.js`) as a child process, with a clean
 * environment: no GOOGLE_* variables from the machine, HOME and CLOUDSDK_CONFIG in an empty
 * temp dir (so ADC never finds a real gcloud credential), no metadata-server detection,
 * NO_COLOR set.
 */
import {execFileSync, spawn, type ChildProcess} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, statSync} from 'node:fs';
import {createServer, type AddressInfo} from 'node:net';
import {networkInterfaces, tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The built bin. */
export const CLI = join(ROOT, 'dist/cli/main.js');

/** What a finished child process left. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  return existsSync(CLI) && statSync(CLI).mtimeMs >= newestMtime(join(ROOT, 'src'));
}

/**
 * Builds dist/ when it is missing or older than src/ (the lead's `npm test` builds first, so
 * this is only for running test/cli alone). Test files run in parallel workers, so a lock
 * directory makes one of them build while the others wait.
 */
export function ensureBuilt(): void {
  if (isFresh()) return;
  const lock = join(ROOT, 'node_modules/.cache/mcp-google-auth-cli-build.lock');
  mkdirSync(dirname(lock), {recursive: true});
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held too long; remove it`);
      execFileSync(process.execPath, ['-e', 'setTimeout(() => {}, 200)']);
    }
  }
  try {
    if (isFresh()) return;
    try {
      execFileSync(
        process.execPath,
        [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
        {
          cwd: ROOT,
          stdio: 'pipe',
        },
      );
    } catch {
      // Type errors elsewhere in the tree still emit; the check below decides.
    }
    if (!existsSync(CLI))
      throw new Error('dist/cli/main.js is missing after the build; run npm run build');
  } finally {
    rmdirSync(lock);
  }
}

/** A port on 127.0.0.1 that nothing listens on (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const {port} = server.address() as AddressInfo;
  await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
  return port;
}

/**
 * A documentation address (RFC 5737) that no interface of this machine has: binding it fails
 * with EADDRNOTAVAIL, so a test can take the "beyond loopback" path of the proxy without
 * anything listening beyond loopback.
 */
export function unassignedAddress(): string {
  const local = new Set(
    Object.values(networkInterfaces())
      .flat()
      .map((info) => info?.address),
  );
  const free = ['203.0.113.7', '198.51.100.7', '192.0.2.7'].find((a) => !local.has(a));
  if (free === undefined) throw new Error('every documentation address is assigned here');
  return free;
}

/** Hook timeout for a `beforeAll` that may have to build dist/ first, in milliseconds. */
export const BUILD_TIMEOUT_MS = 180_000;

let home: string | undefined;

/** The base environment of every child: PATH only, an empty HOME, no colour. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  home ??= mkdtempSync(join(tmpdir(), 'mcp-google-auth-cli-home-'));
  return {
    PATH: process.env.PATH ?? '',
    HOME: home,
    CLOUDSDK_CONFIG: join(home, 'gcloud'),
    NO_COLOR: '1',
    // Never probe a real metadata server (169.254.169.254); emu.env() turns the emulator's on.
    METADATA_SERVER_DETECTION: 'none',
    ...extra,
  };
}

/** `stderr` without the one-line notice every child run against the emulator prints. */
export function stderrBeyondEmulatorNotice(stderr: string): string {
  return stderr.replace(/^warning: Google auth endpoints are routed to the emulator .*\n/m, '');
}

/** Spawns the command. */
export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the command to completion (killed after `timeoutMs`, default 15000). */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawnCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({code, signal, stdout, stderr});
    });
  });
}
