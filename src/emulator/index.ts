/**
 * Entry `mcp-google-auth/emulator`: offline stand-ins for Google's auth endpoints. Every export
 * here is public API; production code never imports this entry.
 */
export {startGoogleEmulator} from './google-emulator.js';
export type {
  EmulatorAuthorizedUser,
  EmulatorEndpoint,
  EmulatorExternalAccountFile,
  EmulatorFault,
  EmulatorImpersonatedFile,
  EmulatorRequestCounts,
  EmulatorServiceAccountKey,
  ExternalAccountFileOptions,
  GoogleEmulator,
  GoogleEmulatorOptions,
  IapAssertionIssuer,
  ImpersonatedServiceAccountFileOptions,
  MintIapAssertionOptions,
  MintIdTokenOptions,
} from './google-emulator.js';
export {emulatorIapJwksUrl, emulatorJwksUrl} from './emulator-key-urls.js';
export {startCloudRunGateway} from './cloud-run-gateway.js';
export type {
  CloudRunGateway,
  CloudRunGatewayMode,
  CloudRunGatewayOptions,
  CloudRunGatewayStats,
} from './cloud-run-gateway.js';
export {startDemoMcpServer} from './demo-mcp-server.js';
export type {DemoMcpServer, DemoMcpServerOptions, DemoMcpServerStats} from './demo-mcp-server.js';
export {startDemoA2aAgent} from './demo-a2a-agent.js';
export type {DemoA2aAgent, DemoA2aAgentOptions, DemoA2aAgentStats} from './demo-a2a-agent.js';
