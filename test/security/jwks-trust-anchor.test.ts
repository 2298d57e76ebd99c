/**
 * Attack: `GOOGLE_AUTH_EMULATOR_HOST` moved the verifier's trust anchor (issue 9, item 4). The
 * variable is a client-side routing switch for the emulator; the verifier used to follow it, so
 * whoever could set it (a stray .env, a shared CI variable) pointed the server at a plain-http
 * key set of their own and every token they signed was accepted. The server's keys come only
 * from its own explicit setting.
 */
import {readFileSync, readdirSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {createIdTokenVerifier, IdTokenVerificationError} from '../../src/verify/index.js';
import type {VerifyGoogleIdTokenOptions} from '../../src/verify/index.js';
import {idTokenClaims, pregenerateKeys, startKeyServer} from '../verify/support/key-server.js';
import type {KeyServer} from '../verify/support/key-server.js';
import {setEnv} from '../tokens/sources/support.js';

const AUD = 'https://svc.example.com';
const GOOGLE_CERTS = 'https://www.googleapis.com/oauth2/v3/certs';
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

let attacker: KeyServer;
let restoreEnv: () => void;
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

/** A fetch that answers like the attacker's server for its URL, and never leaves loopback. */
function guardedFetch(seen: string[]): NonNullable<VerifyGoogleIdTokenOptions['fetch']> {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    seen.push(url);
    if (url.startsWith('http://127.0.0.1:')) return fetch(url, init);
    return new Response('unreachable in tests', {status: 503});
  };
}

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(IdTokenVerificationError);
    return (error as IdTokenVerificationError).code;
  }
}

beforeAll(async () => {
  pregenerateKeys(1);
  attacker = await startKeyServer();
  // Every warning of this file: the one-time warning is per process, whichever test builds first.
  process.on('warning', onWarning);
});
beforeEach(() => {
  // The attacker's key server speaks the emulator's path, on the host the variable names.
  restoreEnv = setEnv({GOOGLE_AUTH_EMULATOR_HOST: new URL(attacker.jwksUrl).host});
});
afterEach(() => {
  restoreEnv();
});
afterAll(async () => {
  process.off('warning', onWarning);
  await attacker.close();
});

describe('GOOGLE_AUTH_EMULATOR_HOST and the verifier', () => {
  it("does not move the default key URL: an attacker's token is never accepted", async () => {
    const seen: string[] = [];
    const verify = createIdTokenVerifier({audience: AUD, fetch: guardedFetch(seen)});
    const forged = await attacker.sign(idTokenClaims(Math.floor(Date.now() / 1000)));
    expect(await outcome(verify(forged))).not.toBe('accepted');
    expect(seen.every((url) => url === GOOGLE_CERTS)).toBe(true);
    expect(attacker.requests).toBe(0);
  });

  it('warns once per process that the variable is ignored by the verifier', async () => {
    const seen: string[] = [];
    createIdTokenVerifier({audience: AUD, fetch: guardedFetch(seen)});
    createIdTokenVerifier({audience: AUD, fetch: guardedFetch(seen)});
    await new Promise((resolve) => setImmediate(resolve));
    const ours = warnings.filter((w) => /GOOGLE_AUTH_EMULATOR_HOST/.test(w.message));
    expect(ours).toHaveLength(1);
    expect(ours[0]?.message).toMatch(/ignor/i);
    expect(ours[0]?.message).toMatch(/jwksUrl/);
  });

  it('uses the emulator only when the caller names its key URL explicitly', async () => {
    const seen: string[] = [];
    const verify = createIdTokenVerifier({
      audience: AUD,
      jwksUrl: attacker.jwksUrl,
      fetch: guardedFetch(seen),
    });
    const token = await attacker.sign(idTokenClaims(Math.floor(Date.now() / 1000)));
    expect(await outcome(verify(token))).toBe('accepted');
    expect(seen).toEqual([attacker.jwksUrl]);
  });

  it('refuses an explicit plain-http key URL that is not loopback', () => {
    for (const jwksUrl of [
      'http://keys.example.com/certs',
      'http://10.0.0.8/certs',
      'http://127.0.0.1.nip.io/certs',
      'ftp://127.0.0.1/certs',
    ]) {
      expect(() => createIdTokenVerifier({audience: AUD, jwksUrl}), jwksUrl).toThrow(TypeError);
      expect(() => createIdTokenVerifier({audience: AUD, jwksUrl}), jwksUrl).toThrow(/jwksUrl/);
    }
  });
});

describe('the verify layer takes nothing from the client side', () => {
  it('no file under src/verify imports src/tokens (or any other client layer)', () => {
    const offenders: string[] = [];
    for (const file of readdirSync(join(SRC, 'verify'), {recursive: true}) as string[]) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(join(SRC, 'verify', file), 'utf8');
      for (const match of text.matchAll(/from\s+'(\.\.\/[^']+)'/g)) {
        const target = match[1] as string;
        // The errors, and the telemetry hooks (a layer of its own that imports nothing of ours:
        // test/telemetry/layering.test.ts).
        if (!/^\.\.\/(credentials\/errors|telemetry\/[a-z-]+)\.js$/.test(target))
          offenders.push(`${file} -> ${target}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
