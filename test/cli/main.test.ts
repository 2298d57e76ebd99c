import {readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {Command, Help} from 'commander';
import {beforeAll, describe, expect, it} from 'vitest';
import {COMMAND_SUMMARIES} from '../../src/cli/command-summaries.js';
import {BUILD_TIMEOUT_MS, CLI, ensureBuilt, runCli} from './cli-harness.js';

/**
 * The modules the built `main.js` imports statically, transitively (what every run pays
 * for, `--help` included): relative files by path, packages by name.
 */
function staticImports(entry: string): {files: Set<string>; packages: Set<string>} {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    // Static `import ... from '...'` / `export ... from '...'` / `import '...'`; `import(...)` is lazy.
    for (const match of text.matchAll(
      /^(?:import|export)\s[^;]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm,
    )) {
      const spec = (match[1] ?? match[2]) as string;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else packages.add(spec);
    }
  };
  visit(entry);
  return {files, packages};
}

describe.concurrent('mcp-google-auth (program)', () => {
  beforeAll(() => ensureBuilt(), BUILD_TIMEOUT_MS);

  it('--help lists every subcommand and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const name of ['token', 'tools', 'call', 'proxy', 'doctor', 'emulator', 'demo']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    }
    expect(result.stdout).toMatch(/^ {2}proxy \[options\] <url> +Serve MCP on stdio/m);
  });

  it('--version prints the version and exits 0', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('start-up imports command definitions only: no MCP SDK, google-auth-library, zod, jose or emulator', () => {
    const {files, packages} = staticImports(CLI);
    expect([...packages].filter((p) => !p.startsWith('node:')).sort()).toEqual(['commander']);
    const dist = join(dirname(CLI), '..');
    const loaded = [...files].map((f) => f.slice(dist.length + 1)).sort();
    expect(loaded.filter((f) => /^(emulator|mcp|verify|adk|exchange)\//.test(f))).toEqual([]);
    expect(loaded.filter((f) => f.startsWith('cli/actions/'))).toEqual([]);
  });

  it('lists proxy from a summary equal to what the proxy module registers', async () => {
    const summary = COMMAND_SUMMARIES.proxy;
    const program = new Command('mcp-google-auth');
    (await summary!.load())(program);
    const proxy = program.commands.find((c) => c.name() === 'proxy');
    expect(proxy?.description()).toBe(summary?.description);
    expect(new Help().subcommandTerm(proxy as Command)).toBe(summary?.term);
  });

  it('proxy --help and help proxy show the real command with its options', async () => {
    const [flag, word] = await Promise.all([
      runCli(['proxy', '--help']),
      runCli(['help', 'proxy']),
    ]);
    for (const result of [flag, word]) {
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('--idle-timeout');
      expect(result.stdout).toContain('--key-file');
    }
  });

  it('token --help lists only the options that apply to it', async () => {
    const result = await runCli(['token', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('--header');
    expect(result.stdout).not.toContain("URL's origin");
    expect(result.stdout).toMatch(/--audience <aud> +mint an ID token for this audience/);
    for (const option of ['--scopes', '--decode', '--key-file', '--impersonate', '--json'])
      expect(result.stdout).toContain(option);
  });

  it('doctor --help names the risk of --unsafe-send-access-token', async () => {
    const result = await runCli(['doctor', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout.replace(/\s+/g, ' ')).toMatch(
      /--unsafe-send-access-token UNSAFE: also send a Google access token/,
    );
  });

  it('exits 2 for an unknown subcommand, an unknown option, a missing argument, a bad --header', async () => {
    const [command, option, argument, header] = await Promise.all([
      runCli(['frobnicate']),
      runCli(['token', '--nope']),
      runCli(['tools']),
      runCli(['tools', 'http://127.0.0.1:9/mcp', '--header', 'cookie']),
    ]);
    for (const result of [command, option, argument, header]) {
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/error/);
    }
  });

  it('exits 2 with the usage on stderr when no subcommand is given', async () => {
    const result = await runCli([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Usage: mcp-google-auth/);
  });

  it('token --header is refused: the token is printed, not sent', async () => {
    const result = await runCli(['token', '--header', 'proxy-authorization']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--header'");
  });
});
