/**
 * Attack: a server reflects the request's Authorization header in its error text (a JSON-RPC
 * error message, a `WWW-Authenticate` description). `tools`, `call` and `doctor` used to print
 * that text, and with it up to 264 characters of the caller's ID token, to a terminal, a CI
 * log or a bug report. Every error text shown to a person now goes through the one scrubber.
 *
 * The servers here run on 127.0.0.1 and record every credential they receive, so the test
 * checks the real tokens, not a fixture, against everything the command printed.
 */
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startGoogleEmulator} from '../../src/emulator/google-emulator.js';
import type {
  EmulatorServiceAccountKey,
  GoogleEmulator,
} from '../../src/emulator/google-emulator.js';
import {BUILD_TIMEOUT_MS, ensureBuilt, runCli} from '../cli/cli-harness.js';

interface Reflector {
  url: string;
  /** Every credential the server received (without `Bearer `). */
  tokens: Set<string>;
  close(): Promise<void>;
}

/** A server that answers every request with an error text quoting the request's headers. */
async function startReflector(
  answer: (req: IncomingMessage, res: ServerResponse, reflected: string, id: unknown) => void,
): Promise<Reflector> {
  const tokens = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const authorization = req.headers.authorization ?? '';
      if (authorization) tokens.add(authorization.replace(/^Bearer\s+/i, ''));
      let id: unknown = null;
      try {
        id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as {id?: unknown}).id ?? null;
      } catch {
        // not JSON
      }
      answer(req, res, `Authorization: ${authorization}`, id);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    tokens,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Whether `output` holds any 16-character piece of `token`. */
function leaks(output: string, token: string): string | undefined {
  for (let i = 0; i + 16 <= token.length; i++) {
    const piece = token.slice(i, i + 16);
    if (output.includes(piece)) return piece;
  }
  return undefined;
}

describe.concurrent('error text shown by the command is scrubbed (issue 9, item 8)', () => {
  let emu: GoogleEmulator;
  let key: EmulatorServiceAccountKey;
  let env: Record<string, string>;
  let rpcError: Reflector;
  let challenge: Reflector;

  beforeAll(async () => {
    ensureBuilt();
    emu = await startGoogleEmulator();
    key = await emu.createServiceAccountKey('cli-scrub@emulator-project.iam.gserviceaccount.com');
    env = {...emu.env(), GOOGLE_APPLICATION_CREDENTIALS: key.path};
    // A JSON-RPC error whose message quotes the headers (a framework's debug output).
    rpcError = await startReflector((_req, res, reflected, id) => {
      res.writeHead(200, {'content-type': 'application/json'});
      res.end(
        JSON.stringify({
          jsonrpc: '2.0',
          id,
          error: {code: -32603, message: `Internal error while handling request. ${reflected}`},
        }),
      );
    });
    // A 401 whose WWW-Authenticate description quotes the token.
    challenge = await startReflector((req, res, reflected) => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
      res.writeHead(401, {
        'content-type': 'application/json',
        // The start of the token only: a description is short, and a short one is quoted.
        'www-authenticate': `Bearer error="invalid_token", error_description="token ${token.slice(0, 120)} refused"`,
      });
      res.end(JSON.stringify({error: 'invalid_token', error_description: reflected}));
    });
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all([rpcError?.close(), challenge?.close()]);
    await emu?.close();
  });

  const cases: [string, (r: () => Reflector) => string[]][] = [
    ['tools, JSON-RPC error', (r) => ['tools', r().url, '--verbose']],
    ['call, JSON-RPC error', (r) => ['call', r().url, 'add', '--verbose']],
    ['doctor, JSON-RPC error', (r) => ['doctor', r().url, '--verbose']],
    ['doctor --json, JSON-RPC error', (r) => ['doctor', r().url, '--json']],
  ];
  for (const [name, args] of cases) {
    it(`${name}: no piece of the token is printed`, async () => {
      const result = await runCli(
        args(() => rpcError),
        env,
      );
      expect(result.code).not.toBe(0);
      const output = result.stdout + result.stderr;
      // The server's words still come through, with the token replaced.
      expect(output).toContain('Internal error while handling request');
      expect(rpcError.tokens.size).toBeGreaterThan(0);
      for (const token of rpcError.tokens) expect(leaks(output, token)).toBeUndefined();
      expect(output).not.toMatch(/eyJ[\w-]{8,}\.[\w-]{8,}/);
    });
  }

  for (const command of ['tools', 'call', 'doctor']) {
    it(`${command}, token in WWW-Authenticate: no piece of the token is printed`, async () => {
      const args =
        command === 'call'
          ? ['call', challenge.url, 'add', '--verbose']
          : [command, challenge.url, '--verbose'];
      const result = await runCli(args, env);
      expect(result.code).toBe(3);
      const output = result.stdout + result.stderr;
      expect(challenge.tokens.size).toBeGreaterThan(0);
      for (const token of challenge.tokens) expect(leaks(output, token)).toBeUndefined();
      expect(output).not.toMatch(/eyJ[\w-]{8,}\.[\w-]{8,}/);
    });
  }
});
