/**
 * `@a2a-js/sdk` is an optional peer dependency: only `mcp-google-auth/a2a` may load it when
 * imported. The demo A2A agent (emulator entry) and the `a2a` command load it when they run,
 * through dynamic imports. This walks the static import graph (type-only imports are erased).
 */
import {readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
/** Static imports and re-exports that stay in the JavaScript (not `import type`, not `import()`). */
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

/** Every package `entry` loads when it is imported. */
function staticPackages(entry: string): Set<string> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [join(SRC, entry)];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (files.has(file)) continue;
    files.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      const specifier = match[1] as string;
      if (specifier.startsWith('.')) {
        pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      } else {
        packages.add(specifier);
      }
    }
  }
  return packages;
}

describe('@a2a-js/sdk stays optional', () => {
  it.each([
    'index.ts',
    'fetch.ts',
    'verify/index.ts',
    'emulator/index.ts',
    'adk/index.ts',
    'cli/main.ts',
    'cli/commands/a2a.ts',
  ])('%s does not load it at import', (entry) => {
    expect([...staticPackages(entry)].filter((name) => name.startsWith('@a2a-js/'))).toEqual([]);
  });

  it('the a2a entry does, and the server side needs no express', () => {
    expect(staticPackages('a2a/index.ts')).toContain('@a2a-js/sdk/client');
    expect(
      [...staticPackages('verify/index.ts')].filter((name) => name.includes('express')),
    ).toEqual([]);
  });

  it('the entry is in package.json exports', () => {
    const pkg = JSON.parse(readFileSync(join(SRC, '../package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
      peerDependenciesMeta: Record<string, {optional?: boolean}>;
    };
    expect(pkg.exports['./a2a']).toEqual({
      types: './dist/a2a/index.d.ts',
      import: './dist/a2a/index.js',
      default: './dist/a2a/index.js',
    });
    expect(pkg.peerDependenciesMeta['@a2a-js/sdk']?.optional).toBe(true);
  });
});
