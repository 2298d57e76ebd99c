/**
 * What `mcp-google-auth call <url> <tool>` does: calls one tool and prints its text content.
 */
import type {CallToolResult, Tool} from '@modelcontextprotocol/sdk/types.js';
import {
  authFromOptions,
  CliError,
  createLogger,
  ExitCode,
  parseTargetUrl,
  type CommonOptions,
} from '../common.js';
import {printJson, printLines} from '../format.js';
import {withMcpSession} from '../mcp-session.js';
import {listAllTools} from './tools.js';

/** Options of the `call` subcommand. */
export interface CallCommandOptions extends CommonOptions {
  /** `--args JSON`: the arguments object. */
  args?: string;
  /** `--arg key=value` (repeatable): one argument; merged over `--args`. */
  arg?: string[];
}

/** The `--args` object, checked. */
export function parseArgsJson(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError('--args is not valid JSON.', ExitCode.USAGE, {
      hint: `Quote it for the shell, e.g. --args '{"a": 1, "b": 2}'.`,
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError('--args must be a JSON object.', ExitCode.USAGE, {
      hint: `e.g. --args '{"text": "hello"}'.`,
    });
  }
  return value as Record<string, unknown>;
}

/**
 * Applies `--arg key=value` pairs. A value becomes what the tool's input schema declares
 * for that property (number, integer, boolean, object, array; string otherwise); without a
 * schema entry, JSON when it parses, else the string.
 */
export function applyArgPairs(
  base: Record<string, unknown>,
  pairs: readonly string[],
  schema: Tool['inputSchema'] | undefined,
): Record<string, unknown> {
  const out = {...base};
  const properties = (schema?.properties ?? {}) as Record<string, {type?: unknown}>;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new CliError(`--arg ${JSON.stringify(pair)} is not key=value.`, ExitCode.USAGE, {
        hint: 'e.g. --arg a=1 --arg text=hello.',
      });
    }
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    out[key] = convert(key, raw, properties[key]?.type);
  }
  return out;
}

function convert(key: string, raw: string, type: unknown): unknown {
  const types = Array.isArray(type) ? type : type === undefined ? [] : [type];
  const bad = (what: string): CliError =>
    new CliError(`--arg ${key}=${JSON.stringify(raw)}: the tool expects ${what}.`, ExitCode.USAGE);
  if (types.includes('string')) return raw;
  if (types.includes('integer') || types.includes('number')) {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw bad('a number');
    if (types.includes('integer') && !types.includes('number') && !Number.isInteger(n))
      throw bad('an integer');
    return n;
  }
  if (types.includes('boolean')) {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw bad('true or false');
  }
  if (types.includes('object') || types.includes('array')) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      throw bad(`JSON (${types.join(' or ')})`);
    }
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** The text a person reads for a tool result: text parts as they are, other parts described. */
export function resultText(result: CallToolResult): string {
  const parts: string[] = [];
  for (const item of result.content ?? []) {
    switch (item.type) {
      case 'text':
        parts.push(item.text);
        break;
      case 'image':
      case 'audio':
        parts.push(
          `[${item.type} ${item.mimeType}, ${Math.floor((item.data.length * 3) / 4)} bytes]`,
        );
        break;
      case 'resource':
        parts.push(
          'text' in item.resource ? String(item.resource.text) : `[resource ${item.resource.uri}]`,
        );
        break;
      case 'resource_link':
        parts.push(`[resource ${item.uri}]`);
        break;
      default:
        parts.push(`[${(item as {type: string}).type}]`);
    }
  }
  if (parts.length === 0 && result.structuredContent !== undefined) {
    parts.push(JSON.stringify(result.structuredContent, null, 2));
  }
  return parts.join('\n');
}

/** Runs `call` with its parsed arguments. */
export async function callAction(
  url: string,
  toolName: string,
  opts: CallCommandOptions,
): Promise<number> {
  const log = createLogger({verbose: opts.verbose === true});
  const target = parseTargetUrl(url);
  const base = parseArgsJson(opts.args);
  const pairs = opts.arg ?? [];
  const auth = authFromOptions(opts, url);
  const result = await withMcpSession(target, auth, log, async (client) => {
    const tools = await listAllTools(client);
    const tool = tools.find((t) => t.name === toolName);
    if (!tool) {
      const names = tools.map((t) => t.name).join(', ');
      throw new CliError(
        `The server has no tool named ${JSON.stringify(toolName)}.`,
        ExitCode.USAGE,
        {
          hint: names ? `Its tools: ${names}.` : 'It offers no tools.',
        },
      );
    }
    const args = applyArgPairs(base, pairs, tool.inputSchema);
    return (await client.callTool({name: toolName, arguments: args})) as CallToolResult;
  });
  if (opts.json) {
    printJson(result);
  } else {
    const text = resultText(result);
    if (text !== '') printLines(text);
  }
  if (result.isError) {
    log.error(`The tool ${JSON.stringify(toolName)} reported an error (isError).`);
    return ExitCode.REMOTE;
  }
  return ExitCode.OK;
}
