/**
 * The offline stack `emulator` and `demo` run on 127.0.0.1: the Google auth emulator, the
 * demo MCP server, and the Cloud Run front before it; on request also the demo A2A agent
 * behind a front of its own.
 */
import {startCloudRunGateway, type CloudRunGateway} from '../emulator/cloud-run-gateway.js';
import {startDemoA2aAgent, type DemoA2aAgent} from '../emulator/demo-a2a-agent.js';
import {startDemoMcpServer, type DemoMcpServer} from '../emulator/demo-mcp-server.js';
import {
  startGoogleEmulator,
  type EmulatorServiceAccountKey,
  type GoogleEmulator,
} from '../emulator/google-emulator.js';

/** Options of {@link startLocalStack}. */
export interface LocalStackOptions {
  /**
   * Port of the emulator; the front takes `port + 1` and the demo server `port + 2`.
   * Default is 0 (free ports for all three).
   */
  port?: number;
  /** The service account whose key is written and who may invoke the front. Default is `mcp-agent@emulator-project.iam.gserviceaccount.com`. */
  serviceAccountEmail?: string;
  /** Emails allowed through the front. Default is anyone with a valid token. */
  invokers?: string[];
  /**
   * Also start the demo A2A agent (needs `@a2a-js/sdk`) behind a second front, on
   * `port + 4` (agent) and `port + 3` (front). Default is false.
   */
  a2a?: boolean;
}

/** The demo A2A agent and its front, in a {@link LocalStack}. */
export interface LocalA2a {
  agent: DemoA2aAgent;
  gateway: CloudRunGateway;
  /** The agent's URL behind the front (its card is at `/.well-known/agent-card.json`). */
  url: string;
}

/** A running {@link startLocalStack}. */
export interface LocalStack {
  emulator: GoogleEmulator;
  demo: DemoMcpServer;
  gateway: CloudRunGateway;
  /** The MCP endpoint behind the front: `${gateway.url}/mcp`. */
  mcpUrl: string;
  /** A service-account key file the emulator accepts. */
  key: EmulatorServiceAccountKey;
  /** The demo A2A agent behind its front, when `a2a` was asked for. */
  a2a?: LocalA2a;
  /** Stops the three servers (removes the key file). */
  close(): Promise<void>;
}

/** Default service account of the local stack. */
export const STACK_SERVICE_ACCOUNT = 'mcp-agent@emulator-project.iam.gserviceaccount.com';

/** Starts emulator, demo server and front; on failure stops whatever had started. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const base = options.port ?? 0;
  const portFor = (offset: number): number => (base === 0 ? 0 : base + offset);
  const started: {close(): Promise<void>}[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.allSettled(started.reverse().map((s) => s.close()));
  };
  try {
    const emulator = await startGoogleEmulator({port: portFor(0)});
    started.push(emulator);
    const demo = await startDemoMcpServer({port: portFor(2)});
    started.push(demo);
    const gateway = await startCloudRunGateway({
      upstream: demo.origin,
      jwksUrl: emulator.jwksUrl,
      port: portFor(1),
      ...(options.invokers ? {invokers: options.invokers} : {}),
    });
    started.push(gateway);
    let a2a: LocalA2a | undefined;
    if (options.a2a) {
      // The agent trusts its front (which checks the signature) and checks the claims itself.
      const agent = await startDemoA2aAgent({
        port: portFor(4),
        authentication: {jwksUrl: emulator.jwksUrl, front: 'cloud-run'},
      });
      started.push(agent);
      const a2aGateway = await startCloudRunGateway({
        upstream: agent.origin,
        jwksUrl: emulator.jwksUrl,
        port: portFor(3),
        ...(options.invokers ? {invokers: options.invokers} : {}),
      });
      started.push(a2aGateway);
      agent.setPublicUrl(a2aGateway.url);
      a2a = {agent, gateway: a2aGateway, url: a2aGateway.url};
    }
    const key = await emulator.createServiceAccountKey(
      options.serviceAccountEmail ?? STACK_SERVICE_ACCOUNT,
    );
    return {
      emulator,
      demo,
      gateway,
      key,
      mcpUrl: `${gateway.url}/mcp`,
      ...(a2a ? {a2a} : {}),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
