/**
 * End-to-end fixture: the Google auth emulator, the demo MCP server and the Cloud Run front
 * before it, all on 127.0.0.1, sharing one adjustable clock.
 */
import {
  startCloudRunGateway,
  startDemoMcpServer,
  startGoogleEmulator,
} from '../../../src/emulator/index.js';
import type {
  CloudRunGateway,
  CloudRunGatewayOptions,
  DemoMcpServer,
  GoogleEmulator,
} from '../../../src/emulator/index.js';

/** A clock that tests move forward (epoch ms = real time + offset). */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (ms) => {
      offset += ms;
    },
  };
}

export interface CloudRunStack {
  emulator: GoogleEmulator;
  demo: DemoMcpServer;
  gateway: CloudRunGateway;
  clock: TestClock;
  /** `${gateway.url}/mcp`: the MCP endpoint through the front. */
  mcpUrl: string;
  /** `${gateway.url}/sse`: the legacy SSE endpoint through the front. */
  sseUrl: string;
  /** Another front on the same demo server (e.g. with invokers or IAP mode); closed with the stack. */
  addGateway(options?: Partial<CloudRunGatewayOptions>): Promise<CloudRunGateway>;
  close(): Promise<void>;
}

export async function startCloudRunStack(
  gatewayOptions: Partial<CloudRunGatewayOptions> = {},
): Promise<CloudRunStack> {
  const clock = testClock();
  const emulator = await startGoogleEmulator({now: clock.now});
  const demo = await startDemoMcpServer();
  const extra: CloudRunGateway[] = [];
  const addGateway = async (options: Partial<CloudRunGatewayOptions> = {}) => {
    const gateway = await startCloudRunGateway({
      upstream: demo.origin,
      jwksUrl: emulator.jwksUrl,
      now: clock.now,
      ...options,
    });
    extra.push(gateway);
    return gateway;
  };
  const gateway = await addGateway(gatewayOptions);
  return {
    emulator,
    demo,
    gateway,
    clock,
    mcpUrl: `${gateway.url}/mcp`,
    sseUrl: `${gateway.url}/sse`,
    addGateway,
    async close() {
      await Promise.all(extra.map((g) => g.close()));
      await demo.close();
      await emulator.close();
    },
  };
}

/** Sets environment variables (undefined deletes) and returns a function that restores them. */
export function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(vars)) {
    saved[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/**
 * Points Application Default Credentials at the emulator: its routing variables, `gcloud`'s
 * configuration in its directory, and `GOOGLE_APPLICATION_CREDENTIALS` set to
 * `credentialsPath` (or unset, so ADC falls back to the metadata server). Returns a function
 * that restores the environment.
 */
export function useEmulatorEnv(emulator: GoogleEmulator, credentialsPath?: string): () => void {
  return setEnv({
    ...emulator.env(),
    GOOGLE_APPLICATION_CREDENTIALS: credentialsPath,
    CLOUDSDK_CONFIG: emulator.directory,
  });
}

/** The text of the first content block of a tool result. */
export function resultText(result: {content?: unknown}): string {
  const [first] = (result.content ?? []) as Array<{type: string; text?: string}>;
  return first?.text ?? '';
}
