/**
 * What `mcp-google-auth tools <url>` does: lists the tools of an MCP server behind Google's
 * front.
 */
import type {Tool} from '@modelcontextprotocol/sdk/types.js';
import {authFromOptions, createLogger, parseTargetUrl, type CommonOptions} from '../common.js';
import {printJson, printLines} from '../format.js';
import {withMcpSession} from '../mcp-session.js';

/** Every tool of the server, following `nextCursor` pages. */
export async function listAllTools(client: {
  listTools(params?: {cursor?: string}): Promise<{tools: Tool[]; nextCursor?: string | undefined}>;
}): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const result = await client.listTools(cursor === undefined ? undefined : {cursor});
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (!cursor) break;
  }
  return tools;
}

/** Runs `tools` with its parsed arguments. */
export async function toolsAction(url: string, opts: CommonOptions): Promise<void> {
  const log = createLogger({verbose: opts.verbose === true});
  const target = parseTargetUrl(url);
  const auth = authFromOptions(opts, url);
  const tools = await withMcpSession(target, auth, log, (client) => listAllTools(client));
  if (opts.json) {
    printJson({tools});
    return;
  }
  if (tools.length === 0) {
    log.info(`${target.href} offers no tools.`);
    return;
  }
  const width = Math.min(32, Math.max(...tools.map((t) => t.name.length)));
  printLines(
    ...tools.map((tool) => {
      const first =
        (tool.description ?? '')
          .split('\n')
          .find((line) => line.trim() !== '')
          ?.trim() ?? '';
      return first ? `${tool.name.padEnd(width)}  ${first}` : tool.name;
    }),
  );
}
