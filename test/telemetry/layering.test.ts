/**
 * The telemetry hooks are a layer of their own that every other layer may call, the server
 * side included: they import nothing of the package but each other, and nothing at all beyond
 * Node's built-ins (`@opentelemetry/api` is required on first use, not imported).
 */
import {readFileSync, readdirSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

const DIR = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../src'), 'telemetry');

describe('src/telemetry', () => {
  it('imports only its own files and node: built-ins', () => {
    const imports: string[] = [];
    for (const file of readdirSync(DIR)) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(join(DIR, file), 'utf8');
      for (const match of text.matchAll(/(?:from|import)\s+'([^']+)'/g)) imports.push(match[1]!);
    }
    expect(imports.length).toBeGreaterThan(5);
    expect(imports.filter((target) => !/^(\.\/[a-z-]+\.js|node:[a-z_]+)$/.test(target))).toEqual(
      [],
    );
  });
});
