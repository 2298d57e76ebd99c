/**
 * What `mcp-google-auth emulator` does: runs the Google auth emulator, the demo MCP server
 * and the Cloud Run front on 127.0.0.1 until interrupted, and prints how to point tools at
 * them.
 */
import {CliError, ExitCode} from '../exit-codes.js';
import {createLogger} from '../logger.js';
import {startLocalStack, type LocalStack} from '../local-stack.js';

/** Options of the `emulator` subcommand. */
export interface EmulatorCommandOptions {
  /** `--port N`: the emulator's port; the front gets N+1 and the demo server N+2. Default: free ports. */
  port?: string;
  /** `--json`: one line of JSON with the URLs and environment. */
  json?: boolean;
  /** `--verbose`. */
  verbose?: boolean;
  /** `--a2a`: also run the demo A2A agent behind a front of its own (ports n+3 and n+4). */
  a2a?: boolean;
}

/** Parses `--port`: an integer from 1 to 65533 (three consecutive ports are used). */
export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65533) {
    throw new CliError(
      `--port must be an integer from 1 to 65533, got ${JSON.stringify(value)}.`,
      ExitCode.USAGE,
    );
  }
  return port;
}

/** The environment a shell needs to use the stack: the emulator's routing plus the key file. */
export function stackEnv(stack: LocalStack): Record<string, string> {
  return {...stack.emulator.env(), GOOGLE_APPLICATION_CREDENTIALS: stack.key.path};
}

/** Runs `emulator` with its parsed options. */
export async function emulatorAction(opts: EmulatorCommandOptions): Promise<void> {
  const log = createLogger({verbose: opts.verbose === true});
  const port = parsePort(opts.port);
  if (opts.a2a && port !== undefined && port > 65531) {
    throw new CliError(
      `--port must be at most 65531 with --a2a (five consecutive ports are used), got ${port}.`,
      ExitCode.USAGE,
    );
  }
  // Listen for the signals before anything is printed: whoever reads the output may
  // interrupt at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      ...(port === undefined ? {} : {port}),
      ...(opts.a2a ? {a2a: true} : {}),
    });
  } catch (error) {
    const code = (error as {code?: unknown}).code;
    if (code === 'EADDRINUSE') {
      throw new CliError(
        `Port ${String(port)} (or the next ${opts.a2a ? 'four' : 'two'}) is already in use.`,
        ExitCode.USAGE,
        {
          hint: 'Pick another --port, or leave it out to use free ports.',
          cause: error,
        },
      );
    }
    throw error;
  }
  const env = stackEnv(stack);
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({
        emulator: {
          url: stack.emulator.url,
          host: stack.emulator.host,
          jwksUrl: stack.emulator.jwksUrl,
        },
        front: {url: stack.gateway.url, audience: stack.gateway.url},
        demo: {url: stack.demo.url},
        mcpUrl: stack.mcpUrl,
        ...(stack.a2a ? {a2aUrl: stack.a2a.url} : {}),
        serviceAccount: stack.key.email,
        keyFile: stack.key.path,
        env,
      })}\n`,
    );
  } else {
    const lines = [
      '# Offline Google auth emulator, Cloud Run front and demo MCP server on 127.0.0.1.',
      '# Paste these lines into another shell:',
      ...Object.entries(env).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
      '',
      `# Google auth emulator:  ${stack.emulator.url}`,
      `# Cloud Run front:       ${stack.gateway.url}  (requires an ID token whose aud is this URL)`,
      `# MCP endpoint:          ${stack.mcpUrl}`,
      ...(stack.a2a
        ? [`# A2A agent:             ${stack.a2a.url}  (behind a front of its own)`]
        : []),
      `# Service account:       ${stack.key.email}  (key in GOOGLE_APPLICATION_CREDENTIALS)`,
      '',
      '# Then try:',
      `npx mcp-google-auth tools ${stack.mcpUrl}`,
      `npx mcp-google-auth call ${stack.mcpUrl} whoami`,
      `npx mcp-google-auth doctor ${stack.mcpUrl}`,
      ...(stack.a2a
        ? [
            `npx mcp-google-auth a2a card ${stack.a2a.url}`,
            `npx mcp-google-auth a2a send ${stack.a2a.url} --message hello`,
          ]
        : []),
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  log.info('Emulator running; press Ctrl-C to stop.');

  await stopped;
  log.debug('Stopping.');
  await stack.close();
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
