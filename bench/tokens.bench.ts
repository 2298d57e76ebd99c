import {GoogleAuth, JWT, gaxios} from 'google-auth-library';

import {parseAuthCredential} from '../src/credentials/parse.js';
import type {GoogleEmulator} from '../src/emulator/index.js';
import {ServiceAccountCredentialExchanger} from '../src/exchange/service-account-exchanger.js';
import {createGoogleFetch} from '../src/tokens/google-routing.js';
import {TokenCache} from '../src/tokens/token-cache.js';
import {type BenchRow, microsPerCall, percentile, runConcurrent} from './table.js';

const CALLS = 1000;
const CONCURRENCY = 100;
const AUDIENCE = 'https://svc-bench-abc.a.run.app';

/**
 * 1,000 ID-token exchanges at concurrency 100 against the emulator (with realistic latency):
 * ours (shared cache, single-flight) against google-auth-library's IdTokenClient used
 * directly (the anchor) and against a fresh fetch per call (ADK's per-call exchange).
 */
export async function runTokenBench(emulator: GoogleEmulator): Promise<BenchRow[]> {
  const key = await emulator.createServiceAccountKey(
    'bench@emulator-project.iam.gserviceaccount.com',
  );
  const transporter = () =>
    new gaxios.Gaxios({
      fetchImplementation: createGoogleFetch({emulatorHost: emulator.host}) as typeof fetch,
    });
  const tokenRequests = async (fn: () => Promise<unknown>) => {
    const before = emulator.requests.byEndpoint.token;
    const latencies = await runConcurrent(CALLS, CONCURRENCY, fn);
    return {latencies, requests: emulator.requests.byEndpoint.token - before};
  };

  // Anchor: google-auth-library's IdTokenClient, as most hand-written code uses it.
  const auth = new GoogleAuth({credentials: key.json, clientOptions: {transporter: transporter()}});
  const idTokenClient = await auth.getIdTokenClient(AUDIENCE);
  const anchor = await tokenRequests(() => idTokenClient.getRequestHeaders());
  const anchorWarm = await microsPerCall(20_000, () => idTokenClient.getRequestHeaders());

  // ADK's behaviour: a fresh token request on every exchange.
  const perCall = await tokenRequests(() =>
    new JWT({
      email: key.json.client_email,
      key: key.json.private_key,
      transporter: transporter(),
    }).fetchIdToken(AUDIENCE),
  );

  // Ours: the exchanger on a fresh cache.
  const authCredential = parseAuthCredential({
    authType: 'serviceAccount',
    serviceAccount: {serviceAccountCredential: key.json, useIdToken: true, audience: AUDIENCE},
  });
  const exchanger = new ServiceAccountCredentialExchanger({
    cache: new TokenCache(),
    tokenSourceOptions: {emulatorHost: emulator.host},
  });
  const ours = await tokenRequests(() => exchanger.exchange({authCredential}));
  const oursWarm = await microsPerCall(100_000, () => exchanger.exchange({authCredential}));

  const row = (
    scenario: string,
    r: {latencies: number[]; requests: number},
    warm?: number,
  ): BenchRow => ({
    group: 'tokens',
    scenario,
    'token requests': r.requests,
    'mean ms': r.latencies.reduce((a, b) => a + b, 0) / r.latencies.length,
    'p99 ms': percentile(r.latencies, 99),
    'warm µs/call': warm,
    'requests vs anchor': r.requests / anchor.requests,
    'warm vs anchor': warm === undefined ? undefined : warm / anchorWarm,
  });
  return [
    row('google-auth-library IdTokenClient (anchor)', anchor, anchorWarm),
    row('fresh fetch per call (ADK per-call exchange)', perCall),
    row('mcp-google-auth exchanger (shared cache)', ours, oursWarm),
  ];
}

export const TOKEN_COLUMNS = [
  'token requests',
  'mean ms',
  'p99 ms',
  'warm µs/call',
  'requests vs anchor',
  'warm vs anchor',
];
