import {readFileSync} from 'node:fs';
import {beforeAll, describe, expect, it} from 'vitest';
import {BUILD_TIMEOUT_MS, ensureBuilt, runCli} from './cli/cli-harness.js';

/**
 * Every `mcp-google-auth` command the README shows exists, with options that command takes,
 * as the built command's own `--help` lists them: the lines of ```sh blocks, the `$ ` lines of
 * transcripts (the lines after them are output), and the `args` of the desktop clients' JSON
 * configurations.
 */
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

interface Shown {
  /** README line. */
  line: number;
  /** The words after `mcp-google-auth`. */
  args: string[];
}

interface OptionSpec {
  /** `none`, `required` (`<x>`) or `optional` (`[x]`) value. */
  value: 'none' | 'required' | 'optional';
  /** The values `--help` lists as choices, if any. */
  choices?: string[];
}

interface CommandSpec {
  options: Map<string, OptionSpec>;
  subcommands: Set<string>;
  /** Positional arguments: how many are required, and at most how many (Infinity: variadic). */
  required: number;
  max: number;
}

/** Splits a shell line into words: quotes group, `#` outside quotes starts a comment. */
function shellWords(line: string): string[][] {
  const commands: string[][] = [[]];
  let word: string | undefined;
  let quote: string | undefined;
  const end = () => {
    if (word !== undefined) commands.at(-1)!.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else word = (word ?? '') + c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '#' && word === undefined) {
      break;
    } else if (c === ' ' || c === '\t') {
      end();
    } else if (c === '&' || c === '|' || c === ';') {
      end();
      if (line[i + 1] === c) i++;
      commands.push([]);
    } else {
      word = (word ?? '') + c;
    }
  }
  end();
  return commands.filter((words) => words.length > 0);
}

/** The words after `mcp-google-auth` (or `npx [-y] mcp-google-auth`), if the command runs it. */
function cliArgs(words: string[]): string[] | undefined {
  let i = 0;
  while (i < words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[i]!)) i++; // VAR=value prefixes
  if (words[i] === 'npx') {
    i++;
    while (words[i] === '-y' || words[i] === '--yes') i++;
  }
  return words[i] === 'mcp-google-auth' ? words.slice(i + 1) : undefined;
}

/** Every command the README shows that runs `mcp-google-auth`. */
function shownCommands(): Shown[] {
  const lines = readme.split('\n');
  const shown: Shown[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)$/.exec(lines[i]!);
    if (!fence) continue;
    const lang = fence[1];
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== '```') end++;
    const body = lines.slice(start, end);
    i = end;
    if (lang === 'json') {
      collectJsonArgs(JSON.parse(body.join('\n')) as unknown, start, shown);
      continue;
    }
    const transcript = body.some((line) => line.startsWith('$ '));
    if (!transcript && lang !== 'sh') continue;
    body.forEach((text, offset) => {
      if (transcript && !text.startsWith('$ ')) return; // program output
      for (const words of shellWords(transcript ? text.slice(2) : text)) {
        const args = cliArgs(words);
        if (args) shown.push({line: start + offset + 1, args});
      }
    });
  }
  return shown;
}

function collectJsonArgs(value: unknown, line: number, shown: Shown[]): void {
  if (Array.isArray(value)) {
    value.forEach((item) => collectJsonArgs(item, line, shown));
  } else if (value !== null && typeof value === 'object') {
    const {command, args} = value as {command?: unknown; args?: unknown};
    if (Array.isArray(args) && typeof command === 'string') {
      const cli = cliArgs([command, ...args.map(String)]);
      if (cli) shown.push({line, args: cli});
    }
    Object.values(value).forEach((item) => collectJsonArgs(item, line, shown));
  }
}

/** Reads a command's `--help`: its options (with value kinds and choices) and subcommands. */
function parseHelp(help: string): CommandSpec {
  const options = new Map<string, OptionSpec>();
  const subcommands = new Set<string>();
  const usage = /^Usage: \S+((?: [^\s[<]+)*) (.*)$/m.exec(help)?.[2] ?? '';
  const positional = [...usage.matchAll(/([<[])[^\]>]+([>\]])/g)].filter(
    (match) => match[0] !== '[options]' && match[0] !== '[command]',
  );
  const required = positional.filter((match) => match[1] === '<').length;
  const max = positional.some((match) => match[0].includes('...'))
    ? Number.POSITIVE_INFINITY
    : positional.length;
  let section = '';
  let current: {names: string[]; description: string} | undefined;
  const flush = () => {
    if (!current) return;
    const choices = /choices: ((?:"[^"]*"(?:,\s*)?)+)/.exec(current.description)?.[1];
    const value = /^--\S+ </.test(current.names.at(-1)!)
      ? 'required'
      : /^--\S+ \[/.test(current.names.at(-1)!)
        ? 'optional'
        : 'none';
    for (const name of current.names) {
      options.set(name.split(' ')[0]!, {
        value,
        ...(choices ? {choices: [...choices.matchAll(/"([^"]*)"/g)].map((m) => m[1]!)} : {}),
      });
    }
    current = undefined;
  };
  for (const line of help.split('\n')) {
    const heading = /^(\w+):/.exec(line);
    if (heading) {
      flush();
      section = heading[1]!;
      continue;
    }
    if (section === 'Options') {
      const option =
        /^ {2}((?:-\w, )?--[\w-]+(?: [<[][^>\]]+[>\]])?)\s{2,}(.*)$|^ {2}((?:-\w, )?--[\w-]+(?: [<[][^>\]]+[>\]])?)$/.exec(
          line,
        );
      if (option) {
        flush();
        const names = (option[1] ?? option[3])!.split(', ');
        const valuePart = / [<[].*$/.exec(names.at(-1)!)?.[0] ?? '';
        current = {
          names: names.map((name) => name.split(' ')[0] + valuePart),
          description: option[2] ?? '',
        };
      } else if (current) {
        current.description += ` ${line.trim()}`;
      }
    } else if (section === 'Commands') {
      const command = /^ {2}([a-z][\w-]*)\b/.exec(line);
      if (command && command[1] !== 'help') subcommands.add(command[1]!);
    }
  }
  flush();
  return {options, subcommands, required, max};
}

/** What is wrong with `args` for the program whose help `helpOf` gives; empty when nothing. */
async function problemsWith(
  args: string[],
  helpOf: (path: string[]) => Promise<CommandSpec>,
): Promise<string[]> {
  const path: string[] = [];
  let spec = await helpOf(path);
  let rest = args;
  while (spec.subcommands.size > 0 && rest[0] !== undefined && !rest[0].startsWith('-')) {
    if (!spec.subcommands.has(rest[0])) {
      return [`unknown command ${JSON.stringify([...path, rest[0]].join(' '))}`];
    }
    path.push(rest[0]);
    rest = rest.slice(1);
    spec = await helpOf(path);
  }
  if (spec.subcommands.size > 0 && path.length > 0) {
    return [`${JSON.stringify(path.join(' '))} needs one of: ${[...spec.subcommands].join(', ')}`];
  }
  const name = path.join(' ') || '(no command)';
  const problems: string[] = [];
  let positional = 0;
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (!word.startsWith('-')) {
      positional++;
      continue;
    }
    const [flag, inline] = word.split(/=(.*)/s, 2) as [string, string | undefined];
    const option = spec.options.get(flag);
    if (!option) {
      problems.push(`${name}: no option ${flag}`);
      continue;
    }
    let value = inline;
    if (value === undefined && option.value !== 'none') {
      const next = rest[i + 1];
      if (next !== undefined && !next.startsWith('-')) {
        value = next;
        i++;
      } else if (option.value === 'required') {
        problems.push(`${name}: ${flag} needs a value`);
      }
    }
    if (option.choices && value !== undefined && !option.choices.includes(value)) {
      problems.push(`${name}: ${flag} ${value} is not one of ${option.choices.join(', ')}`);
    }
  }
  if (positional < spec.required || positional > spec.max) {
    problems.push(
      `${name}: ${positional} argument(s), wants ${spec.required}${spec.max === spec.required ? '' : ` to ${spec.max}`}`,
    );
  }
  return problems;
}

describe('README commands', () => {
  const help = new Map<string, Promise<CommandSpec>>();
  const helpOf = (path: string[]): Promise<CommandSpec> => {
    const key = path.join(' ');
    let spec = help.get(key);
    if (!spec) {
      spec = runCli([...path, '--help']).then((result) => {
        if (result.code !== 0) throw new Error(`${key} --help exited ${result.code}`);
        return parseHelp(result.stdout);
      });
      help.set(key, spec);
    }
    return spec;
  };

  beforeAll(() => ensureBuilt(), BUILD_TIMEOUT_MS);

  it('reads options, values, choices and arguments from --help', async () => {
    const tools = await helpOf(['tools']);
    expect(tools.options.get('--key-file')).toEqual({value: 'required'});
    expect(tools.options.get('--gcloud')).toEqual({value: 'optional'});
    expect(tools.options.get('--json')).toEqual({value: 'none'});
    expect(tools.options.get('--header')?.choices).toContain('x-serverless-authorization');
    expect(tools.options.has('-h')).toBe(true);
    expect([tools.required, tools.max]).toEqual([1, 1]);
    expect((await helpOf([])).subcommands).toEqual(
      new Set(['token', 'tools', 'call', 'proxy', 'doctor', 'emulator', 'demo', 'a2a']),
    );
    expect((await helpOf(['a2a'])).subcommands).toEqual(new Set(['card', 'send']));
  });

  it('finds a made-up command, option, value or argument', async () => {
    const check = (line: string) => problemsWith(cliArgs(shellWords(line)[0]!)!, helpOf);
    expect(await check('npx mcp-google-auth tools https://x.run.app/mcp --no-such-flag')).toEqual([
      'tools: no option --no-such-flag',
    ]);
    expect(await check('mcp-google-auth frobnicate')).toEqual(['unknown command "frobnicate"']);
    expect(await check('npx -y mcp-google-auth a2a')).toEqual(['"a2a" needs one of: card, send']);
    expect(await check('npx mcp-google-auth a2a poke https://x')).toEqual([
      'unknown command "a2a poke"',
    ]);
    expect(await check('mcp-google-auth tools https://x --header cookie')).toEqual([
      'tools: --header cookie is not one of authorization, x-serverless-authorization, proxy-authorization',
    ]);
    expect(await check('mcp-google-auth call https://x')).toEqual(['call: 1 argument(s), wants 2']);
    expect(await check('mcp-google-auth tools https://x --audience')).toEqual([
      'tools: --audience needs a value',
    ]);
    expect(await check('X=1 npx mcp-google-auth tools https://x --gcloud me@example.com')).toEqual(
      [],
    );
  });

  it('shows only commands and options that exist', async () => {
    const shown = shownCommands();
    // Transcripts, install lines, gcloud lines and the desktop clients' configurations.
    expect(shown.length).toBeGreaterThanOrEqual(20);
    expect(new Set(shown.map(({args}) => args[0]))).toEqual(
      new Set(['--version', 'emulator', 'tools', 'proxy', 'doctor', 'call', 'token', 'a2a']),
    );
    const problems: string[] = [];
    for (const {line, args} of shown) {
      for (const problem of await problemsWith(args, helpOf)) {
        problems.push(`README.md:${line}: mcp-google-auth ${args.join(' ')}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
