/**
 * What the proxy tests share: the Google emulator, a demo MCP server behind the Cloud Run
 * front, and the fetch the proxy command builds (googleAuthFetch over nodeHttpFetch, with
 * real tokens from the emulator).
 */
import {nodeHttpFetch} from '../../../src/cli/proxy/node-http-fetch.js';
import type {NodeHttpFetch} from '../../../src/cli/proxy/node-http-fetch.js';
import type {ProxyLogger} from '../../../src/cli/proxy/proxy-logger.js';
import {parseAuthCredential} from '../../../src/credentials/parse.js';
import {AuthCredentialTypes} from '../../../src/credentials/types.js';
import {startCloudRunGateway} from '../../../src/emulator/cloud-run-gateway.js';
import type {
  CloudRunGateway,
  CloudRunGatewayOptions,
} from '../../../src/emulator/cloud-run-gateway.js';
import {startDemoMcpServer} from '../../../src/emulator/demo-mcp-server.js';
import type {DemoMcpServer, DemoMcpServerOptions} from '../../../src/emulator/demo-mcp-server.js';
import type {GoogleEmulator} from '../../../src/emulator/google-emulator.js';
import {googleAuthFetch} from '../../../src/http/google-auth-fetch.js';
import type {FetchLike} from '../../../src/tokens/google-routing.js';
import {TokenCache} from '../../../src/tokens/token-cache.js';

/** The text of a tool result. */
export function textOf(result: unknown): string {
  const content = (result as {content: {type: string; text?: string}[]}).content;
  return content.map((item) => item.text ?? '').join('');
}

/** A logger that keeps its lines (debug dropped). */
export function recordingLogger(): ProxyLogger & {lines: string[]} {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
    debug: () => undefined,
  };
}

/** A demo server behind a front, and the proxy's fetch for it. */
export interface ProxyStack {
  demo: DemoMcpServer;
  gateway: CloudRunGateway;
  /** `${gateway.url}/mcp`. */
  mcpUrl: string;
  /** googleAuthFetch over nodeHttpFetch, as the command builds it; `base` wraps nodeHttpFetch when given. */
  authFetch(wrap?: (fetch: FetchLike) => FetchLike): FetchLike;
  close(): Promise<void>;
}

/** Starts a demo server and a front before it; the caller owns `emu`. */
export async function startProxyStack(
  emu: GoogleEmulator,
  keyJson: Record<string, string>,
  options: {
    gateway?: Partial<CloudRunGatewayOptions>;
    demo?: DemoMcpServerOptions;
  } = {},
): Promise<ProxyStack> {
  const demo = await startDemoMcpServer(options.demo);
  const gateway = await startCloudRunGateway({
    upstream: demo.origin,
    jwksUrl: emu.jwksUrl,
    ...options.gateway,
  });
  const cache = new TokenCache();
  const bases: NodeHttpFetch[] = [];
  return {
    demo,
    gateway,
    mcpUrl: `${gateway.url}/mcp`,
    authFetch(wrap) {
      const base = nodeHttpFetch();
      bases.push(base);
      return googleAuthFetch({
        authCredential: parseAuthCredential({
          authType: AuthCredentialTypes.SERVICE_ACCOUNT,
          serviceAccount: {
            serviceAccountCredential: keyJson,
            useIdToken: true,
            audience: gateway.url,
          },
        }),
        targetUrl: `${gateway.url}/mcp`,
        cache,
        tokenSourceOptions: {emulatorHost: emu.host},
        fetch: wrap ? wrap(base) : base,
      });
    },
    async close() {
      for (const base of bases) base.close();
      await gateway.close();
      await demo.close();
    },
  };
}
