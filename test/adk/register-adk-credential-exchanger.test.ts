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

beforeAll(async () => {
  emu = await startGoogleEmulator();
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

  it('refuses something that is not ToolAuthHandler, naming the option', () => {
    expect(() => registerAdkCredentialExchanger({toolAuthHandler: {} as never})).toThrow(
      /toolAuthHandler/,
    );
  });
});
