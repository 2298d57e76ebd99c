/**
 * A consumer of the packed package, offline: the files `npm pack` would ship, installed next to
 * the production dependency tree only (what `npm install mcp-google-auth` gives a new project:
 * no devDependencies, no `@types/express`), with `@types/node` and TypeScript as a TypeScript
 * user has them.
 */
import {execFileSync} from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface LockEntry {
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
}

/** The files `npm pack` puts in the tarball, relative to the package root. */
export function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [pack] = JSON.parse(out) as Array<{files: Array<{path: string}>}>;
  return pack!.files.map((file) => file.path);
}

export interface Consumer {
  dir: string;
  /** Writes a file of the consumer project (path relative to its root). */
  write(path: string, text: string): void;
  close(): void;
}

/**
 * A throw-away project whose `node_modules` holds the packed package (copied, as npm installs
 * it) and, as symlinks into this checkout, exactly the packages the lockfile marks as
 * production dependencies, plus the named extras.
 */
export function createConsumer(
  extras: readonly string[] = ['@types/node', 'undici-types'],
): Consumer {
  const dir = mkdtempSync(join(tmpdir(), 'mga-consumer-'));
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.startsWith('node_modules/')) continue;
    const name = path.slice('node_modules/'.length);
    if (name.includes('/node_modules/')) continue; // nested copies come with their parent
    const production = entry.dev !== true && entry.devOptional !== true;
    if (!production && !extras.includes(name)) continue;
    mkdirSync(dirname(join(modules, name)), {recursive: true});
    try {
      symlinkSync(join(ROOT, path), join(modules, name), 'dir');
    } catch {
      // An optional package the platform did not install.
    }
  }
  const self = join(modules, 'mcp-google-auth');
  for (const file of packedFiles()) {
    mkdirSync(dirname(join(self, file)), {recursive: true});
    cpSync(join(ROOT, file), join(self, file));
  }
  return {
    dir,
    write(path, text) {
      mkdirSync(dirname(join(dir, path)), {recursive: true});
      writeFileSync(join(dir, path), text);
    },
    close() {
      rmSync(dir, {recursive: true, force: true});
    },
  };
}
