import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {exportJWK, exportSPKI, generateKeyPair} from 'jose';
import type {CryptoKey, JWK} from 'jose';

/** A signing key of the fixture. */
export interface FixtureKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/** Options of {@link KeyServer.sign}. */
export interface SignOptions {
  /** Sign with this key (default: the current key). */
  key?: FixtureKey;
  /** Put this kid in the header (default: the signing key's kid; null leaves it out). */
  kid?: string | null;
  /** Extra or overriding header fields (nothing is validated, so broken headers can be made). */
  header?: Record<string, unknown>;
}

/** A tiny JWKS server on 127.0.0.1 with keys generated in the test. */
export interface KeyServer {
  jwksUrl: string;
  /** Published keys, current first. */
  keys: FixtureKey[];
  /** Requests served on the JWKS path. */
  requests: number;
  /** Cache-Control sent with the JWKS (default `public, max-age=300`). */
  cacheControl: string | undefined;
  /** Extra response headers of the JWKS (e.g. `age`). */
  extraHeaders: Record<string, string>;
  /** When set, the JWKS path answers this status (with an HTML body, and a Location for 3xx). */
  failStatus: number | undefined;
  /** Back to one published key, no failure, default Cache-Control and zero requests. */
  reset(): void;
  /** Publishes a fresh key and makes it current. */
  rotate(): Promise<FixtureKey>;
  /** Stops publishing `kid`. */
  retire(kid: string): void;
  /** Signs `claims` (RS256, compact). */
  sign(claims: Record<string, unknown>, options?: SignOptions): Promise<string>;
  close(): Promise<void>;
}

let counter = 0;
const spare: Promise<FixtureKey>[] = [];

async function generate(): Promise<FixtureKey> {
  const {privateKey, publicKey} = await generateKeyPair('RS256', {extractable: true});
  const publicJwk = await exportJWK(publicKey);
  return {kid: `fixture-${++counter}`, privateKey, publicKey, publicJwk};
}

/** Generates `count` keys in the background so later {@link createFixtureKey} calls are instant. */
export function pregenerateKeys(count: number): void {
  for (let i = 0; i < count; i++) spare.push(generate());
}

/** A fresh RSA key with a unique kid. */
export function createFixtureKey(): Promise<FixtureKey> {
  return spare.shift() ?? generate();
}

/** The public key of `key` as SPKI PEM, e.g. to try it as an HMAC secret. */
export function publicKeyPem(key: FixtureKey): Promise<string> {
  return exportSPKI(key.publicKey);
}

/** Base64url of a string or of the JSON of a value. */
export function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/** Signs `header.payload` (RS256) without any validation of the header. */
export async function signRaw(
  header: Record<string, unknown>,
  payload: string | Uint8Array,
  key: CryptoKey,
): Promise<string> {
  const input = `${b64(header)}.${Buffer.from(payload).toString('base64url')}`;
  const signature = await crypto.subtle.sign(
    'RSASSA-PKCS1-v1_5',
    key,
    new TextEncoder().encode(input),
  );
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

/** Starts the server with one key. */
export async function startKeyServer(): Promise<KeyServer> {
  const first = await createFixtureKey();
  const state: KeyServer = {
    jwksUrl: '',
    keys: [first],
    requests: 0,
    cacheControl: 'public, max-age=300',
    failStatus: undefined,
    extraHeaders: {},
    reset() {
      state.extraHeaders = {};
      state.keys = [first];
      state.requests = 0;
      state.cacheControl = 'public, max-age=300';
      state.failStatus = undefined;
    },
    async rotate() {
      const key = await createFixtureKey();
      state.keys.unshift(key);
      return key;
    },
    retire(kid) {
      state.keys = state.keys.filter((key) => key.kid !== kid);
    },
    async sign(claims, options = {}) {
      const key = options.key ?? state.keys[0];
      if (!key) throw new Error('no key');
      const kid = options.kid === undefined ? key.kid : options.kid;
      const header = {alg: 'RS256', typ: 'JWT', ...(kid === null ? {} : {kid}), ...options.header};
      return signRaw(header, JSON.stringify(claims), key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = createServer((req, res) => {
    // `/oauth2/v3/certs` too: the path Google (and the emulator) publish ID-token keys at.
    if (req.url !== '/certs' && req.url !== '/oauth2/v3/certs') {
      res.writeHead(404).end();
      return;
    }
    state.requests++;
    if (state.failStatus !== undefined) {
      res
        .writeHead(state.failStatus, {
          'content-type': 'text/html',
          location: 'http://127.0.0.1:9/elsewhere',
        })
        .end('<html>down</html>');
      return;
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...state.extraHeaders,
    };
    if (state.cacheControl !== undefined) headers['cache-control'] = state.cacheControl;
    res.writeHead(200, headers).end(
      JSON.stringify({
        keys: state.keys.map((key) => ({
          ...key.publicJwk,
          kid: key.kid,
          alg: 'RS256',
          use: 'sig',
        })),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const {port} = server.address() as AddressInfo;
  state.jwksUrl = `http://127.0.0.1:${port}/certs`;
  return state;
}

/** Google-shaped ID token claims around `nowSeconds`. */
export function idTokenClaims(
  nowSeconds: number,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    iss: 'https://accounts.google.com',
    aud: 'https://svc.example.com',
    azp: '104857600000000000001',
    sub: '104857600000000000001',
    email: 'caller@proj.iam.gserviceaccount.com',
    email_verified: true,
    iat: nowSeconds,
    exp: nowSeconds + 3600,
    ...overrides,
  };
}
