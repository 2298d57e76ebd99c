/**
 * The whole protected path for framework tests: the Google emulator, the demo MCP server and
 * a Cloud Run front in front of it, plus a service-account credential the emulator issued.
 */
import {parseAuthCredential} from '../../../src/credentials/parse.js';
import type {AuthCredential} from '../../../src/credentials/types.js';
import {startCloudRunGateway} from '../../../src/emulator/cloud-run-gateway.js';
import type {CloudRunGateway} from '../../../src/emulator/cloud-run-gateway.js';
import {startDemoMcpServer} from '../../../src/emulator/demo-mcp-server.js';
import type {DemoMcpServer} from '../../../src/emulator/demo-mcp-server.js';
import {startGoogleEmulator} from '../../../src/emulator/google-emulator.js';
import type {GoogleEmulator} from '../../../src/emulator/google-emulator.js';
import type {TokenSourceOptions} from '../../../src/tokens/create-token-source.js';
import {TokenCache} from '../../../src/tokens/token-cache.js';

export interface ProtectedDemo {
  emu: GoogleEmulator;
  demo: DemoMcpServer;
  front: CloudRunGateway;
  /** `${front.url}/mcp`: the MCP endpoint behind the front. */
  mcpUrl: string;
  /** The service account the credential belongs to. */
  email: string;
  /** A key-file service account asking for ID tokens (audience: the URL's origin by default). */
  authCredential: AuthCredential;
  /** Routes every Google call to the emulator, without touching process.env. */
  tokenSourceOptions: TokenSourceOptions;
  /** A cache of this test's own, so that tests never share tokens. */
  cache: TokenCache;
  /**
   * Moves the clock of the emulator, the front and `cache` on by `ms` (a token minted after
   * this differs from one minted before, even within the same second).
   */
  advanceClock(ms: number): void;
  close(): Promise<void>;
}

export async function startProtectedDemo(): Promise<ProtectedDemo> {
  let offsetMs = 0;
  const now = (): number => Date.now() + offsetMs;
  const emu = await startGoogleEmulator({now});
  const demo = await startDemoMcpServer();
  const front = await startCloudRunGateway({upstream: demo.origin, jwksUrl: emu.jwksUrl, now});
  const key = await emu.createServiceAccountKey();
  const authCredential = parseAuthCredential(
    {
      authType: 'serviceAccount',
      serviceAccount: {serviceAccountCredential: key.json, useIdToken: true},
    },
    {requireAudience: false},
  );
  return {
    emu,
    demo,
    front,
    mcpUrl: `${front.url}/mcp`,
    email: key.email,
    authCredential,
    tokenSourceOptions: {emulatorHost: emu.host, env: {}},
    cache: new TokenCache({now}),
    advanceClock(ms) {
      offsetMs += ms;
    },
    async close() {
      await front.close();
      await demo.close();
      await emu.close();
    },
  };
}
