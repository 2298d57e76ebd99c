/**
 * Entry `mcp-google-auth/a2a`: Google identity for A2A (Agent2Agent) clients built on
 * `@a2a-js/sdk` (an optional peer dependency, loaded only by this entry), including ADK's
 * `RemoteA2AAgent`. The server side (`googleIdTokenUserBuilder`) is in `mcp-google-auth/verify`.
 * Every export here is public API; named exports only.
 */
export {A2aClientError} from './a2a-client-error.js';
export type {A2aClientErrorCode} from './a2a-client-error.js';
export {googleA2aClientFactory} from './google-a2a-client-factory.js';
export type {
  GoogleA2aClientFactory,
  GoogleA2aClientFactoryOptions,
} from './google-a2a-client-factory.js';
export {MAX_AGENT_CARD_BYTES} from './read-agent-card.js';
