import {readFileSync} from 'node:fs';

import {describe, expect, it} from 'vitest';

/**
 * The README's code must not drift from the package: every name it imports from one of the
 * package's entries is exported there, and every entry it names is in package.json.
 */
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, unknown>;
  scripts: Record<string, string>;
};

const ENTRIES: Record<string, () => Promise<Record<string, unknown>>> = {
  'mcp-google-auth': () => import('../src/index.js'),
  'mcp-google-auth/fetch': () => import('../src/fetch.js'),
  'mcp-google-auth/verify': () => import('../src/verify/index.js'),
  'mcp-google-auth/emulator': () => import('../src/emulator/index.js'),
  'mcp-google-auth/adk': () => import('../src/adk/index.js'),
  'mcp-google-auth/a2a': () => import('../src/a2a/index.js'),
};

function importsFromPackage(): Array<{entry: string; names: string[]}> {
  const found: Array<{entry: string; names: string[]}> = [];
  for (const match of readme.matchAll(/import\s*\{([^}]+)\}\s*from\s*'(mcp-google-auth[^']*)'/g)) {
    const names = match[1]!
      .split(',')
      .map((n) => n.trim().replace(/^type\s+/, ''))
      .filter(Boolean);
    found.push({entry: match[2]!, names});
  }
  return found;
}

describe('README', () => {
  it('starts with the two commands a new user runs', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock).toMatch(/^npm ci && npm start\b/m);
    expect(firstBlock).toMatch(/^npm ci && npm test\b/m);
    expect(pkg.scripts.start).toMatch(/demo/);
  });

  it('imports only names that the package entries export', async () => {
    const imports = importsFromPackage();
    expect(imports.length).toBeGreaterThanOrEqual(6);
    for (const {entry, names} of imports) {
      const load = ENTRIES[entry];
      expect(load, `README imports from unknown entry ${entry}`).toBeDefined();
      expect(
        pkg.exports[entry.replace(/^mcp-google-auth/, '.')],
        `${entry} is not in package.json exports`,
      ).toBeDefined();
      const module = await load!();
      for (const name of names)
        expect(Object.keys(module), `${name} from ${entry}`).toContain(name);
    }
  });

  it('shows only npm scripts that exist', () => {
    for (const match of readme.matchAll(/npm run ([a-z:-]+)/g)) {
      expect(Object.keys(pkg.scripts)).toContain(match[1]);
    }
  });
});
