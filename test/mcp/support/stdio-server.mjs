// A stdio MCP server for the McpToolset tests: one tool, `echo`.
import {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js';
import {StdioServerTransport} from '@modelcontextprotocol/sdk/server/stdio.js';
import * as z from 'zod';

const server = new McpServer({name: 'stdio-test', version: '1.0.0'});
server.registerTool(
  'echo',
  {description: 'Echoes text.', inputSchema: {text: z.string()}},
  ({text}) => ({
    content: [{type: 'text', text: `stdio:${text}`}],
  }),
);
await server.connect(new StdioServerTransport());
