import {existsSync, readFileSync, readdirSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

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

const ROOT = dirname(fileURLToPath(new URL('../package.json', import.meta.url)));

/** The README without its fenced blocks (their `#` lines and links are code, not prose). */
const prose = readme.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}_\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Whether a repository path (a file, a folder, or a `*` pattern in its last part) exists. */
function pathExists(path: string): boolean {
  const clean = path.replace(/\/$/, '');
  if (!clean.includes('*')) return existsSync(join(ROOT, clean));
  const folder = dirname(clean);
  const pattern = new RegExp(
    `^${clean
      .slice(folder.length + 1)
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')}$`,
  );
  return (
    existsSync(join(ROOT, folder)) && readdirSync(join(ROOT, folder)).some((f) => pattern.test(f))
  );
}

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

  it('links only to headings that exist', () => {
    const anchors = new Set<string>();
    for (const match of prose.matchAll(/^#{1,6} (.+)$/gm)) anchors.add(headingAnchor(match[1]!));
    expect(anchors.size).toBeGreaterThanOrEqual(20);
    const links = [...prose.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1]!);
    expect(links.length).toBeGreaterThanOrEqual(10);
    expect(links.filter((anchor) => !anchors.has(anchor))).toEqual([]);
  });

  it('names only files and folders of the repository that exist', () => {
    const named = [
      ...readme.matchAll(/`((?:src|test|bench|soak|integration\/test)\/[\w./*-]*)`/g),
    ].map((match) => match[1]!);
    expect(named.length).toBeGreaterThanOrEqual(20);
    expect(named.filter((path) => !pathExists(path))).toEqual([]);
  });

  it('names a test for each guarantee of its Security section', () => {
    const security = /^## Security\n([\s\S]*?)^## /m.exec(prose)?.[1] ?? '';
    const guarantees = security.split(/^- /m).slice(1);
    expect(guarantees.length).toBeGreaterThanOrEqual(15);
    for (const guarantee of guarantees) {
      expect(guarantee, guarantee.split('\n')[0]).toMatch(
        /`(?:integration\/)?test\/[\w./-]+\.test\.ts`/,
      );
    }
    // The two that issue 9 added last: doctor's access token, and the one scrubber.
    expect(security).toContain('`test/security/doctor-access-token.test.ts`');
    expect(security).toContain('`src/cli/scrub-text.ts`');
    expect(security).toContain('`test/security/cli-error-scrub.test.ts`');
  });
});
