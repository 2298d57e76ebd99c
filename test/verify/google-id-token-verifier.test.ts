import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {
  InsufficientScopeError,
  InvalidTokenError,
  ServerError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import {requireBearerAuth} from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import {createMcpExpressApp} from '@modelcontextprotocol/sdk/server/express.js';
import type {AuthInfo} from '@modelcontextprotocol/sdk/server/auth/types.js';
import type {OAuthTokenVerifier} from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type {IncomingMessage} from 'node:http';
import {StreamableHTTPServerTransport} from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type {ServerResponse} from 'node:http';
import {googleIdTokenVerifier, IdTokenVerificationError} from '../../src/verify/index.js';
import type {GoogleAuthInfo, RequestWithAuth} from '../../src/verify/index.js';
import {idTokenClaims, pregenerateKeys, startKeyServer} from './support/key-server.js';
import type {KeyServer} from './support/key-server.js';
import {listen, rawGet} from './support/http.js';
import {errorText, leakedSecrets} from '../tokens/sources/support.js';

const AUD = 'https://svc.example.com';
const SA = 'caller@proj.iam.gserviceaccount.com';

let keys: KeyServer;
const nowS = (): number => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  pregenerateKeys(1);
  keys = await startKeyServer();
});
afterAll(async () => {
  await keys.close();
});

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('googleIdTokenVerifier', () => {
  it('returns AuthInfo with clientId, empty scopes, numeric expiresAt and the claims', async () => {
    const verifier = googleIdTokenVerifier({audience: AUD, jwksUrl: keys.jwksUrl});
    const iat = nowS();
    const token = await keys.sign(idTokenClaims(iat));
    const info = await verifier.verifyAccessToken(token);
    expect(info).toMatchObject({token, clientId: SA, scopes: [], expiresAt: iat + 3600});
    expect(info.resource?.href).toBe(`${AUD}/`);
    expect((info.extra?.claims as Record<string, unknown> | undefined)?.sub).toBe(
      '104857600000000000001',
    );
  });

  it('uses sub as clientId when the token has no email, and no resource for a non-URL audience', async () => {
    const verifier = googleIdTokenVerifier({
      audience: '123-abc.apps.googleusercontent.com',
      jwksUrl: keys.jwksUrl,
    });
    const claims = idTokenClaims(nowS(), {aud: '123-abc.apps.googleusercontent.com'});
    delete claims.email;
    const info = await verifier.verifyAccessToken(await keys.sign(claims));
    expect(info.clientId).toBe('104857600000000000001');
    expect(info.resource).toBeUndefined();
  });

  it('maps a bad token to InvalidTokenError with the code as message and our error as cause', async () => {
    const verifier = googleIdTokenVerifier({audience: AUD, jwksUrl: keys.jwksUrl});
    const token = await keys.sign(idTokenClaims(nowS(), {aud: 'https://other.example.com'}));
    const error = await rejectionOf(verifier.verifyAccessToken(token));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error.message).toBe('bad_audience');
    expect(error.cause).toBeInstanceOf(IdTokenVerificationError);
    expect(leakedSecrets(errorText(error), [token])).toEqual([]);
  });

  it('maps forbidden_principal to InsufficientScopeError and keys_unavailable to ServerError', async () => {
    const token = await keys.sign(idTokenClaims(nowS()));
    const strict = googleIdTokenVerifier({
      audience: AUD,
      jwksUrl: keys.jwksUrl,
      allowedEmails: ['other@x.com'],
    });
    expect(await rejectionOf(strict.verifyAccessToken(token))).toBeInstanceOf(
      InsufficientScopeError,
    );
    const keyless = googleIdTokenVerifier({audience: AUD, jwksUrl: 'http://127.0.0.1:9/certs'});
    const error = await rejectionOf(keyless.verifyAccessToken(token));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toBe('keys_unavailable');
  });

  it('has types the SDK accepts where it takes an OAuthTokenVerifier and an authenticated request', () => {
    // Our own declarations, structurally the SDK's: assignable both ways, checked by tsc.
    const verifier: OAuthTokenVerifier = googleIdTokenVerifier({
      audience: AUD,
      jwksUrl: keys.jwksUrl,
    });
    const sdkInfo: AuthInfo = {
      token: 't',
      clientId: 'c',
      scopes: [],
      expiresAt: 1,
      resource: new URL(AUD),
    };
    const ours: GoogleAuthInfo = sdkInfo;
    const back: AuthInfo = ours;
    const transport = new StreamableHTTPServerTransport({sessionIdGenerator: undefined});
    const handle = (req: RequestWithAuth, res: ServerResponse) => transport.handleRequest(req, res);
    const sdkRequest: IncomingMessage & {auth?: AuthInfo} = {} as RequestWithAuth;
    expect(typeof verifier.verifyAccessToken).toBe('function');
    expect([back, handle, sdkRequest]).toHaveLength(3);
  });

  it('plugs into requireBearerAuth unchanged', async () => {
    const app = createMcpExpressApp();
    app.use(
      requireBearerAuth({verifier: googleIdTokenVerifier({audience: AUD, jwksUrl: keys.jwksUrl})}),
    );
    app.get('/', (req: {auth?: AuthInfo}, res: ServerResponse) => res.end(req.auth?.clientId));
    const server = await listen(app);
    try {
      const ok = await rawGet(server.url, {
        authorization: `Bearer ${await keys.sign(idTokenClaims(nowS()))}`,
      });
      expect(ok).toMatchObject({status: 200, body: SA});
      const expired = await rawGet(server.url, {
        authorization: `Bearer ${await keys.sign(idTokenClaims(nowS() - 7200))}`,
      });
      expect(expired.status).toBe(401);
      expect(expired.headers['www-authenticate']).toBe(
        'Bearer error="invalid_token", error_description="expired"',
      );
    } finally {
      await server.close();
    }
  });
});
