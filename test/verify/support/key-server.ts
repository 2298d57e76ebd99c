import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {exportJWK, exportSPKI, generateKeyPair} from 'jose';
import type {CryptoKey, JWK} from 'jose';

/** The algorithms of the fixture keys: RS256 (Google ID tokens) and ES256 (IAP assertions). */
export type FixtureAlgorithm = 'RS256' | 'ES256';

/** A signing key of the fixture. */
export interface FixtureKey {
  alg: FixtureAlgorithm;
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
  /** Signs `claims` (compact JWS, with the key's algorithm). */
  sign(claims: Record<string, unknown>, options?: SignOptions): Promise<string>;
  close(): Promise<void>;
}

let counter = 0;
const spare: Promise<FixtureKey>[] = [];

async function generate(alg: FixtureAlgorithm = 'RS256'): Promise<FixtureKey> {
  const {privateKey, publicKey} = await generateKeyPair(alg, {extractable: true});
  const publicJwk = await exportJWK(publicKey);
  return {alg, kid: `fixture-${++counter}`, privateKey, publicKey, publicJwk};
}

/** Generates `count` RSA keys in the background so later {@link createFixtureKey} calls are instant. */
export function pregenerateKeys(count: number): void {
  for (let i = 0; i < count; i++) spare.push(generate());
}

/** A fresh key with a unique kid: RSA (from the pregenerated ones) unless `alg` says ES256. */
export function createFixtureKey(alg: FixtureAlgorithm = 'RS256'): Promise<FixtureKey> {
  if (alg === 'ES256') return generate('ES256');
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

/**
 * Signs `header.payload` with `key` (RS256 for an RSA key, ES256 with the JWS r||s signature
 * for an EC key) without any validation of the header.
 */
export async function signRaw(
  header: Record<string, unknown>,
  payload: string | Uint8Array,
  key: CryptoKey,
): Promise<string> {
  const input = `${b64(header)}.${Buffer.from(payload).toString('base64url')}`;
  const algorithm =
    key.algorithm.name === 'ECDSA' ? {name: 'ECDSA', hash: 'SHA-256'} : 'RSASSA-PKCS1-v1_5';
  const signature = await crypto.subtle.sign(algorithm, key, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

/** Starts the server with one key (RSA, or ES256 keys as IAP's when `alg` says so). */
export async function startKeyServer(alg: FixtureAlgorithm = 'RS256'): Promise<KeyServer> {
  const first = await createFixtureKey(alg);
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
      const key = await createFixtureKey(alg);
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
      const header = {alg: key.alg, typ: 'JWT', ...(kid === null ? {} : {kid}), ...options.header};
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
          alg: key.alg,
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

/** IAP-shaped assertion claims around `nowSeconds`. */
export function iapClaims(
  nowSeconds: number,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    iss: 'https://cloud.google.com/iap',
    aud: '/projects/123456789012/global/backendServices/4242424242424242424',
    sub: 'accounts.google.com:104857600000000000001',
    email: 'user@example.com',
    iat: nowSeconds,
    exp: nowSeconds + 600,
    ...overrides,
  };
}
