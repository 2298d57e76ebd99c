/**
 * Attack: token cache collision across tenants (issue 9, item 3). A process serves several
 * tenants from one shared TokenCache. The cache key of a credential used to be built from
 * `client_email` and `private_key_id`, both public: a tenant who forged a key file with another
 * tenant's email and key id (and its own private key) was handed that tenant's cached token
 * without Google ever being asked. Cache keys must derive from material only the holder has.
 */
import {generateKeyPairSync} from 'node:crypto';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startGoogleEmulator} from '../../src/emulator/index.js';
import type {EmulatorServiceAccountKey, GoogleEmulator} from '../../src/emulator/index.js';
import type {ServiceAccount, ServiceAccountCredential} from '../../src/credentials/types.js';
import {createTokenSource} from '../../src/tokens/create-token-source.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import type {Token, TokenRequest, TokenSource} from '../../src/tokens/token-source.js';
import {keyCredential} from '../tokens/sources/support.js';

const AUDIENCE = 'https://tenant-svc.a.run.app';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

let emulator: GoogleEmulator;
let victimKeyFile: EmulatorServiceAccountKey;
let victim: ServiceAccountCredential;
let env: NodeJS.ProcessEnv;
let dir: string;

/** A key file that names the victim (email and key id) but holds the attacker's own key. */
function forgedKey(of: ServiceAccountCredential): ServiceAccountCredential {
  const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048});
  return {...of, privateKey: privateKey.export({type: 'pkcs8', format: 'pem'}).toString()};
}

/** What the cache answers `source`, or the error it raised. */
async function outcome(
  cache: TokenCache,
  source: TokenSource,
  request: TokenRequest,
): Promise<Token | Error> {
  try {
    return await cache.get(source, request);
  } catch (error) {
    return error as Error;
  }
}

function build(serviceAccount: ServiceAccount, cache: TokenCache, sourceEnv = env): TokenSource {
  return createTokenSource(serviceAccount, {env: sourceEnv, cache});
}

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  victimKeyFile = await emulator.createServiceAccountKey(
    'victim@emulator-project.iam.gserviceaccount.com',
  );
  victim = keyCredential(victimKeyFile.json);
  env = {GOOGLE_AUTH_EMULATOR_HOST: emulator.host, GOOGLE_CLOUD_PROJECT: emulator.projectId};
  dir = mkdtempSync(join(tmpdir(), 'mga-collision-'));
});

afterAll(async () => {
  rmSync(dir, {recursive: true, force: true});
  await emulator.close();
});

describe('a forged key file naming another tenant', () => {
  it("never receives the victim's cached ID token", async () => {
    const cache = new TokenCache();
    const victimToken = await cache.get(build({serviceAccountCredential: victim}, cache), {
      kind: 'id',
      audience: AUDIENCE,
    });
    const attacker = build({serviceAccountCredential: forgedKey(victim)}, cache);
    const stolen = await outcome(cache, attacker, {kind: 'id', audience: AUDIENCE});
    // The attacker's own key is not the victim's: Google refuses it, and the cache must let it.
    expect(stolen).toBeInstanceOf(Error);
    expect((stolen as Token).value).not.toBe(victimToken.value);
  });

  it("never receives the victim's cached access token", async () => {
    const cache = new TokenCache();
    const request: TokenRequest = {kind: 'access', scopes: [CLOUD_PLATFORM]};
    const victimToken = await cache.get(build({serviceAccountCredential: victim}, cache), request);
    const stolen = await outcome(
      cache,
      build({serviceAccountCredential: forgedKey(victim)}, cache),
      request,
    );
    expect(stolen).toBeInstanceOf(Error);
    expect((stolen as Token).value).not.toBe(victimToken.value);
  });

  it("never receives the victim's impersonated token (impersonation inherits the base's key)", async () => {
    const cache = new TokenCache();
    const target = 'shared-target@emulator-project.iam.gserviceaccount.com';
    const victimToken = await cache.get(
      build({serviceAccountCredential: victim, impersonateServiceAccount: target}, cache),
      {kind: 'id', audience: AUDIENCE},
    );
    const stolen = await outcome(
      cache,
      build(
        {serviceAccountCredential: forgedKey(victim), impersonateServiceAccount: target},
        cache,
      ),
      {kind: 'id', audience: AUDIENCE},
    );
    expect(stolen).toBeInstanceOf(Error);
    expect((stolen as Token).value).not.toBe(victimToken.value);
  });

  it('still shares one token between sources that hold the same key', async () => {
    const cache = new TokenCache();
    const first = await cache.get(build({serviceAccountCredential: victim}, cache), {
      kind: 'id',
      audience: AUDIENCE,
    });
    // Another object, the key without its declared id: the same holder, the same entry.
    const again = await cache.get(
      build({serviceAccountCredential: {...victim, privateKeyId: undefined}}, cache),
      {kind: 'id', audience: AUDIENCE},
    );
    expect(again.value).toBe(first.value);
    expect(cache.stats().fetches).toBe(1);
  });
});

describe('ADC credential files that change under the same path', () => {
  it('keys a key file by its key, not by where it lives', async () => {
    const path = join(dir, 'tenant.json');
    const cache = new TokenCache();
    const request: TokenRequest = {kind: 'access', scopes: [CLOUD_PLATFORM]};
    writeFileSync(path, JSON.stringify(victimKeyFile.json));
    const first = await cache.get(
      build({useDefaultCredential: true}, cache, {...env, GOOGLE_APPLICATION_CREDENTIALS: path}),
      request,
    );
    // The next tenant's file is written to the same path: a forged copy of the victim's.
    const forged = forgedKey(victim);
    writeFileSync(path, JSON.stringify({...victimKeyFile.json, private_key: forged.privateKey}));
    const stolen = await outcome(
      cache,
      build({useDefaultCredential: true}, cache, {...env, GOOGLE_APPLICATION_CREDENTIALS: path}),
      request,
    );
    expect((stolen as Token).value).not.toBe(first.value);
  });

  it('keys impersonated_service_account files by their source credentials', async () => {
    const path = join(dir, 'impersonated.json');
    const cache = new TokenCache();
    const target = 'impersonated-target@emulator-project.iam.gserviceaccount.com';
    const genuine = await emulator.createImpersonatedServiceAccountFile({targetEmail: target});
    writeFileSync(path, JSON.stringify(genuine.json));
    const sourceEnv = {...env, GOOGLE_APPLICATION_CREDENTIALS: path};
    const first = await cache.get(build({useDefaultCredential: true}, cache, sourceEnv), {
      kind: 'id',
      audience: AUDIENCE,
    });
    // The same file, its source key swapped for the attacker's own (same email, same key id).
    const source = genuine.json.source_credentials as Record<string, string>;
    const forged = forgedKey(keyCredential(source));
    writeFileSync(
      path,
      JSON.stringify({
        ...genuine.json,
        source_credentials: {...source, private_key: forged.privateKey},
      }),
    );
    const stolen = await outcome(cache, build({useDefaultCredential: true}, cache, sourceEnv), {
      kind: 'id',
      audience: AUDIENCE,
    });
    expect(stolen).toBeInstanceOf(Error);
    expect((stolen as Token).value).not.toBe(first.value);
  });

  it('keys authorized_user files by their refresh token', async () => {
    const path = join(dir, 'user.json');
    const cache = new TokenCache();
    const request: TokenRequest = {kind: 'access', scopes: [CLOUD_PLATFORM]};
    const alice = await emulator.createAuthorizedUserFile();
    const mallory = await emulator.createAuthorizedUserFile();
    writeFileSync(path, JSON.stringify(alice.json));
    const first = await cache.get(
      build({useDefaultCredential: true}, cache, {...env, GOOGLE_APPLICATION_CREDENTIALS: path}),
      request,
    );
    writeFileSync(path, JSON.stringify(mallory.json));
    const second = await outcome(
      cache,
      build({useDefaultCredential: true}, cache, {...env, GOOGLE_APPLICATION_CREDENTIALS: path}),
      request,
    );
    expect(second).not.toBeInstanceOf(Error);
    expect((second as Token).value).not.toBe(first.value);
  });
});
