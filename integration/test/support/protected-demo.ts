/**
 * The whole protected path for integration tests, built only from the package's public
 * entries (as a user would): the Google emulator, the demo MCP server and a Cloud Run front
 * in front of it, plus a service-account credential the emulator issued.
 */
import {TokenCache, parseAuthCredential} from 'mcp-google-auth';
import type {AuthCredential, GoogleAuthFetchOptions} from 'mcp-google-auth';
import {
  startCloudRunGateway,
  startDemoMcpServer,
  startGoogleEmulator,
} from 'mcp-google-auth/emulator';
import type {CloudRunGateway, DemoMcpServer, GoogleEmulator} from 'mcp-google-auth/emulator';

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
  tokenSourceOptions: NonNullable<GoogleAuthFetchOptions['tokenSourceOptions']>;
  /** A cache of this test's own, so that tests never share tokens. */
  cache: TokenCache;
  close(): Promise<void>;
}

export async function startProtectedDemo(): Promise<ProtectedDemo> {
  const emu = await startGoogleEmulator();
  const demo = await startDemoMcpServer();
  const front = await startCloudRunGateway({upstream: demo.origin, jwksUrl: emu.jwksUrl});
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
    cache: new TokenCache(),
    async close() {
      await front.close();
      await demo.close();
      await emu.close();
    },
  };
}
