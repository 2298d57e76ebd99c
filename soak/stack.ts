/**
 * The world a soak runs in, all on 127.0.0.1: the Google auth emulator (token endpoint,
 * metadata server, IAM Credentials, STS, JWKS), the demo MCP server, and the emulated Cloud
 * Run front before it. Credentials for four clients, each on a different path to its ID
 * token, so that faults on every Google endpoint meet a client that needs it.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {
  startCloudRunGateway,
  startDemoMcpServer,
  startGoogleEmulator,
} from '../src/emulator/index.js';
import type {
  CloudRunGateway,
  DemoMcpServer,
  EmulatorServiceAccountKey,
  GoogleEmulator,
} from '../src/emulator/index.js';

/** A running soak world. */
export interface SoakStack {
  readonly emulator: GoogleEmulator;
  readonly demo: DemoMcpServer;
  readonly front: CloudRunGateway;
  /** `${front.url}/mcp`. */
  readonly mcpUrl: string;
  /** A service-account key (the stdio proxy's `--key-file`, the SDK client's impersonation caller). */
  readonly key: EmulatorServiceAccountKey;
  /** The service account the SDK client impersonates. */
  readonly impersonationTarget: string;
  /** An external_account file (the HTTP proxy's `--key-file`: STS, then IAM Credentials). */
  readonly externalAccountPath: string;
  /**
   * The environment of this process while the soak runs: ADC finds the emulator's metadata
   * server (no credential file, an empty gcloud directory), Google's hosts route to the
   * emulator. The CLI proxies get the same plus `--key-file`.
   */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the world with tokens living `tokenLifetimeSeconds`; sets `process.env` (restored by `close`). */
export async function startSoakStack(tokenLifetimeSeconds: number): Promise<SoakStack> {
  const emulator = await startGoogleEmulator({tokenLifetimeSeconds});
  const demo = await startDemoMcpServer();
  const front = await startCloudRunGateway({upstream: demo.origin, jwksUrl: emulator.jwksUrl});
  const key = await emulator.createServiceAccountKey(
    `soak-caller@${emulator.projectId}.iam.gserviceaccount.com`,
  );
  const external = await emulator.createExternalAccountFile({
    serviceAccountEmail: `soak-workload@${emulator.projectId}.iam.gserviceaccount.com`,
  });
  const gcloud = mkdtempSync(join(tmpdir(), 'mga-soak-gcloud-'));
  const env: Record<string, string> = {
    ...emulator.env(),
    CLOUDSDK_CONFIG: gcloud,
  };
  const saved = new Map<string, string | undefined>();
  const set = (name: string, value: string | undefined) => {
    if (!saved.has(name)) saved.set(name, process.env[name]);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  for (const [name, value] of Object.entries(env)) set(name, value);
  set('GOOGLE_APPLICATION_CREDENTIALS', undefined);
  set('GCE_METADATA_IP', undefined);
  return {
    emulator,
    demo,
    front,
    mcpUrl: `${front.url}/mcp`,
    key,
    impersonationTarget: `soak-target@${emulator.projectId}.iam.gserviceaccount.com`,
    externalAccountPath: external.path,
    env,
    async close() {
      await front.close();
      await demo.close();
      await emulator.close();
      rmSync(gcloud, {recursive: true, force: true});
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    },
  };
}
