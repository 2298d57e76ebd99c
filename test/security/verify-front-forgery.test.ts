/**
 * Attack: identity forgery behind Google's front (issue 9, item 2). Cloud Run checks
 * `X-Serverless-Authorization` when present and passes `Authorization` through untouched; IAP
 * checks `Proxy-Authorization` first and does the same. An invoker with a valid token of their
 * own puts it where the front looks, and puts a forged token for `admin@` (signature replaced
 * by `SIGNATURE_REMOVED_BY_GOOGLE`, as the front does) in `Authorization`. A server that trusts
 * the front's signature removal while reading `Authorization` takes the invoker for admin.
 *
 * Each server below sits behind the emulated front and answers with the identity it verified.
 * Whatever the configuration, the forged identity must never come through; configurations that
 * cannot know which header the front checked are refused when they are built.
 */
import {createServer} from 'node:http';
import type {IncomingMessage, RequestListener, ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {generateKeyPairSync, sign as cryptoSign} from 'node:crypto';
import {requireBearerAuth} from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import {createMcpExpressApp} from '@modelcontextprotocol/sdk/server/express.js';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startCloudRunGateway, startGoogleEmulator} from '../../src/emulator/index.js';
import type {CloudRunGateway, GoogleEmulator} from '../../src/emulator/index.js';
import {
  createIdTokenVerifier,
  googleIdTokenVerifier,
  requireGoogleIdToken,
  SIGNATURE_REMOVED_BY_GOOGLE,
} from '../../src/verify/index.js';
import type {
  GoogleIdTokenVerifierOptions,
  RequestWithAuth,
  RequireGoogleIdTokenOptions,
} from '../../src/verify/index.js';

const INVOKER = 'invoker@emulator-project.iam.gserviceaccount.com';
const ADMIN = 'admin@emulator-project.iam.gserviceaccount.com';
const IAP_CLIENT_ID = '123456789012-iapclient.apps.googleusercontent.com';

interface App {
  origin: string;
  close(): Promise<void>;
}

async function listen(handler: RequestListener): Promise<App> {
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

function whoami(req: RequestWithAuth, res: ServerResponse): void {
  res.writeHead(200, {'content-type': 'application/json'});
  res.end(JSON.stringify({caller: req.auth?.clientId ?? null}));
}

/** A server guarded by our middleware; the options are given once the front's URL is known. */
async function guardedByMiddleware(): Promise<
  App & {configure(o: RequireGoogleIdTokenOptions): void}
> {
  let guard: ReturnType<typeof requireGoogleIdToken> | undefined;
  const app = await listen(async (req: IncomingMessage, res: ServerResponse) => {
    if (!guard || !(await guard(req, res))) return;
    whoami(req, res);
  });
  return {...app, configure: (options) => (guard = requireGoogleIdToken(options))};
}

/** The same token with another payload and the signature the front puts in its place. */
function forgeStripped(token: string, changes: Record<string, unknown>): string {
  const [header, payload] = token.split('.') as [string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as object;
  const forged = Buffer.from(JSON.stringify({...claims, ...changes})).toString('base64url');
  return `${header}.${forged}.${SIGNATURE_REMOVED_BY_GOOGLE}`;
}

async function callerThrough(
  url: string,
  headers: Record<string, string>,
): Promise<{status: number; caller: string | null}> {
  const response = await fetch(url, {headers});
  const text = await response.text();
  let caller: string | null = null;
  try {
    caller = (JSON.parse(text) as {caller?: string | null}).caller ?? null;
  } catch {
    // a refusal page
  }
  return {status: response.status, caller};
}

let emu: GoogleEmulator;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  emu = await startGoogleEmulator();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await emu?.close();
});

describe('behind Cloud Run (X-Serverless-Authorization checked, Authorization passed through)', () => {
  it('the MCP SDK bearer path cannot be told to trust the front: it would read Authorization', () => {
    // Plain JavaScript (or an old type) can still pass it: it is refused at run time.
    const options = {audience: 'https://svc.example.com', trustCloudRunFront: true};
    const build = () => googleIdTokenVerifier(options as GoogleIdTokenVerifierOptions);
    expect(build).toThrow(TypeError);
    expect(build).toThrow(/trustCloudRunFront/);
    expect(build).toThrow(/requireGoogleIdToken/);
  });

  it('neither is a bare token verifier, which cannot see the headers either', () => {
    const options = {audience: 'https://svc.example.com', trustCloudRunFront: true};
    const build = () => createIdTokenVerifier(options as GoogleIdTokenVerifierOptions);
    expect(build).toThrow(TypeError);
    expect(build).toThrow(/front: 'cloud-run'/);
  });

  it('no server configuration takes the invoker for the forged admin', async () => {
    // SDK path: express + requireBearerAuth + our OAuthTokenVerifier, if it can be built at all.
    const sdk = createMcpExpressApp();
    const sdkApp = await listen(sdk);
    const ours = await guardedByMiddleware();
    closers.push(sdkApp.close, ours.close);
    const [sdkFront, ourFront] = (await Promise.all(
      [sdkApp, ours].map((app) =>
        startCloudRunGateway({upstream: app.origin, jwksUrl: emu.jwksUrl}),
      ),
    )) as [CloudRunGateway, CloudRunGateway];
    closers.push(sdkFront.close, ourFront.close);

    let sdkBuilt = false;
    try {
      const options = {audience: sdkFront.url, trustCloudRunFront: true};
      const verifier = googleIdTokenVerifier(options as GoogleIdTokenVerifierOptions);
      sdk.get('/', requireBearerAuth({verifier}), (req: RequestWithAuth, res: ServerResponse) =>
        whoami(req, res),
      );
      sdkBuilt = true;
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
    }
    ours.configure({audience: ourFront.url, front: 'cloud-run'});

    for (const front of [...(sdkBuilt ? [sdkFront] : []), ourFront]) {
      const own = await emu.mintIdToken({audience: front.url, email: INVOKER});
      const seen = await callerThrough(front.url, {
        'x-serverless-authorization': `Bearer ${own}`,
        authorization: `Bearer ${forgeStripped(own, {email: ADMIN})}`,
      });
      expect(seen.caller, front === sdkFront ? 'SDK path' : 'requireGoogleIdToken').not.toBe(ADMIN);
    }
    // Our middleware reads the header the front checked: the invoker, as Cloud Run vouched.
    const own = await emu.mintIdToken({audience: ourFront.url, email: INVOKER});
    expect(
      await callerThrough(ourFront.url, {
        'x-serverless-authorization': `Bearer ${own}`,
        authorization: `Bearer ${forgeStripped(own, {email: ADMIN})}`,
      }),
    ).toEqual({status: 200, caller: INVOKER});
  });
});

describe('behind IAP (Proxy-Authorization checked, Authorization passed through)', () => {
  async function behindIap(options: () => RequireGoogleIdTokenOptions) {
    const app = await guardedByMiddleware();
    closers.push(app.close);
    const front = await startCloudRunGateway({
      upstream: app.origin,
      jwksUrl: emu.jwksUrl,
      mode: 'iap',
      audiences: [IAP_CLIENT_ID],
      iapIssuer: emu,
    });
    closers.push(front.close);
    app.configure(options());
    return {app, front};
  }

  async function attack(front: CloudRunGateway) {
    const own = await emu.mintIdToken({audience: IAP_CLIENT_ID, email: INVOKER});
    return callerThrough(front.url, {
      'proxy-authorization': `Bearer ${own}`,
      authorization: `Bearer ${forgeStripped(own, {email: ADMIN})}`,
    });
  }

  it('a server trusting the front refuses a stripped Authorization that came through IAP', async () => {
    // A server that believes it sits behind Cloud Run, deployed behind IAP.
    const {front} = await behindIap(() => ({audience: IAP_CLIENT_ID, trustCloudRunFront: true}));
    const seen = await attack(front);
    expect(seen.caller).not.toBe(ADMIN);
    expect(seen.status).toBe(401);
  });

  describe("IAP mode: the identity comes from IAP's signed assertion only", () => {
    let iapMode: Awaited<ReturnType<typeof behindIap>>;
    beforeAll(async () => {
      iapMode = await behindIap(() => ({
        front: 'iap',
        audience: emu.iapAudience,
        jwksUrl: emu.iapJwksUrl,
      }));
    });

    it('takes the caller IAP vouched for, not the forged Authorization', async () => {
      expect(await attack(iapMode.front)).toEqual({status: 200, caller: INVOKER});
    });

    it('refuses a request that bypassed IAP, whatever identity headers it forged', async () => {
      const own = await emu.mintIdToken({audience: IAP_CLIENT_ID, email: INVOKER});
      const {privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'});
      const header = Buffer.from(
        JSON.stringify({alg: 'ES256', typ: 'JWT', kid: 'forged'}),
      ).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const payload = Buffer.from(
        JSON.stringify({
          iss: 'https://cloud.google.com/iap',
          aud: emu.iapAudience,
          sub: 'accounts.google.com:1',
          email: ADMIN,
          iat: now,
          exp: now + 600,
        }),
      ).toString('base64url');
      const signature = cryptoSign('sha256', Buffer.from(`${header}.${payload}`), {
        key: privateKey,
        dsaEncoding: 'ieee-p1363',
      }).toString('base64url');
      for (const headers of <Record<string, string>[]>[
        {authorization: `Bearer ${own}`},
        {authorization: `Bearer ${forgeStripped(own, {email: ADMIN})}`},
        {'x-goog-authenticated-user-email': `accounts.google.com:${ADMIN}`},
        {'x-goog-iap-jwt-assertion': `${header}.${payload}.${signature}`},
        {'x-goog-iap-jwt-assertion': `${header}.${payload}.${SIGNATURE_REMOVED_BY_GOOGLE}`},
      ]) {
        const seen = await callerThrough(iapMode.app.origin, headers);
        expect(seen, JSON.stringify(Object.keys(headers))).toEqual({status: 401, caller: null});
      }
    });
  });
});
