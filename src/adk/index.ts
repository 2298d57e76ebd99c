/**
 * Entry `mcp-google-auth/adk`: Google ID tokens inside `@google/adk` (an optional peer
 * dependency, loaded only by this entry). Every export here is public API.
 */
export {AdkMcpToolset} from './adk-mcp-toolset.js';
export type {AdkMcpHeaderProvider, AdkMcpToolsetOptions} from './adk-mcp-toolset.js';
export {AdkMcpTool} from './adk-mcp-tool.js';
export {adkMcpConnectionParams} from './adk-mcp-connection-params.js';
export type {AdkMcpConnectionParamsOptions} from './adk-mcp-connection-params.js';
export {registerAdkCredentialExchanger} from './register-adk-credential-exchanger.js';
export type {
  AdkServiceAccountExchanger,
  RegisterAdkCredentialExchangerOptions,
} from './register-adk-credential-exchanger.js';
export {ScriptedLlm} from './scripted-llm.js';
export type {ScriptedLlmCall, ScriptedLlmOptions, ScriptedLlmToolResponse} from './scripted-llm.js';
