/**
 * `mcp-google-auth proxy <url>`: an MCP server on stdio (or a local Streamable HTTP port) that
 * forwards every message to a remote MCP server behind Google's front, with a fresh Google
 * token on every request. What desktop MCP clients run:
 * `{"command": "npx", "args": ["mcp-google-auth", "proxy", "https://svc-abc.a.run.app/mcp"]}`.
 */
import {randomBytes} from 'node:crypto';
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
import {describeCredentialSource} from '../proxy/credential-source.js';
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_SESSIONS,
  MAX_MAX_SESSIONS,
  MIN_PROXY_TOKEN_LENGTH,
  startHttpProxy,
  type HttpProxy,
} from '../proxy/http-proxy.js';
import {DEFAULT_PROXY_HOST} from '../proxy/loopback.js';
import {nodeHttpFetch} from '../proxy/node-http-fetch.js';
import {normalizeHost} from '../proxy/request-guard.js';
import {startStdioProxy} from '../proxy/stdio-proxy.js';
import {MAX_TIMER_MS} from '../../util/idle-timer.js';

/** Options of the `proxy` subcommand, as commander parses them. */
export interface ProxyCommandOptions extends CommonOptions {
  /** `--port N`: serve a local Streamable HTTP endpoint on this port instead of stdio (0 = any free port). */
  port?: string;
  /** `--host ADDRESS`: where `--port` listens. Default is 127.0.0.1; anything else is reachable by others. */
  host?: string;
  /** `--idle-timeout SECONDS`: close a local HTTP session idle this long (0 = never). Default is 1800. */
  idleTimeout?: string;
  /** `--allowed-host NAME` (repeatable): more names a request's Host may carry. Default is loopback names and the bound address only. */
  allowedHost?: string[];
  /** `--require-token [TOKEN]`: every request must carry `Authorization: Bearer TOKEN`; without a value one is generated and printed once. */
  requireToken?: string | true;
  /** `--max-sessions N`: most HTTP sessions at once (503 past it). Default is 100. */
  maxSessions?: string;
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
    )
    .option(
      '--allowed-host <name>',
      'with --port: one more host name or address a request may name in its Host header, besides loopback names and the --host address (repeatable; everything else is refused, against DNS rebinding)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--require-token [token]',
      `with --port: every request must carry "Authorization: Bearer TOKEN" (for machines with other users); without a value a token is generated and printed once (a value on the command line is visible to other local users; at least ${MIN_PROXY_TOKEN_LENGTH} characters)`,
    )
    .option(
      '--max-sessions <n>',
      `with --port: most sessions open at once; a new one past it gets 503 with Retry-After (default ${DEFAULT_MAX_SESSIONS})`,
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

/** Parses `--max-sessions`: an integer from 1 to 100000. Throws {@link CliError} (exit 2). */
export function parseMaxSessions(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_MAX_SESSIONS) {
    throw new CliError(
      `--max-sessions must be an integer from 1 to ${MAX_MAX_SESSIONS}, got ${JSON.stringify(value)}.`,
      ExitCode.USAGE,
    );
  }
  return n;
}

/** Parses the `--allowed-host` values. Throws {@link CliError} (exit 2) naming a bad one. */
export function parseAllowedHosts(values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  return values.map((value) => {
    try {
      return normalizeHost(value);
    } catch {
      throw new CliError(
        `--allowed-host must be a host name or address (without scheme or path), got ${JSON.stringify(value)}.`,
        ExitCode.USAGE,
      );
    }
  });
}

/**
 * `--require-token`: the given token (checked), or a generated one when the option has no
 * value. Throws {@link CliError} (exit 2) for a short token.
 */
export function parseRequireToken(
  value: string | true | undefined,
): {token: string; generated: boolean} | undefined {
  if (value === undefined) return undefined;
  if (value === true) return {token: randomBytes(24).toString('base64url'), generated: true};
  if (value.length < MIN_PROXY_TOKEN_LENGTH || /\s/.test(value)) {
    throw new CliError(
      `--require-token must be at least ${MIN_PROXY_TOKEN_LENGTH} characters without spaces.`,
      ExitCode.USAGE,
      {hint: 'Leave the value out to have one generated (and printed once).'},
    );
  }
  return {token: value, generated: false};
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
  const maxSessions = parseMaxSessions(opts.maxSessions);
  const allowedHosts = parseAllowedHosts(opts.allowedHost);
  const requireToken = parseRequireToken(opts.requireToken);
  const httpOnly: [string, unknown][] = [
    ['--idle-timeout', idleTimeoutMs],
    ['--max-sessions', maxSessions],
    ['--allowed-host', allowedHosts],
    ['--require-token', requireToken],
  ];
  for (const [flag, value] of httpOnly) {
    if (value !== undefined && port === undefined) {
      throw new CliError(`${flag} applies only with --port.`, ExitCode.USAGE, {
        hint:
          flag === '--idle-timeout'
            ? 'A stdio session lasts as long as the client process; add --port N to serve HTTP.'
            : 'Over stdio only the client that started the proxy talks to it; add --port N to serve HTTP.',
      });
    }
  }
  const auth = authFromOptions(opts, url);
  const base = nodeHttpFetch();
  const fetch = googleAuthFetch({
    authCredential: auth.authCredential,
    header: auth.header,
    targetUrl: target,
    onWarning: (message) => log.warn(message),
    fetch: log.verbose ? loggedFetch(log, auth, base) : base,
    ...(auth.audience !== undefined ? {audience: auth.audience} : {}),
  });
  const principal = await checkCredential(auth, target, log);
  const identity = `as ${principal ?? 'an unknown principal (no token yet)'} (${describeCredentialSource(
    {
      keyFile: opts.keyFile,
      keyFileType: auth.keyFileType,
      impersonate: opts.impersonate,
      gcloud: opts.gcloud,
    },
    process.env,
  )})`;

  if (port === undefined) {
    const proxy = await startStdioProxy({remoteUrl: target, fetch, logger: log});
    // stdout is the MCP channel: the start-up line goes to stderr.
    log.info(`Proxy ready: ${target.href} ${identity}`);
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
        ...(maxSessions !== undefined ? {maxSessions} : {}),
        ...(allowedHosts !== undefined ? {allowedHosts} : {}),
        ...(requireToken !== undefined ? {requireToken: requireToken.token} : {}),
      });
    } catch (error) {
      throw listenError(error, host, port);
    }
    const shownToken = requireToken?.generated ? requireToken.token : undefined;
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({
          url: proxy.url,
          remote: target.href,
          principal: principal ?? null,
          credentialSource: describeCredentialSource(
            {
              keyFile: opts.keyFile,
              keyFileType: auth.keyFileType,
              impersonate: opts.impersonate,
              gcloud: opts.gcloud,
            },
            process.env,
          ),
          ...(shownToken !== undefined ? {token: shownToken} : {}),
        })}\n`,
      );
    } else {
      process.stdout.write(`Proxy ready: ${proxy.url} ${identity}\n`);
      if (shownToken !== undefined) {
        // Generated here, shown this once: the user needs it to configure the client.
        process.stdout.write(
          `Proxy token (clients send "Authorization: Bearer <token>"; shown only now): ${shownToken}\n`,
        );
      }
    }
    let release = (): void => undefined;
    await new Promise<void>((resolve) => {
      release = onShutdownSignal(log, async () => resolve());
    });
    await proxy.close();
    release();
  }
  base.close();
  log.debug('Proxy closed.');
  // Nothing should be left running; should a lingering socket or timer hold the process, end it.
  setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
}

/**
 * Mints a first token before serving, so that a credential that can never work (exit 2) or is
 * refused by Google (exit 3) stops the command with its explanation instead of failing every
 * request. A network failure only warns: the proxy starts and tries again per request.
 * Returns the principal the token names (its `email`), for the start-up line.
 */
async function checkCredential(
  auth: CommandAuth,
  target: URL,
  log: Logger,
): Promise<string | undefined> {
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
    return typeof claims?.email === 'string' ? claims.email : undefined;
  } catch (error) {
    progress.done(false, `Could not get ${what}`);
    const report = describeError(error);
    if (report.exitCode === ExitCode.REMOTE) {
      log.warn(`${report.message} The proxy starts anyway and tries again on every request.`);
      if (report.hint) log.info(report.hint);
      return undefined;
    }
    throw error;
  }
}

/** A fetch that logs each request to the remote (method, URL, status, token fingerprint). */
function loggedFetch(log: Logger, auth: CommandAuth, base: FetchLike): FetchLike {
  return async (input, init) => {
    const response = await base(input, init);
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
