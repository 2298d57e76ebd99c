/**
 * `mcp-google-auth proxy <url>`: an MCP server on stdio (or a local Streamable HTTP port) that
 * forwards every message to a remote MCP server behind Google's front, with a fresh Google
 * token on every request. What desktop MCP clients run:
 * `{"command": "npx", "args": ["mcp-google-auth", "proxy", "https://svc-abc.a.run.app/mcp"]}`.
 */
import type {Command} from 'commander';
import {googleAuthFetch} from '../../http/google-auth-fetch.js';
import {googleAuthProvider} from '../../http/google-auth-provider.js';
import {tokenFingerprint} from '../../tokens/fingerprint.js';
import type {FetchLike} from '../../tokens/google-routing.js';
import {decodeJwtPayload} from '../../tokens/jwt-claims.js';
import {
  CliError,
  ExitCode,
  addCommonOptions,
  authFromOptions,
  createLogger,
  describeError,
  parseTargetUrl,
  runAction,
  type CommandAuth,
  type CommonOptions,
  type Logger,
} from '../common.js';
import {humanExpiry} from '../format.js';
import {DEFAULT_IDLE_TIMEOUT_MS, startHttpProxy, type HttpProxy} from '../proxy/http-proxy.js';
import {MAX_TIMER_MS} from '../proxy/idle-timer.js';
import {DEFAULT_PROXY_HOST} from '../proxy/loopback.js';
import {startStdioProxy} from '../proxy/stdio-proxy.js';

/** Options of the `proxy` subcommand, as commander parses them. */
export interface ProxyCommandOptions extends CommonOptions {
  /** `--port N`: serve a local Streamable HTTP endpoint on this port instead of stdio (0 = any free port). */
  port?: string;
  /** `--host ADDRESS`: where `--port` listens. Default is 127.0.0.1; anything else is reachable by others. */
  host?: string;
  /** `--idle-timeout SECONDS`: close a local HTTP session idle this long (0 = never). Default is 1800. */
  idleTimeout?: string;
}

/** How long the process may linger after the proxy closed before it is ended, in milliseconds. */
const EXIT_GRACE_MS = 2_000;

/**
 * Registers `proxy` on the program.
 *
 * @example
 * registerProxyCommand(program);
 * // mcp-google-auth proxy https://svc-abc.a.run.app/mcp
 * // mcp-google-auth proxy https://svc-abc.a.run.app/mcp --port 3000
 */
export function registerProxyCommand(program: Command): void {
  const cmd = program
    .command('proxy')
    .description(
      'Serve MCP on stdio (or, with --port, at http://127.0.0.1:PORT/mcp) and forward every message to a remote MCP server with fresh Google ID tokens',
    )
    .argument('<url>', 'the remote MCP endpoint, e.g. https://svc-abc.a.run.app/mcp')
    .option(
      '--port <n>',
      'serve a local Streamable HTTP endpoint on this port instead of stdio (0 = any free port)',
    )
    .option(
      '--host <address>',
      `address --port listens on (default ${DEFAULT_PROXY_HOST}); anything beyond loopback lets whoever reaches it act as your Google identity`,
    )
    .option(
      '--idle-timeout <seconds>',
      `with --port: close a local session (and end its remote session) after this many seconds without a request or an open stream; the client re-initializes if it comes back (default ${DEFAULT_IDLE_TIMEOUT_MS / 1000}, 0 = never)`,
    );
  addCommonOptions(cmd).action(runAction(proxyAction));
}

/** Parses `--port`: an integer from 0 (any free port) to 65535. Throws {@link CliError} (exit 2). */
export function parseProxyPort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (value.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(
      `--port must be an integer from 0 to 65535, got ${JSON.stringify(value)}.`,
      ExitCode.USAGE,
    );
  }
  return port;
}

/** Largest `--idle-timeout`, in seconds (the longest Node.js timer, about 24.8 days). */
const MAX_IDLE_TIMEOUT_S = Math.floor(MAX_TIMER_MS / 1000);

/**
 * Parses `--idle-timeout`: a whole number of seconds from 0 (never) to 2147483, returned in
 * milliseconds. Throws {@link CliError} (exit 2).
 */
export function parseIdleTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (
    value.trim() === '' ||
    !Number.isInteger(seconds) ||
    seconds < 0 ||
    seconds > MAX_IDLE_TIMEOUT_S
  ) {
    throw new CliError(
      `--idle-timeout must be a whole number of seconds from 0 (never) to ${MAX_IDLE_TIMEOUT_S}, got ${JSON.stringify(value)}.`,
      ExitCode.USAGE,
    );
  }
  return seconds * 1000;
}

async function proxyAction(url: string, opts: ProxyCommandOptions): Promise<void> {
  const log = createLogger({verbose: opts.verbose === true});
  const target = parseTargetUrl(url);
  const port = parseProxyPort(opts.port);
  const idleTimeoutMs = parseIdleTimeout(opts.idleTimeout);
  if (opts.host !== undefined && port === undefined) {
    throw new CliError('--host applies only with --port.', ExitCode.USAGE, {
      hint: 'Add --port N to serve HTTP, or drop --host to serve stdio.',
    });
  }
  if (idleTimeoutMs !== undefined && port === undefined) {
    throw new CliError('--idle-timeout applies only with --port.', ExitCode.USAGE, {
      hint: 'A stdio session lasts as long as the client process; add --port N to serve HTTP.',
    });
  }
  const auth = authFromOptions(opts, url);
  const fetch = googleAuthFetch({
    authCredential: auth.authCredential,
    header: auth.header,
    targetUrl: target,
    onWarning: (message) => log.warn(message),
    ...(auth.audience !== undefined ? {audience: auth.audience} : {}),
    ...(log.verbose ? {fetch: loggedFetch(log, auth)} : {}),
  });
  await checkCredential(auth, target, log);

  if (port === undefined) {
    const proxy = await startStdioProxy({remoteUrl: target, fetch, logger: log});
    log.info(`Proxy ready: stdio -> ${target.href}`);
    const release = onShutdownSignal(log, () => proxy.close());
    await proxy.closed;
    release();
  } else {
    const host = opts.host ?? DEFAULT_PROXY_HOST;
    let proxy: HttpProxy;
    try {
      proxy = await startHttpProxy({
        remoteUrl: target,
        fetch,
        port,
        host,
        allowNonLoopback: opts.host !== undefined,
        logger: log,
        ...(idleTimeoutMs !== undefined ? {idleTimeoutMs} : {}),
      });
    } catch (error) {
      throw listenError(error, host, port);
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({url: proxy.url, remote: target.href})}\n`);
    }
    let release = (): void => undefined;
    await new Promise<void>((resolve) => {
      release = onShutdownSignal(log, async () => resolve());
    });
    await proxy.close();
    release();
  }
  log.debug('Proxy closed.');
  // Nothing should be left running; should a lingering socket or timer hold the process, end it.
  setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
}

/**
 * Mints a first token before serving, so that a credential that can never work (exit 2) or is
 * refused by Google (exit 3) stops the command with its explanation instead of failing every
 * request. A network failure only warns: the proxy starts and tries again per request.
 */
async function checkCredential(auth: CommandAuth, target: URL, log: Logger): Promise<void> {
  const what = auth.audience !== undefined ? `an ID token for ${auth.audience}` : 'an access token';
  const progress = log.progress(`Getting ${what}`);
  try {
    const provider = googleAuthProvider({
      authCredential: auth.authCredential,
      targetUrl: target,
      onWarning: (message) => log.warn(message),
      ...(auth.audience !== undefined ? {audience: auth.audience} : {}),
    });
    const token = await provider.token();
    const claims = decodeJwtPayload(token);
    const who = typeof claims?.email === 'string' ? ` as ${claims.email}` : '';
    progress.done(true, `Got ${what}${who}`);
    if (log.verbose) {
      const exp =
        typeof claims?.exp === 'number' ? `, expires ${humanExpiry(claims.exp * 1000)}` : '';
      log.debug(`token ${tokenFingerprint(token)}${who}${exp}`);
    }
  } catch (error) {
    progress.done(false, `Could not get ${what}`);
    const report = describeError(error);
    if (report.exitCode === ExitCode.REMOTE) {
      log.warn(`${report.message} The proxy starts anyway and tries again on every request.`);
      if (report.hint) log.info(report.hint);
      return;
    }
    throw error;
  }
}

/** A fetch that logs each request to the remote (method, URL, status, token fingerprint). */
function loggedFetch(log: Logger, auth: CommandAuth): FetchLike {
  return async (input, init) => {
    const response = await fetch(input, init);
    const value = new Headers(init?.headers).get(auth.header);
    const sent = value
      ? ` with ${auth.header} ${tokenFingerprint(value.replace(/^Bearer\s+/i, ''))}`
      : '';
    const href = input instanceof Request ? input.url : String(input);
    log.debug(`${init?.method ?? 'GET'} ${href}${sent} -> ${response.status}`);
    return response;
  };
}

/**
 * Calls `stop` on the first SIGINT or SIGTERM; a second one ends the process at once.
 * Returns a function that removes the handlers.
 */
function onShutdownSignal(log: Logger, stop: () => Promise<void>): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    log.debug(`${signal}: closing the remote session.`);
    void stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as {code?: unknown}).code;
  if (code === 'EADDRINUSE') {
    return new CliError(`Port ${port} on ${host} is already in use.`, ExitCode.USAGE, {
      hint: 'Pick another --port, or --port 0 for any free port.',
      cause: error,
    });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES') {
    return new CliError(`Cannot listen on ${host}:${port} (${String(code)}).`, ExitCode.USAGE, {
      hint: 'Check --host and --port.',
      cause: error,
    });
  }
  return error;
}
