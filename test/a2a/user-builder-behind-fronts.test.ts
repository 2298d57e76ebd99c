/**
 * googleIdTokenUserBuilder behind the emulated Google fronts: the executor sees the identity
 * the front checked, never a forged token in a header the front passed through untouched
 * (an invoker's own token where the front looks, a stripped token for admin@ in
 * `Authorization`).
 */
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';
import {startCloudRunGateway, startGoogleEmulator} from '../../src/emulator/index.js';
import type {CloudRunGateway, GoogleEmulator} from '../../src/emulator/index.js';
import {SIGNATURE_REMOVED_BY_GOOGLE, googleIdTokenUserBuilder} from '../../src/verify/index.js';
import type {
  GoogleIdTokenUserBuilder,
  GoogleIdTokenUserBuilderOptions,
} from '../../src/verify/index.js';
import {jsonRpcSend, startSdkServer} from './support/sdk-server.js';
import type {SdkServer} from './support/sdk-server.js';

const INVOKER = 'invoker@emulator-project.iam.gserviceaccount.com';
const ADMIN = 'admin@emulator-project.iam.gserviceaccount.com';
const IAP_CLIENT_ID = '123456789012-iapclient.apps.googleusercontent.com';

/** The same token with another payload and the signature a front puts in its place. */
function forgeStripped(token: string, changes: Record<string, unknown>): string {
  const [header, payload] = token.split('.') as [string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as object;
  const forged = Buffer.from(JSON.stringify({...claims, ...changes})).toString('base64url');
  return `${header}.${forged}.${SIGNATURE_REMOVED_BY_GOOGLE}`;
}

/** An SDK server whose builder is set once the front's URL is known. */
async function lateServer(): Promise<SdkServer & {use(o: GoogleIdTokenUserBuilderOptions): void}> {
  let builder: GoogleIdTokenUserBuilder | undefined;
  const server = await startSdkServer({
    userBuilder: (req) => (builder as GoogleIdTokenUserBuilder)(req),
    guard: (req, res, next) => void (builder as GoogleIdTokenUserBuilder).guard(req, res, next),
  });
  return {...server, use: (options) => (builder = googleIdTokenUserBuilder(options))};
}

async function send(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${url}/jsonrpc`, {
    method: 'POST',
    headers: {'content-type': 'application/json', ...headers},
    body: jsonRpcSend('who am I?'),
  });
}

let emu: GoogleEmulator;
let errors: ReturnType<typeof vi.spyOn>;
beforeAll(async () => {
  emu = await startGoogleEmulator();
  errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterAll(async () => {
  errors.mockRestore();
  await emu.close();
});

describe("front: 'cloud-run'", () => {
  let server: Awaited<ReturnType<typeof lateServer>>;
  let front: CloudRunGateway;
  beforeAll(async () => {
    server = await lateServer();
    front = await startCloudRunGateway({upstream: server.url, jwksUrl: emu.jwksUrl});
    server.use({audience: front.url, jwksUrl: emu.jwksUrl, front: 'cloud-run'});
  });
  afterAll(async () => {
    await front.close();
    await server.close();
  });

  it('takes the caller from the header the front checked, not from a forged Authorization', async () => {
    const own = await emu.mintIdToken({audience: front.url, email: INVOKER});
    const response = await send(front.url, {
      'x-serverless-authorization': `Bearer ${own}`,
      authorization: `Bearer ${forgeStripped(own, {email: ADMIN})}`,
    });
    expect(response.status).toBe(200);
    expect(server.executed.splice(0)).toEqual([INVOKER]);
  });

  it('refuses a stripped token that came with Proxy-Authorization (IAP may have checked that one instead)', async () => {
    const own = await emu.mintIdToken({audience: front.url, email: INVOKER});
    const response = await send(server.url, {
      authorization: `Bearer ${forgeStripped(own, {email: ADMIN})}`,
      'proxy-authorization': `Bearer ${own}`,
    });
    expect(response.status).toBe(401);
    expect(server.executed).toEqual([]);
  });
});

describe("front: 'none' (the default)", () => {
  it('a stripped token is refused with 401 bad_signature', async () => {
    const authentication = googleIdTokenUserBuilder({
      audience: 'https://a.example',
      jwksUrl: emu.jwksUrl,
    });
    const server = await startSdkServer({userBuilder: authentication, guard: authentication.guard});
    try {
      const own = await emu.mintIdToken({audience: 'https://a.example', email: INVOKER});
      const response = await send(server.url, {authorization: `Bearer ${forgeStripped(own, {})}`});
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        'Bearer error="invalid_token", error_description="bad_signature"',
      );
      expect(server.executed).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe("front: 'iap'", () => {
  let server: Awaited<ReturnType<typeof lateServer>>;
  let iap: CloudRunGateway;
  beforeAll(async () => {
    server = await lateServer();
    server.use({
      front: 'iap',
      audience: emu.iapAudience,
      jwksUrl: emu.iapJwksUrl,
      allowedEmails: [INVOKER],
    });
    iap = await startCloudRunGateway({
      upstream: server.url,
      jwksUrl: emu.jwksUrl,
      mode: 'iap',
      audiences: [IAP_CLIENT_ID],
      iapIssuer: emu,
    });
  });
  afterAll(async () => {
    await iap.close();
    await server.close();
  });

  it('the user is the one IAP signed for, whatever Authorization says', async () => {
    const token = await emu.mintIdToken({audience: IAP_CLIENT_ID, email: INVOKER});
    const response = await send(iap.url, {
      'proxy-authorization': `Bearer ${token}`,
      authorization: `Bearer ${forgeStripped(token, {email: ADMIN})}`,
    });
    expect(response.status).toBe(200);
    expect(server.executed.splice(0)).toEqual([INVOKER]);
  });

  it('a request that went around IAP gets 401; one IAP let through but not allowed gets 403', async () => {
    const token = await emu.mintIdToken({audience: IAP_CLIENT_ID, email: INVOKER});
    expect((await send(server.url, {authorization: `Bearer ${token}`})).status).toBe(401);
    const other = await emu.mintIdToken({audience: IAP_CLIENT_ID, email: ADMIN});
    expect((await send(iap.url, {'proxy-authorization': `Bearer ${other}`})).status).toBe(403);
    expect(server.executed).toEqual([]);
  });
});

describe('options', () => {
  it('a configuration that cannot know which header its front checked is refused when built', () => {
    expect(() =>
      googleIdTokenUserBuilder({
        audience: 'https://a.example',
        trustCloudRunFront: true,
        front: 'none',
      }),
    ).toThrow(/GoogleIdTokenUserBuilderOptions\.trustCloudRunFront: true means front: 'cloud-run'/);
    expect(() =>
      googleIdTokenUserBuilder({audience: 'https://a.example', front: 'nginx'} as never),
    ).toThrow(/GoogleIdTokenUserBuilderOptions\.front must be 'none', 'cloud-run' or 'iap'/);
  });
});
