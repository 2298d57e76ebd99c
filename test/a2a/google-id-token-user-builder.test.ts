/**
 * googleIdTokenUserBuilder in a real @a2a-js/sdk express server, without a front: the tokens
 * carry their signatures and the builder verifies them against the emulator's keys.
 */
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';
import {startGoogleEmulator} from '../../src/emulator/google-emulator.js';
import type {GoogleEmulator} from '../../src/emulator/google-emulator.js';
import {IdTokenVerificationError} from '../../src/verify/id-token-verification-error.js';
import {googleIdTokenUserBuilder} from '../../src/verify/index.js';
import {jsonRpcSend, restSend, startSdkServer} from './support/sdk-server.js';
import type {SdkServer} from './support/sdk-server.js';

const AUDIENCE = 'https://agent-abc.a.run.app';
const CALLER = 'caller@my-project.iam.gserviceaccount.com';
const OUTSIDER = 'outsider@other-project.iam.gserviceaccount.com';

let emu: GoogleEmulator;
beforeAll(async () => {
  emu = await startGoogleEmulator();
});
afterAll(() => emu.close());

function builder() {
  return googleIdTokenUserBuilder({
    audience: AUDIENCE,
    jwksUrl: emu.jwksUrl,
    allowedEmailDomains: ['my-project.iam.gserviceaccount.com'],
  });
}

async function post(url: string, body: string, token?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : {authorization: `Bearer ${token}`}),
    },
    body,
  });
}

describe('the problem: @a2a-js/sdk answers 500 when a user builder throws', () => {
  it('a throwing builder (as ADK bearerTokenUserBuilder does) gets a 500 without WWW-Authenticate', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const server = await startSdkServer({
      userBuilder: async () => {
        throw new Error('no credential');
      },
    });
    try {
      const response = await post(`${server.url}/jsonrpc`, jsonRpcSend('hi'));
      expect(response.status).toBe(500);
      expect(response.headers.get('www-authenticate')).toBeNull();
      expect(server.executed).toEqual([]);
    } finally {
      await server.close();
      errors.mockRestore();
    }
  });
});

describe.each([
  ['the builder alone', false],
  ['the builder behind its guard', true],
])('googleIdTokenUserBuilder: %s', (_name, withGuard) => {
  let server: SdkServer;
  let errors: ReturnType<typeof vi.spyOn>;
  beforeAll(async () => {
    errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const authentication = builder();
    server = await startSdkServer({
      userBuilder: authentication,
      ...(withGuard ? {guard: authentication.guard} : {}),
    });
  });
  afterAll(async () => {
    await server.close();
    errors.mockRestore();
  });

  it('a valid token from an allowed caller reaches the executor as its email (JSON-RPC and REST)', async () => {
    const token = await emu.mintIdToken({audience: AUDIENCE, email: CALLER});
    const rpc = await post(`${server.url}/jsonrpc`, jsonRpcSend('hi'), token);
    expect(rpc.status).toBe(200);
    expect(
      ((await rpc.json()) as {result: {parts: Array<{text: string}>}}).result.parts[0]?.text,
    ).toBe(`hello ${CALLER}`);
    const rest = await post(`${server.url}/rest/v1/message:send`, restSend('hi'), token);
    expect(rest.status).toBe(201);
    expect(server.executed.splice(0)).toEqual([CALLER, CALLER]);
  });

  it.each([
    ['jsonrpc', (url: string) => `${url}/jsonrpc`, () => jsonRpcSend('x')],
    ['rest', (url: string) => `${url}/rest/v1/message:send`, () => restSend('x')],
  ])(
    '%s: refusals answer 401/403 with WWW-Authenticate and never reach the executor',
    async (_t, endpoint, body) => {
      const url = endpoint(server.url);
      const wrongAudience = await emu.mintIdToken({
        audience: 'https://other.a.run.app',
        email: CALLER,
      });
      const outsider = await emu.mintIdToken({audience: AUDIENCE, email: OUTSIDER});
      const expired = await emu.mintIdToken({
        audience: AUDIENCE,
        email: CALLER,
        issuedAt: Math.floor(Date.now() / 1000) - 7200,
      });
      const cases: Array<[string | undefined, number, string]> = [
        [undefined, 401, 'Bearer'],
        [wrongAudience, 401, 'Bearer error="invalid_token", error_description="bad_audience"'],
        [expired, 401, 'Bearer error="invalid_token", error_description="expired"'],
        ['not-a-jwt', 401, 'Bearer error="invalid_token", error_description="malformed"'],
        [
          outsider,
          403,
          'Bearer error="insufficient_scope", error_description="forbidden_principal"',
        ],
      ];
      for (const [token, status, challenge] of cases) {
        const response = await post(url, body(), token);
        expect(response.status, challenge).toBe(status);
        expect(response.headers.get('www-authenticate')).toBe(challenge);
        const json = (await response.json()) as {error: string; error_description: string};
        expect(json.error).toBe(status === 403 ? 'insufficient_scope' : 'invalid_token');
        expect(JSON.stringify(json)).not.toContain(token ?? 'Bearer ');
      }
      expect(server.executed).toEqual([]);
    },
  );

  it('the agent card is behind the guard, and open without it', async () => {
    const response = await fetch(`${server.url}/.well-known/agent-card.json`);
    expect(response.status).toBe(withGuard ? 401 : 200);
  });
});

describe('googleIdTokenUserBuilder as a function', () => {
  it('resolves a User whose userName is the email, and reads X-Serverless-Authorization first', async () => {
    const token = await emu.mintIdToken({audience: AUDIENCE, email: CALLER});
    const user = await builder()({
      headers: {'x-serverless-authorization': `Bearer ${token}`, authorization: 'Bearer app-token'},
    });
    expect(user).toMatchObject({isAuthenticated: true, userName: CALLER, email: CALLER});
    expect(user.claims.aud).toBe(AUDIENCE);
    expect(Object.isFrozen(user)).toBe(true);
  });

  it('without req.res it rejects with the typed error (nothing to answer on)', async () => {
    const outsider = await emu.mintIdToken({audience: AUDIENCE, email: OUTSIDER});
    const error = await builder()({headers: {authorization: `Bearer ${outsider}`}}).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IdTokenVerificationError);
    expect(error).toMatchObject({code: 'forbidden_principal'});
    expect(String(error)).not.toContain(outsider);
  });

  it('fails closed with 503 and Retry-After when the keys cannot be loaded', async () => {
    const dead = await startGoogleEmulator();
    const jwksUrl = dead.jwksUrl;
    await dead.close();
    const authentication = googleIdTokenUserBuilder({audience: AUDIENCE, jwksUrl});
    const server = await startSdkServer({userBuilder: authentication, guard: authentication.guard});
    try {
      const token = await emu.mintIdToken({audience: AUDIENCE, email: CALLER});
      const response = await post(`${server.url}/jsonrpc`, jsonRpcSend('x'), token);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(server.executed).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('announceAudience names the accepted audience on a bad_audience refusal, as requireGoogleIdToken does', async () => {
    const authentication = googleIdTokenUserBuilder({
      audience: AUDIENCE,
      jwksUrl: emu.jwksUrl,
      allowedEmailDomains: ['my-project.iam.gserviceaccount.com'],
      announceAudience: true,
    });
    const server = await startSdkServer({userBuilder: authentication});
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const wrong = await emu.mintIdToken({audience: 'https://other.a.run.app', email: CALLER});
      const response = await post(`${server.url}/jsonrpc`, jsonRpcSend('x'), wrong);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer error="invalid_token", error_description="bad_audience", audience="${AUDIENCE}"`,
      );
    } finally {
      errors.mockRestore();
      await server.close();
    }
    expect(() =>
      googleIdTokenUserBuilder({audience: AUDIENCE, announceAudience: 'yes'} as never),
    ).toThrow('GoogleIdTokenUserBuilderOptions.announceAudience must be a boolean');
  });

  it('validates its options when built', () => {
    expect(() => googleIdTokenUserBuilder({} as never)).toThrow(/audience is required/);
  });
});
