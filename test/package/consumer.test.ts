import {execFile, spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createConsumer, packedFiles, ROOT} from './consumer.js';
import type {Consumer} from './consumer.js';

/**
 * What a new user meets after `npm install mcp-google-auth`: the packed files, `import` and
 * `require()` of every entry, and the public types under `strict` + `skipLibCheck: false` with
 * the module settings TypeScript projects use (nodenext and bundler), without the
 * devDependencies of this repository (no `@types/express`).
 */
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
};
const ENTRIES = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => key.replace(/^\./, 'mcp-google-auth'));
/** Entries that load only with their optional peer installed. */
const NEEDS_PEER: Record<string, string> = {
  'mcp-google-auth/adk': '@google/adk',
  'mcp-google-auth/a2a': '@a2a-js/sdk',
};

const run = promisify(execFile);
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const CLIENT = `import {
  AuthCredentialTypes,
  InvalidCredentialError,
  McpToolset,
  TokenCache,
  googleAuthFetch,
  parseAuthCredential,
} from 'mcp-google-auth';
import type {AuthCredential, McpTool} from 'mcp-google-auth';
import {googleAuthProvider, tokenFingerprint} from 'mcp-google-auth/fetch';
import type {FetchLike, GoogleAuthFetchOptions} from 'mcp-google-auth/fetch';

const authCredential: AuthCredential = {
  authType: AuthCredentialTypes.SERVICE_ACCOUNT,
  serviceAccount: {useDefaultCredential: true, useIdToken: true},
};
const options: GoogleAuthFetchOptions = {authCredential, cache: new TokenCache()};
export const authed: FetchLike = googleAuthFetch(options);
export const provider = googleAuthProvider({authCredential, targetUrl: 'https://svc-abc.a.run.app'});
export const fingerprint: string = tokenFingerprint('x');

export async function listTools(): Promise<string[]> {
  const toolset = new McpToolset({
    connectionParams: {type: 'StreamableHTTPConnectionParams', url: 'https://svc-abc.a.run.app/mcp'},
    authCredential,
  });
  try {
    const tools: McpTool[] = await toolset.getTools();
    return tools.map((tool) => tool.name);
  } finally {
    await toolset.close();
  }
}

export function parse(input: unknown): AuthCredential | string {
  try {
    return parseAuthCredential(input);
  } catch (error) {
    if (error instanceof InvalidCredentialError) return error.message;
    throw error;
  }
}
`;

const A2A = `import {randomUUID} from 'node:crypto';
import type {Client} from '@a2a-js/sdk/client';
import {A2aClientError, googleA2aClientFactory} from 'mcp-google-auth/a2a';
import type {GoogleA2aClientFactory} from 'mcp-google-auth/a2a';

export const factory: GoogleA2aClientFactory = googleA2aClientFactory({
  url: 'https://agent-abc.a.run.app',
  authCredential: {authType: 'serviceAccount', serviceAccount: {useDefaultCredential: true, useIdToken: true}},
});

export async function ask(text: string): Promise<string> {
  try {
    const client: Client = await factory.createClient();
    const reply = await client.sendMessage({
      message: {kind: 'message', messageId: randomUUID(), role: 'user', parts: [{kind: 'text', text}]},
    });
    return reply.kind;
  } catch (error) {
    if (error instanceof A2aClientError) return error.code;
    throw error;
  }
}
`;

const SERVER = `import {createServer} from 'node:http';
import {
  IdTokenVerificationError,
  createIdTokenVerifier,
  googleIdTokenUserBuilder,
  googleIdTokenVerifier,
  requireGoogleIdToken,
  verifyGoogleIdToken,
} from 'mcp-google-auth/verify';
import type {GoogleIdTokenClaims, GoogleIdTokenUser, RequestWithAuth} from 'mcp-google-auth/verify';

const audience = 'https://svc-abc.a.run.app';
const guard = requireGoogleIdToken({audience});
export const server = createServer(async (req: RequestWithAuth, res) => {
  if (!(await guard(req, res))) return;
  res.end(req.auth?.clientId ?? '');
});
export const verifier = googleIdTokenVerifier({audience});
// The A2A user builder's types are structural: no express, no @a2a-js/sdk needed.
const authentication = googleIdTokenUserBuilder({audience, front: 'cloud-run'});
export const a2aServer = createServer(async (req, res) => {
  await authentication.guard(req, res, async () => {
    const user: GoogleIdTokenUser = await authentication(req);
    res.end(user.userName);
  });
});
const verify = createIdTokenVerifier({audience});

export async function whoIs(token: string): Promise<string | undefined> {
  try {
    const claims: GoogleIdTokenClaims = await verify(token);
    await verifyGoogleIdToken(token, {audience});
    return claims.email;
  } catch (error) {
    if (error instanceof IdTokenVerificationError) return error.code;
    throw error;
  }
}
`;

function tsconfig(module: 'nodenext' | 'bundler'): string {
  const compilerOptions =
    module === 'nodenext'
      ? {module: 'nodenext', moduleResolution: 'nodenext'}
      : {module: 'esnext', moduleResolution: 'bundler'};
  return JSON.stringify({
    compilerOptions: {
      ...compilerOptions,
      target: 'es2022',
      strict: true,
      skipLibCheck: false,
      noEmit: true,
      // Resolve as the consumer's node_modules is laid out, not through the symlinks into
      // this checkout (whose devDependencies a consumer does not have).
      preserveSymlinks: true,
      types: ['node'],
    },
    include: ['*.ts'],
  });
}

let consumer: Consumer;
beforeAll(() => {
  consumer = createConsumer(['@types/node', 'undici-types', '@google/adk', '@a2a-js/sdk']);
  consumer.write('package.json', JSON.stringify({name: 'consumer', type: 'module'}));
}, 60_000);
afterAll(() => consumer?.close());

describe('the packed package', () => {
  it('ships the license, the readme and every export target, and no source maps', () => {
    const files = packedFiles();
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    for (const target of Object.values(pkg.exports)) {
      const paths = typeof target === 'string' ? [target] : Object.values(target);
      for (const path of paths) expect(files).toContain(path.replace(/^\.\//, ''));
    }
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    for (const file of files.filter((f) => f.endsWith('.js'))) {
      expect(readFileSync(join(ROOT, file), 'utf8'), file).not.toContain('sourceMappingURL');
    }
    expect(files.some((file) => file.startsWith('src/') || file.startsWith('test/'))).toBe(false);
  });

  it.each(ENTRIES)('%s loads with import() and with require() from a .cjs file', (entry) => {
    const peer = NEEDS_PEER[entry];
    consumer.write(
      'load.cjs',
      `const m = require(${JSON.stringify(entry)});\nprocess.stdout.write(String(Object.keys(m).length));\n`,
    );
    consumer.write(
      'load.mjs',
      `const m = await import(${JSON.stringify(entry)});\nprocess.stdout.write(String(Object.keys(m).length));\n`,
    );
    for (const file of ['load.cjs', 'load.mjs']) {
      const run = spawnSync(process.execPath, [file], {cwd: consumer.dir, encoding: 'utf8'});
      expect(run.stderr, `${file} ${entry}${peer ? ` (peer ${peer})` : ''}`).toBe('');
      expect(run.status).toBe(0);
      expect(Number(run.stdout)).toBeGreaterThan(0);
    }
  });
});

describe('public types under strict, skipLibCheck: false', () => {
  it('client (main, /fetch, /a2a) and server (/verify) entries compile with module nodenext and bundler', async () => {
    // Both projects at once: one tsc per core.
    const outputs = await Promise.all(
      (['nodenext', 'bundler'] as const).map(async (module) => {
        const dir = `types-${module}`;
        consumer.write(`${dir}/tsconfig.json`, tsconfig(module));
        consumer.write(`${dir}/client.ts`, CLIENT);
        consumer.write(`${dir}/server.ts`, SERVER);
        consumer.write(`${dir}/a2a.ts`, A2A);
        try {
          await run(process.execPath, [TSC, '-p', join(consumer.dir, dir)], {cwd: consumer.dir});
          return `${module}: ok`;
        } catch (error) {
          return `${module}: ${String((error as {stdout?: string}).stdout ?? error)}`;
        }
      }),
    );
    expect(outputs).toEqual(['nodenext: ok', 'bundler: ok']);
  }, 120_000);
});
