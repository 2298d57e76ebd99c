/**
 * Every TypeScript block of the README is a whole program that compiles against the built
 * package: each ```ts block becomes its own file in `integration/.readme-snippets/` (a
 * gitignored scratch folder), and one `tsc` run checks them all under `strict`.
 *
 * Resolution is a user's: `mcp-google-auth` is `integration/node_modules/mcp-google-auth`
 * (the built package, `file:..`); the frameworks, `@a2a-js/sdk` and express come from this
 * folder's own devDependencies; `@google/adk` is found one folder up (the root's
 * devDependency), which is also the copy that `mcp-google-auth/adk` sees, as in a user's
 * single `node_modules`.
 *
 * What fails the test: an error in a README block. Declarations are not checked here
 * (`skipLibCheck: true`): checking the frameworks' declarations took two thirds of a cold
 * run, and their errors are theirs (Mastra 0.x's do not resolve under `nodenext`). This
 * package's own declarations are checked under `skipLibCheck: false`, `nodenext` and
 * `bundler` by `test/package/consumer.test.ts`. The scratch folder keeps tsc's incremental
 * state, so a second run in the same checkout checks only what changed.
 */
import {execFile} from 'node:child_process';
import {mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {join, relative, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {describe, expect, it} from 'vitest';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const SCRATCH = fileURLToPath(new URL('../.readme-snippets/', import.meta.url));
/** This package's own built declarations: errors there are ours. */
const OWN_TYPES = fileURLToPath(new URL('../../dist/', import.meta.url));
// The project's own compiler (the root's devDependency), not whatever a framework brought along.
const TSC = createRequire(new URL('../../package.json', import.meta.url)).resolve(
  'typescript/bin/tsc',
);

/** The fences a block may carry. TypeScript is written ```ts, and every ```ts block compiles. */
const KNOWN_FENCES = new Set(['ts', 'sh', 'json', 'jsonc', 'mermaid', '']);

interface Block {
  /** The fence's info string (`ts`, `sh`, ...; empty for program output). */
  lang: string;
  /** README line of the opening fence (1-based); the block's line n is README line fence + n. */
  fenceLine: number;
  code: string;
}

function readmeBlocks(): Block[] {
  const lines = readFileSync(README, 'utf8').split('\n');
  const blocks: Block[] = [];
  let open: {lang: string; fenceLine: number; body: string[]} | undefined;
  lines.forEach((line, index) => {
    const fence = /^```(.*)$/.exec(line);
    if (!open) {
      if (fence) open = {lang: fence[1]!.trim(), fenceLine: index + 1, body: []};
    } else if (line === '```') {
      blocks.push({lang: open.lang, fenceLine: open.fenceLine, code: open.body.join('\n') + '\n'});
      open = undefined;
    } else {
      open.body.push(line);
    }
  });
  if (open) throw new Error(`README.md:${open.fenceLine}: a code block is never closed`);
  return blocks;
}

function fileName(block: Block): string {
  return `readme-line-${String(block.fenceLine).padStart(4, '0')}.ts`;
}

describe('README TypeScript blocks', () => {
  const blocks = readmeBlocks();
  const tsBlocks = blocks.filter((block) => block.lang === 'ts');

  it('uses only known fences, so that no TypeScript hides under another name', () => {
    const unknown = blocks
      .filter((block) => !KNOWN_FENCES.has(block.lang))
      .map((block) => `README.md:${block.fenceLine}: \`\`\`${block.lang}`);
    expect(unknown).toEqual([]);
    expect(tsBlocks.length).toBeGreaterThanOrEqual(20);
  });

  it('compile, each as a complete file, against the built package (one tsc run)', async () => {
    // Blocks of an older README go; tsc's incremental state stays.
    mkdirSync(SCRATCH, {recursive: true});
    for (const name of readdirSync(SCRATCH)) {
      if (name.endsWith('.ts')) rmSync(join(SCRATCH, name));
    }
    for (const block of tsBlocks) writeFileSync(join(SCRATCH, fileName(block)), block.code);
    const tsconfig = {
      compilerOptions: {
        strict: true,
        skipLibCheck: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2023',
        // Node's globals, and the DOM's fetch types that the MCP and AI SDKs' declarations name.
        lib: ['es2023', 'dom'],
        types: ['node'],
        noEmit: true,
        incremental: true,
        tsBuildInfoFile: './.tsbuildinfo',
      },
      files: tsBlocks.map(fileName),
    };
    writeFileSync(join(SCRATCH, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));

    const output = await promisify(execFile)(
      process.execPath,
      [TSC, '-p', 'tsconfig.json', '--pretty', 'false'],
      {cwd: SCRATCH, maxBuffer: 16 * 1024 * 1024},
    ).then(
      ({stdout}) => stdout,
      (error: {stdout?: string; stderr?: string}) =>
        `${error.stdout ?? ''}${error.stderr ?? ''}` || String(error),
    );

    // `readme-line-0054.ts(3,5): error TS2304: ...` -> `README.md:57:5 TS2304 ...`; an error
    // in our declarations is kept as tsc wrote it, one in another package's is dropped.
    const byFile = new Map(tsBlocks.map((block) => [fileName(block), block.fenceLine]));
    const errors: string[] = [];
    for (const line of output.split('\n')) {
      if (line.trim() === '' || line.startsWith(' ')) continue; // continuation of a message
      const match = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
      if (!match) {
        errors.push(line); // tsc itself failed (bad tsconfig, crash)
        continue;
      }
      const [, file, row, column, code, message] = match;
      const fence = byFile.get(file!);
      if (fence !== undefined) {
        errors.push(`README.md:${fence + Number(row)}:${column} ${code} ${message}`);
      } else if (!relative(OWN_TYPES, resolve(SCRATCH, file!)).startsWith('..')) {
        errors.push(line);
      }
    }
    expect(errors, `${errors.length} tsc error(s) in README blocks`).toEqual([]);
  }, 120_000);
});
