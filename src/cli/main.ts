#!/usr/bin/env node
import {createRequire} from 'node:module';
import {Command} from 'commander';

const require = createRequire(import.meta.url);
const {version} = require('../../package.json') as {version: string};

const program = new Command('mcp-google-auth')
  .description('Google identity for agent tools: ID tokens for MCP servers on Cloud Run, IAP and Cloud Run functions.')
  .version(version);

await program.parseAsync(process.argv);
