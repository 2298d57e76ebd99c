/**
 * `@google/adk` is an optional peer dependency: only the `mcp-google-auth/adk` entry may load
 * it. This walks the runtime import graph (type-only imports are erased) of the other entries.
 */
import {readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
/** Static imports and re-exports that stay in the JavaScript, and dynamic imports. */
const RUNTIME_IMPORT =
  /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** Every module `entry` loads at run time: relative files (as paths) and packages (as names). */
function runtimeGraph(entry: string): {files: Set<string>; packages: Set<string>} {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [join(SRC, entry)];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (files.has(file)) continue;
    files.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(RUNTIME_IMPORT)) {
      const specifier = (match[1] ?? match[2]) as string;
      if (specifier.startsWith('.')) {
        pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      } else {
        packages.add(specifier);
      }
    }
  }
  return {files, packages};
}

describe('package entries', () => {
  it.each(['index.ts', 'emulator/index.ts', 'cli/main.ts'])(
    '%s never loads @google/adk or src/adk',
    (entry) => {
      const {files, packages} = runtimeGraph(entry);
      expect(files.size).toBeGreaterThan(1);
      expect([...packages].filter((name) => name.startsWith('@google/adk'))).toEqual([]);
      expect([...files].filter((file) => file.startsWith(join(SRC, 'adk')))).toEqual([]);
    },
  );

  it('the adk entry is the one that does', () => {
    expect(runtimeGraph('adk/index.ts').packages).toContain('@google/adk');
  });
});
