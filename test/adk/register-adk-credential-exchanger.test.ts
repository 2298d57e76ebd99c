import {mkdtemp, rm} from 'node:fs/promises';
import {createServer} from 'node:http';
import type {Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {
  InMemoryRunner,
  LlmAgent,
  OpenAPIToolset,
  ToolAuthHandler,
  isFinalResponse,
  setLogger,
  stringifyContent,
} from '@google/adk';
import type {AuthCredential as AdkAuthCredential} from '@google/adk';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {registerAdkCredentialExchanger} from '../../src/adk/register-adk-credential-exchanger.js';
import {startCloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import type {CloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import {startGoogleEmulator} from '../../src/emulator/google-emulator.js';
import type {GoogleEmulator} from '../../src/emulator/google-emulator.js';
import {decodeJwtPayload} from '../../src/tokens/jwt-claims.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {ScriptedLlm} from './support/scripted-llm.js';

setLogger(null);

/** A REST "container" behind the front: GET /whoami answers the email of the forwarded token. */
let api: Server;
let emu: GoogleEmulator;
let front: CloudRunGateway;
let key: {email: string; json: Record<string, string>};
let gcloudDir: string;
const savedEnv = {...process.env};

/** One clock for the emulator, the front and the caches, moved on to make tokens expire. */
let clockOffsetMs = 0;
const now = (): number => Date.now() + clockOffsetMs;

beforeAll(async () => {
  emu = await startGoogleEmulator({now});
  api = createServer((req, res) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /i, '');
    const email = token.split('.').length === 3 ? String(decodeJwtPayload(token)?.email) : null;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({email}));
  });
  api.listen(0, '127.0.0.1');
  await new Promise((resolve) => api.once('listening', resolve));
  front = await startCloudRunGateway({
    upstream: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
    jwksUrl: emu.jwksUrl,
    now,
  });
  key = await emu.createServiceAccountKey();
  // ADK's own exchanger (google-auth-library's ADC) must only ever see the emulator.
  gcloudDir = await mkdtemp(join(tmpdir(), 'adk-gcloud-'));
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  Object.assign(process.env, emu.env(), {CLOUDSDK_CONFIG: gcloudDir});
});
afterAll(async () => {
  process.env = savedEnv;
  await front.close();
  await new Promise((resolve) => api.close(resolve));
  await emu.close();
  await rm(gcloudDir, {recursive: true, force: true});
});

let unregister: (() => void) | undefined;
afterEach(() => {
  unregister?.();
  unregister = undefined;
});

function openApiToolset(credential: AdkAuthCredential): OpenAPIToolset {
  return new OpenAPIToolset({
    specDict: {
      openapi: '3.0.0',
      info: {title: 'whoami', version: '1'},
      servers: [{url: front.url}],
      paths: {
        '/whoami': {
          get: {operationId: 'whoami', summary: 'Who am I', responses: {200: {description: 'ok'}}},
        },
      },
    },
    authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
    authCredential: credential,
  });
}

async function runAgent(toolset: OpenAPIToolset): Promise<string> {
  const agent = new LlmAgent({name: 'rest', model: new ScriptedLlm('whoami'), tools: [toolset]});
  const runner = new InMemoryRunner({agent, appName: 'openapi'});
  let answer = '';
  for await (const event of runner.runEphemeral({
    userId: 'u',
    newMessage: {role: 'user', parts: [{text: 'who?'}]},
  })) {
    if (isFinalResponse(event)) answer = stringifyContent(event);
  }
  return answer;
}

const idTokenCredential = (audience: string | undefined, useDefault = false): AdkAuthCredential =>
  ({
    authType: 'serviceAccount',
    serviceAccount: useDefault
      ? {useDefaultCredential: true, useIdToken: true, audience}
      : {serviceAccountCredential: key.json, useIdToken: true, audience},
  }) as unknown as AdkAuthCredential;

describe('registerAdkCredentialExchanger', () => {
  it('without it, @google/adk 2.0.0 sends an access token and Cloud Run refuses it', async () => {
    const answer = await runAgent(openApiToolset(idTokenCredential(front.url, true)));
    expect(answer).not.toContain('@');
    expect(front.stats.invalidToken).toBeGreaterThan(0);
    expect(emu.requests.byEndpoint['metadata.token']).toBeGreaterThan(0); // ADK asked for an access token
  });

  it('makes OpenAPI tools send an ID token for serviceAccount.audience', async () => {
    unregister = registerAdkCredentialExchanger({
      cache: new TokenCache(),
      tokenSourceOptions: {emulatorHost: emu.host, env: {}},
    });
    front.resetStats();
    const answer = await runAgent(openApiToolset(idTokenCredential(front.url)));
    expect(answer).toContain(key.email);
    expect(front.stats.forwarded).toBe(1);
    expect(front.stats.invalidToken).toBe(0);
  });

  it('keeps no token in session state: a later run in the same session gets a fresh one', async () => {
    // ADK's own handler stores the first exchanged credential in session state and reuses it
    // for good; ours asks the cache every time, so an expired token is replaced.
    const cache = new TokenCache({now});
    unregister = registerAdkCredentialExchanger({
      cache,
      tokenSourceOptions: {emulatorHost: emu.host, env: {}},
    });
    const appName = 'openapi-session';
    const agent = new LlmAgent({
      name: 'rest',
      model: new ScriptedLlm('whoami'),
      tools: [openApiToolset(idTokenCredential(front.url))],
    });
    const runner = new InMemoryRunner({agent, appName});
    const session = await runner.sessionService.createSession({appName, userId: 'u'});
    const ask = async (): Promise<string> => {
      let answer = '';
      for await (const event of runner.runAsync({
        userId: 'u',
        sessionId: session.id,
        newMessage: {role: 'user', parts: [{text: 'who?'}]},
      })) {
        if (isFinalResponse(event)) answer = stringifyContent(event);
      }
      return answer;
    };

    emu.setTokenLifetime(60);
    try {
      expect(await ask()).toContain(key.email);
    } finally {
      emu.setTokenLifetime(3600);
    }
    clockOffsetMs += 120_000; // the first, one-minute ID token has expired
    front.resetStats();
    expect(await ask()).toContain(key.email);
    expect(front.stats.forwarded).toBe(1);
    expect(front.stats.invalidToken).toBe(0);
    expect(cache.stats().fetches).toBe(2);
    const stored = await runner.sessionService.getSession({
      appName,
      userId: 'u',
      sessionId: session.id,
    });
    expect(
      Object.keys(stored?.state ?? {}).filter((k) => k.endsWith('_existing_exchanged_credential')),
    ).toEqual([]);
  });

  it('leaves other credential types to ADK', async () => {
    unregister = registerAdkCredentialExchanger({
      tokenSourceOptions: {emulatorHost: emu.host, env: {}},
    });
    const token = await emu.mintIdToken({
      audience: front.url,
      email: 'static@emulator-project.iam.gserviceaccount.com',
    });
    const answer = await runAgent(
      openApiToolset({
        authType: 'http',
        http: {scheme: 'bearer', credentials: {token}},
      } as unknown as AdkAuthCredential),
    );
    expect(answer).toContain('static@emulator-project.iam.gserviceaccount.com');
  });

  it('unregistering restores ADK behaviour', () => {
    const before = ToolAuthHandler.prototype.prepareAuthCredentials;
    const off = registerAdkCredentialExchanger();
    expect(ToolAuthHandler.prototype.prepareAuthCredentials).not.toBe(before);
    off();
    expect(ToolAuthHandler.prototype.prepareAuthCredentials).toBe(before);
  });

  it('stacks registrations: the newest one handles service accounts, and removing them in any order gives ADK its own handling back', async () => {
    const exchangerFor = (token: string) => ({
      exchange: async () => ({
        credential: {authType: 'http' as const, http: {scheme: 'bearer', credentials: {token}}},
        wasExchanged: true,
      }),
    });
    // ADK's own handler answers with what its session state holds.
    const stored = {authType: 'http', http: {scheme: 'bearer', credentials: {token: 'adk'}}};
    const context = {state: {get: () => stored}};
    const prepared = async (): Promise<string | undefined> => {
      const handler = ToolAuthHandler.fromToolContext(
        context as never,
        {type: 'http', scheme: 'bearer'} as never,
        idTokenCredential('https://svc-abc.a.run.app'),
      );
      return (await handler.prepareAuthCredentials()).authCredential?.http?.credentials?.token;
    };

    expect(await prepared()).toBe('adk');
    for (const removeFirst of ['older', 'newer'] as const) {
      const offA = registerAdkCredentialExchanger({exchanger: exchangerFor('a')});
      expect(await prepared()).toBe('a');
      const offB = registerAdkCredentialExchanger({exchanger: exchangerFor('b')});
      expect(await prepared()).toBe('b');
      if (removeFirst === 'older') {
        offA();
        expect(await prepared()).toBe('b');
        offB();
      } else {
        offB();
        expect(await prepared()).toBe('a');
        offA();
      }
      expect(await prepared()).toBe('adk');
      offA(); // idempotent
      expect(await prepared()).toBe('adk');
    }
  });

  it('refuses bad options with a TypeError naming the option, and patches nothing', () => {
    const before = ToolAuthHandler.prototype.prepareAuthCredentials;
    expect(() => registerAdkCredentialExchanger({toolAuthHandler: {} as never})).toThrow(
      new TypeError(
        "registerAdkCredentialExchanger toolAuthHandler must be @google/adk's ToolAuthHandler class",
      ),
    );
    expect(() => registerAdkCredentialExchanger({exchanger: {} as never})).toThrow(
      new TypeError('registerAdkCredentialExchanger exchanger must have an exchange() method'),
    );
    expect(ToolAuthHandler.prototype.prepareAuthCredentials).toBe(before);
  });
});
