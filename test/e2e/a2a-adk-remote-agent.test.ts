/**
 * ADK end to end over A2A through the emulated Cloud Run front: a calling LlmAgent (scripted
 * model) transfers to a RemoteA2AAgent built on googleA2aClientFactory, which calls an ADK
 * agent served with toA2a({authentication: googleIdTokenUserBuilder(...)}) behind the front.
 */
import {createServer} from 'node:http';
import type {IncomingMessage, Server, ServerResponse} from 'node:http';
import {createRequire} from 'node:module';
import type {AddressInfo} from 'node:net';
import {InMemoryRunner, LlmAgent, isFinalResponse, setLogger, stringifyContent} from '@google/adk';
import type {Event} from '@google/adk';
import {RemoteA2AAgent, toA2a} from '@google/adk/a2a';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {googleA2aClientFactory} from '../../src/a2a/index.js';
import {parseAuthCredential} from '../../src/credentials/parse.js';
import type {AuthCredential} from '../../src/credentials/types.js';
import {startCloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import type {CloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import {startGoogleEmulator} from '../../src/emulator/google-emulator.js';
import type {GoogleEmulator} from '../../src/emulator/google-emulator.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {googleIdTokenUserBuilder} from '../../src/verify/index.js';
import {ScriptedLlm} from '../adk/support/scripted-llm.js';
import {FixedAnswerLlm} from '../a2a/support/fixed-answer-llm.js';

setLogger(null);

type ExpressApp = ((req: IncomingMessage, res: ServerResponse) => void) & {
  use(...handlers: unknown[]): unknown;
};
const express = createRequire(import.meta.url)('express') as () => ExpressApp;

const REMOTE_ANSWER = 'The billing agent says: invoice 42 is paid.';

let emu: GoogleEmulator;
let front: CloudRunGateway;
let server: Server;
let callerEmail: string;
let authCredential: AuthCredential;
const remoteSaw: string[] = [];
const remoteModel = new FixedAnswerLlm(REMOTE_ANSWER);

beforeAll(async () => {
  emu = await startGoogleEmulator();
  // The container listens first (the front needs its origin), the app comes once the front's
  // URL, which the agent card must name, is known.
  let app: ExpressApp | undefined;
  server = createServer((req, res) => (app ? app(req, res) : res.writeHead(503).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const container = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  front = await startCloudRunGateway({upstream: container, jwksUrl: emu.jwksUrl});

  const authentication = googleIdTokenUserBuilder({
    audience: front.url,
    jwksUrl: emu.jwksUrl,
    front: 'cloud-run',
  });
  const served = express();
  served.use(authentication.guard);
  const remote = new LlmAgent({
    name: 'billing_agent',
    description: 'Answers questions about invoices.',
    model: remoteModel,
    instruction: 'Answer questions about invoices.',
  });
  app = (await toA2a(remote, {
    protocol: 'http',
    host: '127.0.0.1',
    port: Number(new URL(front.url).port),
    app: served as never,
    authentication: async (req) => {
      const user = await authentication(req);
      remoteSaw.push(user.userName);
      return user;
    },
  })) as unknown as ExpressApp;

  const key = await emu.createServiceAccountKey(
    'orchestrator@emulator-project.iam.gserviceaccount.com',
  );
  callerEmail = key.email;
  authCredential = parseAuthCredential(
    {
      authType: 'serviceAccount',
      serviceAccount: {serviceAccountCredential: key.json, useIdToken: true},
    },
    {requireAudience: false},
  );
});

afterAll(async () => {
  await front?.close();
  await new Promise<void>((resolve) => {
    server?.close(() => resolve());
    server?.closeAllConnections();
  });
  await emu?.close();
});

describe('RemoteA2AAgent on a private Cloud Run service', () => {
  it('the calling agent transfers to the remote one; the final event carries its answer, and the remote saw the caller', async () => {
    const factory = googleA2aClientFactory({
      url: front.url,
      authCredential,
      tokenSourceOptions: {emulatorHost: emu.host, env: {}},
      cache: new TokenCache(),
    });
    const billing = new RemoteA2AAgent({
      name: 'billing_agent',
      description: 'Answers questions about invoices.',
      agentCard: await factory.fetchAgentCard(),
      clientFactory: factory,
    });
    const callerModel = new ScriptedLlm('transfer_to_agent', {agentName: 'billing_agent'});
    const root = new LlmAgent({
      name: 'orchestrator',
      model: callerModel,
      instruction: 'Hand invoice questions to billing_agent.',
      subAgents: [billing],
    });
    const runner = new InMemoryRunner({agent: root, appName: 'a2a-e2e'});
    const events: Event[] = [];
    for await (const event of runner.runEphemeral({
      userId: 'u1',
      newMessage: {role: 'user', parts: [{text: 'Is invoice 42 paid?'}]},
    })) {
      events.push(event);
    }

    expect(events.some((event) => event.actions?.transferToAgent === 'billing_agent')).toBe(true);
    const errors = events.filter((event) => event.errorMessage);
    expect(errors.map((event) => event.errorMessage)).toEqual([]);
    const final = events.filter(isFinalResponse).at(-1);
    expect(final?.author).toBe('billing_agent');
    expect(final && stringifyContent(final)).toContain(REMOTE_ANSWER);
    // The remote model got the user's question; its server saw the orchestrator's identity.
    expect(JSON.stringify(remoteModel.requests.at(-1)?.contents)).toContain('Is invoice 42 paid?');
    expect(remoteSaw.length).toBeGreaterThan(0);
    expect(new Set(remoteSaw)).toEqual(new Set([callerEmail]));
    expect(front.stats.missingToken + front.stats.invalidToken).toBe(0);
    expect(emu.requests.byEndpoint.token).toBe(1);
  });

  it("the problem: ADK's own RemoteA2AAgent sends no token, and the front answers 403", async () => {
    const before = front.stats.missingToken;
    const plain = new RemoteA2AAgent({name: 'billing_agent', agentCard: front.url});
    const runner = new InMemoryRunner({agent: plain, appName: 'a2a-e2e-plain'});
    const run = async (): Promise<void> => {
      for await (const _event of runner.runEphemeral({
        userId: 'u1',
        newMessage: {role: 'user', parts: [{text: 'Is invoice 42 paid?'}]},
      })) {
        // the card request fails before any event
      }
    };
    await expect(run()).rejects.toThrow(/Failed to fetch Agent Card .*: 403/);
    expect(front.stats.missingToken - before).toBe(1);
  });

  it('a caller without a token never reaches the remote model', async () => {
    const before = remoteModel.requests.length;
    const response = await fetch(`${front.url}/jsonrpc`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: '{"jsonrpc":"2.0","id":1,"method":"message/send","params":{}}',
    });
    expect(response.status).toBe(403);
    expect(remoteModel.requests.length).toBe(before);
  });
});
