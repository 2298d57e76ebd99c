/**
 * `mcp-google-auth demo` (what `npm start` runs): the original bug and its fix, live, on
 * 127.0.0.1. It starts the Google auth emulator, a demo MCP server and a Cloud Run front,
 * then (a) calls through the front with a service account on the access-token path and gets
 * 401, (b) calls with `useIdToken: true`, lists the tools, calls `add` and `whoami`, and
 * (c) shows the figures. Exits 1 when any outcome is not the expected one, so it doubles as
 * a smoke test.
 */
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {CallToolResult} from '@modelcontextprotocol/sdk/types.js';
import {parseAuthCredential} from '../../credentials/parse.js';
import type {AuthCredential} from '../../credentials/types.js';
import {googleAuthFetch} from '../../http/google-auth-fetch.js';
import {TokenCache} from '../../tokens/token-cache.js';
import {CliError, ExitCode} from '../exit-codes.js';
import {marksFor, printLines} from '../format.js';
import {startLocalStack, type LocalStack} from '../local-stack.js';
import {CLIENT_INFO} from '../mcp-session.js';
import {quietWarning} from '../warnings.js';
import {resultText} from './call.js';

/** The demo gives up after this long, in milliseconds (it must finish within 10 seconds). */
const DEMO_DEADLINE_MS = 9_000;

/** Runs `demo`. */
export async function demoAction(): Promise<number> {
  // The demo owns its environment: everything points at the emulator it starts, and the
  // explicit key means ADC (and gcloud) are never consulted.
  quietWarning('MCP_GOOGLE_AUTH_EMULATOR');
  let stack: LocalStack | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const timer = setTimeout(
      () => reject(new CliError('The demo did not finish within 9 seconds.', ExitCode.REMOTE)),
      DEMO_DEADLINE_MS,
    );
    timer.unref();
  });
  try {
    stack = await Promise.race([startLocalStack(), deadline]);
    for (const [name, value] of Object.entries(stack.emulator.env())) process.env[name] = value;
    return await Promise.race([runDemo(stack), deadline]);
  } finally {
    await stack?.close();
  }
}

async function runDemo(stack: LocalStack): Promise<number> {
  const started = performance.now();
  const marks = marksFor(process.stdout);
  const email = stack.key.email;
  const front = stack.gateway.url;
  const out = (...lines: string[]): void => printLines(...lines);
  const failures: string[] = [];
  const expect = (ok: boolean, what: string): boolean => {
    if (!ok) failures.push(what);
    return ok;
  };
  // One cache per step, so each step's token fetches can be counted.
  const bugCache = new TokenCache();
  const fixCache = new TokenCache();
  const key = stack.key.json;
  const credential = (useIdToken: boolean): AuthCredential =>
    parseAuthCredential(
      {authType: 'serviceAccount', serviceAccount: {serviceAccountCredential: key, useIdToken}},
      {requireAudience: false},
    );

  out(
    'mcp-google-auth demo: a service account calls an MCP server behind Cloud Run ("Require authentication").',
    'Everything runs on 127.0.0.1; Google is played by the offline emulator.',
    '',
    `  Google auth emulator   ${stack.emulator.url}`,
    `  Cloud Run front        ${front}   (checks Google ID tokens; audience ${front})`,
    `  MCP server behind it   ${stack.mcpUrl}`,
    `  Service account        ${email}`,
    '',
  );

  // (a) The original bug.
  out('1. The bug: the service account on the access-token path (useIdToken: false)');
  const bug = await connect(stack.mcpUrl, credential(false), bugCache);
  if (bug.status === 401) {
    out(
      `   ${marks.expected} The front answered 401 Unauthorized: this is the bug; no tool could be listed.`,
      '     Why: without useIdToken the exchanger fetches an OAuth2 access token (for Google APIs).',
      '     Cloud Run only accepts an OIDC ID token signed by Google whose aud is the service URL,',
      '     so the request never reaches the MCP server.',
    );
  } else {
    expect(false, `the access-token call should get 401, got ${bug.status ?? 'no refusal'}`);
    out(`   ${marks.fail} Expected 401 from the front, got ${bug.status ?? 'a connection'}.`);
  }
  await bug.close();
  out('');

  // (b) The fix.
  out(`2. The fix: useIdToken: true (the audience defaults to the URL's origin, ${front})`);
  const fixed = await connect(stack.mcpUrl, credential(true), fixCache);
  if (!fixed.client) {
    expect(false, `the ID-token call should connect, got HTTP ${fixed.status ?? '?'}`);
    out(`   ${marks.fail} The front refused the ID token (HTTP ${fixed.status ?? '?'}).`);
  } else {
    const client = fixed.client;
    const {tools} = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(
      names.includes('add') && names.includes('whoami'),
      'tools/list should offer add and whoami',
    );
    out(`   ${marks.ok} Listed ${tools.length} tools: ${names.join(', ')}`);
    const sum = resultText(
      (await client.callTool({name: 'add', arguments: {a: 2, b: 3}})) as CallToolResult,
    );
    if (expect(sum === '5', `add(2, 3) should be 5, got ${JSON.stringify(sum)}`)) {
      out(`   ${marks.ok} add {a: 2, b: 3} = ${sum}`);
    } else {
      out(`   ${marks.fail} add {a: 2, b: 3} answered ${JSON.stringify(sum)}`);
    }
    const who = resultText(
      (await client.callTool({name: 'whoami', arguments: {}})) as CallToolResult,
    );
    if (expect(who === email, `whoami should name ${email}, got ${JSON.stringify(who)}`)) {
      out(
        `   ${marks.ok} whoami = ${who}`,
        '     (read by the server from the token the front forwarded: the service account, not a user)',
      );
    } else {
      out(`   ${marks.fail} whoami answered ${JSON.stringify(who)}, expected ${email}`);
    }
  }
  await fixed.close();
  out('');

  // (c) The figures.
  const g = stack.gateway.stats;
  const byEndpoint = stack.emulator.requests.byEndpoint;
  const tokenRequests =
    byEndpoint.token +
    byEndpoint.sts +
    byEndpoint['iam.generateIdToken'] +
    byEndpoint['iam.generateAccessToken'];
  const sessions = stack.demo.stats.sessions;
  expect(sessions === 1, `the fix should use 1 MCP session, used ${sessions}`);
  const bugFetches = bugCache.stats().fetches;
  const fixFetches = fixCache.stats().fetches;
  expect(
    fixFetches === 1,
    `step 2 should fetch 1 ID token for all its calls, fetched ${fixFetches}`,
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  out(
    '3. Figures',
    `   HTTP requests to the front   ${g.requests} (${g.forwarded} let through, ${g.invalidToken + g.revoked} refused with 401, ${g.missingToken + g.forbidden} with 403)`,
    `   Tool calls served            ${stack.demo.stats.toolCalls}`,
    `   Token requests to Google     ${tokenRequests} (step 1: ${plural(bugFetches, 'access token')}${bugFetches === 2 ? ', the 401 retried once with a fresh one' : ''}; step 2: ${plural(fixFetches, 'ID token')} for every call)`,
    `   MCP sessions                 ${sessions} (one session for the whole of step 2)`,
    '',
  );

  if (failures.length > 0) {
    for (const failure of failures) process.stderr.write(`error: demo check failed: ${failure}.\n`);
    return ExitCode.REMOTE;
  }
  out(
    `${marks.ok} Done in ${seconds} s. In your code: serviceAccount: {useDefaultCredential: true, useIdToken: true}.`,
    '  Try it by hand: npx mcp-google-auth emulator   (then the tools, call and doctor commands it prints)',
  );
  return ExitCode.OK;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

interface Connection {
  client?: Client;
  /** The HTTP status of the refusal, when the connection was refused. */
  status?: number;
  close(): Promise<void>;
}

/** Opens an MCP session to `url` through `googleAuthFetch`; a refusal is reported, not thrown. */
async function connect(
  url: string,
  authCredential: AuthCredential,
  cache: TokenCache,
): Promise<Connection> {
  let refused: number | undefined;
  const authFetch = googleAuthFetch({
    authCredential,
    cache,
    targetUrl: url,
    onWarning: () => undefined,
  });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: async (input, init) => {
      const response = await authFetch(input, init);
      if (response.status === 401 || response.status === 403) refused = response.status;
      return response;
    },
  });
  const client = new Client(CLIENT_INFO, {capabilities: {}});
  const close = async (): Promise<void> => {
    if (transport.sessionId) await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  };
  try {
    await client.connect(transport);
    return {client, close};
  } catch (error) {
    if (refused === undefined) throw error;
    return {status: refused, close};
  }
}
