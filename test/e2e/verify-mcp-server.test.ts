/**
 * End to end: MCP SDK servers guarded by this package's verifier, called by the MCP SDK client
 * over loopback with ID tokens minted by the Google emulator.
 * - server A: express + the SDK's `requireBearerAuth({verifier: googleIdTokenVerifier(...)})`
 * - server B: plain node:http + `requireGoogleIdToken(...)`
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {IncomingMessage, ServerResponse} from 'node:http';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {requireBearerAuth} from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import {createMcpExpressApp} from '@modelcontextprotocol/sdk/server/express.js';
import {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js';
import {StreamableHTTPServerTransport} from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type {AuthInfo} from '@modelcontextprotocol/sdk/server/auth/types.js';
import {startCloudRunGateway, startGoogleEmulator} from '../../src/emulator/index.js';
import type {CloudRunGateway, GoogleEmulator} from '../../src/emulator/index.js';
import {googleIdTokenVerifier, requireGoogleIdToken} from '../../src/verify/index.js';

const ALLOWED = 'caller@emulator-project.iam.gserviceaccount.com';
const OTHER = 'stranger@emulator-project.iam.gserviceaccount.com';

interface Running {
  origin: string;
  close(): Promise<void>;
}

/** Answers one MCP request with a fresh stateless server whose `whoami` tool reports `authInfo`. */
async function answerMcp(
  req: IncomingMessage & {auth?: AuthInfo; body?: unknown},
  res: ServerResponse,
): Promise<void> {
  const server = new McpServer({name: 'verify-e2e', version: '1.0.0'});
  server.registerTool('whoami', {description: 'The verified caller'}, async (extra) => ({
    content: [
      {type: 'text', text: `${extra.authInfo?.clientId} until ${extra.authInfo?.expiresAt}`},
    ],
  }));
  const transport = new StreamableHTTPServerTransport({sessionIdGenerator: undefined});
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Running> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let emulator: GoogleEmulator;
let sdkGuarded: Running;
let ourGuarded: Running;

beforeAll(async () => {
  emulator = await startGoogleEmulator();

  // A: the SDK's bearer middleware with our OAuthTokenVerifier. The audience is the server's own origin.
  const app = createMcpExpressApp();
  sdkGuarded = await listen(app);
  const verifier = googleIdTokenVerifier({
    audience: sdkGuarded.origin,
    jwksUrl: emulator.jwksUrl,
    allowedEmails: [ALLOWED],
  });
  app.post(
    '/mcp',
    requireBearerAuth({verifier}),
    (req: IncomingMessage, res: ServerResponse) => void answerMcp(req, res),
  );

  // B: plain node:http with our guard.
  const late: {guard?: ReturnType<typeof requireGoogleIdToken>} = {};
  ourGuarded = await listen(async (req, res) => {
    if (!late.guard || !(await late.guard(req, res))) return;
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    await answerMcp(req, res);
  });
  late.guard = requireGoogleIdToken({
    audience: ourGuarded.origin,
    jwksUrl: emulator.jwksUrl,
    allowedEmails: [ALLOWED],
  });
});

afterAll(async () => {
  await Promise.all([sdkGuarded?.close(), ourGuarded?.close()]);
  await emulator?.close();
});

/** Connects an MCP SDK client with `headers`, calls `whoami`, and returns its text. */
async function whoami(origin: string, headers: Record<string, string>): Promise<string> {
  const client = new Client({name: 'verify-e2e-client', version: '1.0.0'});
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', origin), {
    requestInit: {headers},
  });
  try {
    await client.connect(transport);
    const result = await client.callTool({name: 'whoami', arguments: {}});
    const [first] = result.content as Array<{type: string; text: string}>;
    return first?.text ?? '';
  } finally {
    await client.close();
  }
}

/** The HTTP status the client saw when the server refused it. */
async function refusal(
  origin: string,
  headers: Record<string, string>,
): Promise<number | undefined> {
  try {
    await whoami(origin, headers);
  } catch (error) {
    expect(error).toBeInstanceOf(StreamableHTTPError);
    return (error as StreamableHTTPError).code;
  }
  return 200;
}

describe.each([
  ['requireBearerAuth + googleIdTokenVerifier (express)', () => sdkGuarded],
  ['requireGoogleIdToken (node:http)', () => ourGuarded],
])('an MCP server guarded by %s', (_name, server) => {
  it('serves a caller with a valid emulator token and hands the verified identity to the tool', async () => {
    const token = await emulator.mintIdToken({audience: server().origin, email: ALLOWED});
    const text = await whoami(server().origin, {Authorization: `Bearer ${token}`});
    expect(text).toMatch(new RegExp(`^${ALLOWED} until \\d+$`));
  });

  it('refuses a caller without a token with 401', async () => {
    expect(await refusal(server().origin, {})).toBe(401);
  });

  it('refuses a token for another audience with 401', async () => {
    const token = await emulator.mintIdToken({
      audience: 'https://elsewhere.a.run.app',
      email: ALLOWED,
    });
    expect(await refusal(server().origin, {Authorization: `Bearer ${token}`})).toBe(401);
  });

  it('refuses an expired token with 401', async () => {
    const token = await emulator.mintIdToken({
      audience: server().origin,
      email: ALLOWED,
      issuedAt: Math.floor(Date.now() / 1000) - 7200,
      lifetimeSeconds: 3600,
    });
    expect(await refusal(server().origin, {Authorization: `Bearer ${token}`})).toBe(401);
  });

  it('refuses a forged token with 401', async () => {
    const token = await emulator.mintIdToken({audience: server().origin, email: ALLOWED});
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(
      JSON.stringify({aud: server().origin, email: ALLOWED, iss: 'https://accounts.google.com'}),
    ).toString('base64url');
    expect(
      await refusal(server().origin, {Authorization: `Bearer ${header}.${payload}.${signature}`}),
    ).toBe(401);
  });

  it('refuses a valid token of a principal that is not allowed with 403', async () => {
    const token = await emulator.mintIdToken({audience: server().origin, email: OTHER});
    expect(await refusal(server().origin, {Authorization: `Bearer ${token}`})).toBe(403);
  });
});

it('requireGoogleIdToken reads X-Serverless-Authorization and leaves Authorization to the app', async () => {
  const token = await emulator.mintIdToken({audience: ourGuarded.origin, email: ALLOWED});
  const text = await whoami(ourGuarded.origin, {
    'X-Serverless-Authorization': `Bearer ${token}`,
    Authorization: 'Basic YXBwOmtleQ==',
  });
  expect(text.startsWith(ALLOWED)).toBe(true);
});

describe('an MCP server behind the emulated IAP, guarded by requireGoogleIdToken({front: "iap"})', () => {
  const IAP_CLIENT_ID = '123456789012-iap.apps.googleusercontent.com';
  let guarded: Running;
  let iap: CloudRunGateway;

  beforeAll(async () => {
    const guard = requireGoogleIdToken({
      front: 'iap',
      audience: emulator.iapAudience,
      jwksUrl: emulator.iapJwksUrl,
      allowedEmails: [ALLOWED],
    });
    guarded = await listen(async (req, res) => {
      if (!(await guard(req, res))) return;
      await answerMcp(req, res);
    });
    iap = await startCloudRunGateway({
      upstream: guarded.origin,
      jwksUrl: emulator.jwksUrl,
      mode: 'iap',
      audiences: [IAP_CLIENT_ID],
      iapIssuer: emulator,
    });
  });
  afterAll(async () => {
    await iap?.close();
    await guarded?.close();
  });

  it('hands the tools the user IAP vouched for, whatever Authorization says', async () => {
    const token = await emulator.mintIdToken({audience: IAP_CLIENT_ID, email: ALLOWED});
    const [header, payload] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as object;
    const forged = `${header}.${Buffer.from(JSON.stringify({...claims, email: OTHER})).toString('base64url')}.SIGNATURE_REMOVED_BY_GOOGLE`;
    const text = await whoami(iap.url, {
      'Proxy-Authorization': `Bearer ${token}`,
      Authorization: `Bearer ${forged}`,
    });
    expect(text).toMatch(new RegExp(`^${ALLOWED} until \\d+$`));
  });

  it('refuses a caller IAP let through but the server does not allow, with 403', async () => {
    const token = await emulator.mintIdToken({audience: IAP_CLIENT_ID, email: OTHER});
    expect(await refusal(iap.url, {'Proxy-Authorization': `Bearer ${token}`})).toBe(403);
  });

  it('refuses a request that went around IAP, with 401', async () => {
    const token = await emulator.mintIdToken({audience: IAP_CLIENT_ID, email: ALLOWED});
    expect(await refusal(guarded.origin, {Authorization: `Bearer ${token}`})).toBe(401);
  });
});
