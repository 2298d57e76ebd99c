/**
 * The HTTP layer: a Google credential on every request to one service. Every export here is
 * public API.
 */
export type {AuthHeaderMode} from './auth-header-mode.js';
export {explainAuthFailure} from './explain-auth-failure.js';
export type {AuthFailureContext} from './explain-auth-failure.js';
export {googleAuthFetch} from './google-auth-fetch.js';
export type {GoogleAuthFetchOptions} from './google-auth-fetch.js';
export {googleAuthProvider} from './google-auth-provider.js';
export type {GoogleAuthProvider, GoogleAuthProviderOptions} from './google-auth-provider.js';
export {googleOAuthClientProvider} from './google-oauth-client-provider.js';
