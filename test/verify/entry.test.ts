/**
 * The `mcp-google-auth/verify` entry, as a consumer meets it (built dist/, through the
 * package's `exports`): what importing it loads, and whether its public types compile in a
 * strict project that has no `@types/express` and no MCP SDK.
 */
import {execFile} from 'node:child_process';
import {cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {mkdirSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {BUILD_TIMEOUT_MS, ensureBuilt} from '../cli/cli-harness.js';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let scratch: string;

beforeAll(() => {
  ensureBuilt();
  scratch = mkdtempSync(join(tmpdir(), 'mga-verify-entry-'));
}, BUILD_TIMEOUT_MS);
afterAll(() => {
  rmSync(scratch, {recursive: true, force: true});
});

/** Every module URL Node resolves while `code` runs in a child process (cwd: the package root). */
async function modulesLoadedBy(code: string): Promise<string[]> {
  const log = join(scratch, `modules-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  const hooks = join(scratch, 'hooks.mjs');
  writeFileSync(
    hooks,
    [
      "import {appendFileSync} from 'node:fs';",
      'export async function resolve(specifier, context, next) {',
      '  const result = await next(specifier, context);',
      '  appendFileSync(process.env.MODULE_LOG, result.url + "\\n");',
      '  return result;',
      '}',
    ].join('\n'),
  );
  const register = join(scratch, 'register.mjs');
  writeFileSync(
    register,
    `import {register} from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  await run(
    process.execPath,
    ['--import', pathToFileURL(register).href, '--input-type=module', '-e', code],
    {
      cwd: ROOT,
      env: {...process.env, MODULE_LOG: log},
    },
  );
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('importing mcp-google-auth/verify', () => {
  it('loads no MCP SDK, no google-auth-library, no zod, no jose, nothing of the client side', async () => {
    const loaded = await modulesLoadedBy(
      "const m = await import('mcp-google-auth/verify'); if (typeof m.requireGoogleIdToken !== 'function' || typeof m.verifyIapJwt !== 'function') process.exit(3);",
    );
    const ours = loaded.filter((url) => url.startsWith(pathToFileURL(join(ROOT, 'dist')).href));
    expect(ours.length).toBeGreaterThan(5);
    expect(
      // The telemetry hooks come along; @opentelemetry/api is not loaded until something is recorded.
      ours.every((url) => /\/dist\/(verify|credentials\/errors|telemetry)/.test(url)),
      ours.join('\n'),
    ).toBe(true);
    const packages = loaded.filter((url) => url.includes('/node_modules/'));
    expect(packages).toEqual([]);
    expect(loaded.filter((url) => !url.startsWith('file:') && !url.startsWith('node:'))).toEqual(
      [],
    );
  });

  it('loads the SDK error classes only when an SDK bearer verifier is built', async () => {
    const loaded = await modulesLoadedBy(
      "const m = await import('mcp-google-auth/verify'); const v = m.googleIdTokenVerifier({audience: 'https://svc.example.com'}); await v.verifyAccessToken('x').catch(() => {});",
    );
    const packages = loaded.filter((url) => url.includes('/node_modules/'));
    expect(packages.length).toBeGreaterThan(0);
    expect(
      packages.every((url) =>
        /@modelcontextprotocol\/sdk\/dist\/esm\/server\/auth\/errors\.js$/.test(url),
      ),
      packages.join('\n'),
    ).toBe(true);
  });
});

describe('the public types of mcp-google-auth/verify', () => {
  const CONSUMER = `
import {createServer} from 'node:http';
import {
  createIapJwtVerifier,
  createIdTokenVerifier,
  googleIdTokenVerifier,
  IdTokenVerificationError,
  requireGoogleIdToken,
  verifyGoogleIdToken,
  verifyIapJwt,
} from 'mcp-google-auth/verify';
import type {
  GoogleAuthInfo,
  GoogleIdTokenClaims,
  IapJwtClaims,
  RequestWithAuth,
  RequireGoogleIdTokenOptions,
} from 'mcp-google-auth/verify';

const behindIap: RequireGoogleIdTokenOptions = {front: 'iap', audience: '/projects/1/apps/my-app'};
const behindCloudRun: RequireGoogleIdTokenOptions = {front: 'cloud-run', audience: 'https://svc.example.com'};
const guard = requireGoogleIdToken(Math.random() > 0.5 ? behindIap : behindCloudRun);
createServer(async (req: RequestWithAuth, res) => {
  if (!(await guard(req, res))) return;
  const caller: string | undefined = req.auth?.clientId;
  res.end(caller);
});
const bearer = googleIdTokenVerifier({audience: 'https://svc.example.com'});
export const info: Promise<GoogleAuthInfo> = bearer.verifyAccessToken('token');
export const claims: Promise<GoogleIdTokenClaims> = verifyGoogleIdToken('token', {audience: 'x'});
export const iap: Promise<IapJwtClaims> = verifyIapJwt('assertion', {audience: '/projects/1/apps/x'});
export const verifiers = [createIdTokenVerifier({audience: 'x'}), createIapJwtVerifier({audience: '/projects/1/apps/x'})];
export const isOurs = (error: unknown): boolean => error instanceof IdTokenVerificationError && error.code === 'expired';
`;

  /**
   * A consumer project in an empty directory: the package as installed (dist/ and
   * package.json), @types/node, and nothing else: no express types, no MCP SDK.
   */
  function consumer(compilerOptions: Record<string, unknown>): string {
    const dir = mkdtempSync(join(scratch, 'consumer-'));
    const pkg = join(dir, 'node_modules/mcp-google-auth');
    mkdirSync(pkg, {recursive: true});
    cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), {recursive: true});
    cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    mkdirSync(join(dir, 'node_modules/@types'), {recursive: true});
    symlinkSync(
      join(ROOT, 'node_modules/@types/node'),
      join(dir, 'node_modules/@types/node'),
      'dir',
    );
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({name: 'consumer', type: 'module', private: true}),
    );
    writeFileSync(join(dir, 'index.ts'), CONSUMER);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          skipLibCheck: false,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          target: 'ES2022',
          lib: ['ES2022'],
          types: ['node'],
          ...compilerOptions,
        },
        files: ['index.ts'],
      }),
    );
    return dir;
  }

  async function compile(dir: string): Promise<{ok: boolean; output: string; files: string[]}> {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    try {
      const {stdout} = await run(process.execPath, [
        tsc,
        '-p',
        join(dir, 'tsconfig.json'),
        '--listFiles',
      ]);
      return {ok: true, output: stdout, files: stdout.split('\n').filter(Boolean)};
    } catch (error) {
      const {stdout = '', stderr = ''} = error as {stdout?: string; stderr?: string};
      return {ok: false, output: `${stdout}${stderr}`, files: []};
    }
  }

  it.concurrent.each([
    ['nodenext', {module: 'nodenext', moduleResolution: 'nodenext'}],
    ['bundler', {module: 'esnext', moduleResolution: 'bundler'}],
  ])(
    'compile under strict with skipLibCheck: false (module %s), pulling in no express and no SDK types',
    async (_name, options) => {
      const result = await compile(consumer(options));
      expect(result.output).not.toMatch(/error TS/);
      expect(result.ok).toBe(true);
      const theirs = result.files.filter((file) =>
        /express|@modelcontextprotocol|google-auth-library|zod/.test(file),
      );
      expect(theirs).toEqual([]);
      expect(result.files.some((file) => file.endsWith('dist/verify/index.d.ts'))).toBe(true);
    },
    60_000,
  );
});
