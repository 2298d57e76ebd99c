/**
 * What Google identity costs an A2A call, on a warm token cache, against the same call
 * without any in the same run: `message/send` over JSON-RPC from an `@a2a-js/sdk` client to
 * the demo A2A agent (an `@a2a-js/sdk` express server) on loopback.
 * - anchor: the SDK's own client and fetch, to the agent without authentication;
 * - noise: the same on a second client (its difference from the anchor is the noise floor);
 * - client side: `googleA2aClientFactory` (ID token from the cache, origin guard) to the same
 *   unauthenticated agent, which ignores the header;
 * - both sides: `googleA2aClientFactory` to an agent guarded by `googleIdTokenUserBuilder`
 *   (its guard, then the builder; the signature is checked against the emulator's keys once
 *   and the verified-token cache answers afterwards).
 * The variants run in blocks that take turns in random order (see `interleaved`).
 */
import {randomUUID} from 'node:crypto';
import type {MessageSendParams} from '@a2a-js/sdk';
import {ClientFactory} from '@a2a-js/sdk/client';
import type {Client} from '@a2a-js/sdk/client';
import {googleA2aClientFactory} from '../src/a2a/index.js';
import {parseAuthCredential} from '../src/credentials/parse.js';
import {startDemoA2aAgent} from '../src/emulator/index.js';
import type {GoogleEmulator} from '../src/emulator/index.js';
import {TokenCache} from '../src/tokens/token-cache.js';
import {interleaved} from './fetch.bench.js';
import type {BenchRow} from './table.js';

const RUN = {rounds: 20, calls: 50} as const;

function send(client: Client): () => Promise<unknown> {
  return () => {
    const params: MessageSendParams = {
      message: {
        kind: 'message',
        messageId: randomUUID(),
        role: 'user',
        parts: [{kind: 'text', text: 'ping'}],
      },
    };
    return client.sendMessage(params);
  };
}

/** Measures the rows described above; starts and closes its own two demo agents. */
export async function runA2aBench(emulator: GoogleEmulator): Promise<BenchRow[]> {
  const key = await emulator.createServiceAccountKey(
    'bench-a2a@emulator-project.iam.gserviceaccount.com',
  );
  const authCredential = parseAuthCredential(
    {
      authType: 'serviceAccount',
      serviceAccount: {serviceAccountCredential: key.json, useIdToken: true},
    },
    {requireAudience: false},
  );
  const open = await startDemoA2aAgent();
  const guarded = await startDemoA2aAgent({authentication: {jwksUrl: emulator.jwksUrl}});
  try {
    const google = (url: string) =>
      googleA2aClientFactory({
        url,
        authCredential,
        cache: new TokenCache(),
        tokenSourceOptions: {emulatorHost: emulator.host},
      }).createClient();
    const plain = await new ClientFactory().createFromUrl(open.origin);
    const plainAgain = await new ClientFactory().createFromUrl(open.origin);
    const clientSide = await google(open.origin);
    const bothSides = await google(guarded.origin);
    const tokensBefore = emulator.requests.byEndpoint.token;
    const [anchor, noise, client, both] = await interleaved(RUN.rounds, RUN.calls, [
      send(plain),
      send(plainAgain),
      send(clientSide),
      send(bothSides),
    ]);
    const tokenRequests = emulator.requests.byEndpoint.token - tokensBefore;
    if (guarded.stats.lastCaller !== key.email) {
      throw new Error(
        `the guarded agent saw ${String(guarded.stats.lastCaller)}, not ${key.email}`,
      );
    }
    const row = (scenario: string, micros: number, overhead?: number): BenchRow => ({
      group: 'a2a',
      scenario,
      calls: RUN.rounds * RUN.calls,
      'µs/call': micros,
      'overhead µs/call': overhead,
      'vs anchor': micros / anchor!,
      'overhead % of A2A call':
        overhead === undefined ? undefined : `${((overhead / anchor!) * 100).toFixed(2)}%`,
      'token requests': tokenRequests,
    });
    return [
      row('message/send, @a2a-js/sdk client, no authentication (anchor)', anchor!),
      row('the same, another client (noise)', noise!, noise! - anchor!),
      row('googleA2aClientFactory, agent without authentication', client!, client! - anchor!),
      row('googleA2aClientFactory, agent with googleIdTokenUserBuilder', both!, both! - anchor!),
    ];
  } finally {
    await Promise.all([open.close(), guarded.close()]);
  }
}

/** Columns of {@link runA2aBench}'s rows, in order. */
export const A2A_COLUMNS = [
  'calls',
  'µs/call',
  'overhead µs/call',
  'vs anchor',
  'overhead % of A2A call',
  'token requests',
];
