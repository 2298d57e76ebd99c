/**
 * The emulator's ID-token signing keys: one current key signs; every published key appears
 * in the JWKS (`/oauth2/v3/certs`) and as a certificate in `/oauth2/v1/certs`.
 */
import {randomBytes} from 'node:crypto';
import type {JsonWebKey} from 'node:crypto';
import {signRs256} from './jwt.js';
import type {RsaKeyPair} from './rsa-keys.js';
import {selfSignedCertificatePem} from './x509.js';

/** A public JWK as Google publishes it. */
export interface PublishedJwk {
  kty: 'RSA';
  alg: 'RS256';
  use: 'sig';
  kid: string;
  n: string;
  e: string;
}

const DAY_MS = 86_400_000;

/** The set of signing keys; the most recently added is current. */
export class SigningKeyRing {
  #keys: RsaKeyPair[] = [];
  #certificates = new Map<string, string>();
  readonly #now: () => number;

  /** `first` becomes the current key; `now` (epoch ms) dates the certificates. */
  constructor(first: RsaKeyPair, now: () => number) {
    this.#now = now;
    this.#keys = [first];
  }

  /** The key that signs new tokens. */
  get current(): RsaKeyPair {
    const key = this.#keys[0];
    if (!key) throw new Error('no signing key');
    return key;
  }

  /** Publishes `pair` and makes it current; earlier keys stay published. */
  add(pair: RsaKeyPair): void {
    this.#keys.unshift(pair);
  }

  /**
   * Stops publishing `kid`. Returns false when it is not published. Throws a TypeError for
   * the current key (rotate first).
   */
  retire(kid: string): boolean {
    if (this.current.kid === kid) {
      throw new TypeError(
        `retireSigningKey: ${JSON.stringify(kid)} is the current signing key; call rotateSigningKey() first`,
      );
    }
    const before = this.#keys.length;
    this.#keys = this.#keys.filter((key) => key.kid !== kid);
    this.#certificates.delete(kid);
    return this.#keys.length !== before;
  }

  /** Published keys, current first. */
  published(): readonly RsaKeyPair[] {
    return this.#keys;
  }

  /** The published key `kid`, if any. */
  find(kid: string): RsaKeyPair | undefined {
    return this.#keys.find((key) => key.kid === kid);
  }

  /** Signs `payload` (RS256) with the current key; the header names its `kid`. */
  sign(payload: Record<string, unknown>): string {
    const key = this.current;
    return signRs256(payload, key.privateKey, key.kid);
  }

  /** The JWK set of every published key. */
  jwks(): {keys: PublishedJwk[]} {
    return {
      keys: this.#keys.map((key) => {
        const jwk: JsonWebKey = key.publicKey.export({format: 'jwk'});
        return {
          kty: 'RSA',
          alg: 'RS256',
          use: 'sig',
          kid: key.kid,
          n: String(jwk.n),
          e: String(jwk.e),
        };
      }),
    };
  }

  /** `{kid: PEM certificate}` for every published key (self-signed, valid 2 weeks from first use). */
  pemCertificates(): Record<string, string> {
    const result: Record<string, string> = {};
    for (const key of this.#keys) {
      let pem = this.#certificates.get(key.kid);
      if (pem === undefined) {
        const now = this.#now();
        pem = selfSignedCertificatePem({
          publicKey: key.publicKey,
          privateKey: key.privateKey,
          commonName: 'securetoken.system.gserviceaccount.com',
          serial: Buffer.concat([Buffer.from([0x01]), randomBytes(15)]),
          notBefore: now - DAY_MS,
          notAfter: now + 14 * DAY_MS,
        });
        this.#certificates.set(key.kid, pem);
      }
      result[key.kid] = pem;
    }
    return result;
  }
}
