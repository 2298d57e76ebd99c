/**
 * RSA key pairs for the emulator (2048-bit, as Google's). Generation takes tens of
 * milliseconds, so a pool keeps one spare pair generated in the background.
 */
import {generateKeyPair, randomBytes} from 'node:crypto';
import type {KeyObject} from 'node:crypto';
import {promisify} from 'node:util';

const generate = promisify(generateKeyPair);

/** An RSA key pair with its key id. */
export interface RsaKeyPair {
  /** Key id: 40 lower-case hex digits, as Google's `private_key_id` and JWKS `kid`. */
  kid: string;
  /** The private key. */
  privateKey: KeyObject;
  /** The public key. */
  publicKey: KeyObject;
}

/** A fresh 2048-bit RSA key pair with a random `kid`. */
export async function generateRsaKeyPair(): Promise<RsaKeyPair> {
  const {privateKey, publicKey} = await generate('rsa', {modulusLength: 2048});
  return {kid: randomBytes(20).toString('hex'), privateKey, publicKey};
}

/** Hands out key pairs, keeping one spare generated ahead of time. */
export class RsaKeyPool {
  #spare: Promise<RsaKeyPair> | undefined;
  #closed = false;

  /** Starts generating the spare pair. */
  prefill(): void {
    if (this.#closed || this.#spare) return;
    const spare = generateRsaKeyPair();
    spare.catch(() => undefined);
    this.#spare = spare;
  }

  /** A key pair not handed out before; refills the spare. */
  take(): Promise<RsaKeyPair> {
    const pair = this.#spare ?? generateRsaKeyPair();
    this.#spare = undefined;
    this.prefill();
    return pair;
  }

  /** Stops refilling. */
  close(): void {
    this.#closed = true;
    this.#spare = undefined;
  }
}
