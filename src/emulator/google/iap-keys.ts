/**
 * IAP's signing keys (ES256, P-256): one current key signs the `x-goog-iap-jwt-assertion` a
 * front adds to each request it lets through; every published key appears in the JWK set at
 * `/iap/verify/public_key-jwk` (Google serves it from www.gstatic.com).
 */
import {generateKeyPair, randomBytes, sign} from 'node:crypto';
import type {KeyObject} from 'node:crypto';
import {promisify} from 'node:util';

const generate = promisify(generateKeyPair);

/** Google's issuer of IAP assertions. */
export const IAP_ISSUER = 'https://cloud.google.com/iap';

/** A public JWK as IAP publishes it. */
export interface PublishedEcJwk {
  kty: 'EC';
  alg: 'ES256';
  use: 'sig';
  crv: 'P-256';
  kid: string;
  x: string;
  y: string;
}

/** An ES256 key pair with its key id. */
export interface EcKeyPair {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh P-256 key pair with a random `kid` (IAP's are short strings). */
export async function generateIapKeyPair(): Promise<EcKeyPair> {
  const {privateKey, publicKey} = await generate('ec', {namedCurve: 'P-256'});
  return {kid: randomBytes(6).toString('base64url'), privateKey, publicKey};
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** The published IAP keys; the most recently added is current. */
export class IapKeyRing {
  #keys: EcKeyPair[];

  constructor(first: EcKeyPair) {
    this.#keys = [first];
  }

  /** The key that signs new assertions. */
  get current(): EcKeyPair {
    const key = this.#keys[0];
    if (!key) throw new Error('no IAP signing key');
    return key;
  }

  /** Publishes `pair` and makes it current; earlier keys stay published. */
  add(pair: EcKeyPair): void {
    this.#keys.unshift(pair);
  }

  /** Signs `payload` (ES256, raw r||s signature) with the current key; the header names its `kid`. */
  sign(payload: Record<string, unknown>): string {
    const key = this.current;
    const signingInput = `${encodeSegment({alg: 'ES256', typ: 'JWT', kid: key.kid})}.${encodeSegment(payload)}`;
    const signature = sign('sha256', Buffer.from(signingInput), {
      key: key.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  /** The JWK set of every published key. */
  jwks(): {keys: PublishedEcJwk[]} {
    return {
      keys: this.#keys.map((key) => {
        const jwk = key.publicKey.export({format: 'jwk'});
        return {
          kty: 'EC',
          alg: 'ES256',
          use: 'sig',
          crv: 'P-256',
          kid: key.kid,
          x: String(jwk.x),
          y: String(jwk.y),
        };
      }),
    };
  }
}
