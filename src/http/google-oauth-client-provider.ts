/**
 * The MCP SDK 1.x `OAuthClientProvider` shape over `googleAuthProvider`, for MCP clients
 * whose only dynamic auth option is `authProvider` (LangChain's MultiServerMCPClient,
 * Mastra 0.x, the Vercel AI SDK's `authProvider`).
 *
 * The transport calls `tokens()` before every request, so each request carries a token from
 * the shared cache. On a 401 the SDK runs its OAuth flow: discovery requests to the server's
 * origin (sent without a token), then `redirectToAuthorization`, where this provider drops
 * the refused token from the cache and fails; the next connection gets a fresh token.
 */
import type {OAuthClientProvider} from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import {CredentialExchangeError} from '../credentials/errors.js';
import {googleAuthProvider} from './google-auth-provider.js';
import type {GoogleAuthProviderOptions} from './google-auth-provider.js';

const UNUSED_REDIRECT = 'http://127.0.0.1/mcp-google-auth/no-interactive-oauth';

/**
 * An MCP SDK 1.x `OAuthClientProvider` that hands out Google tokens from the shared cache and
 * never starts interactive OAuth.
 *
 * @example
 * new MultiServerMCPClient({mcpServers: {svc: {transport: 'http', url,
 *   authProvider: googleOAuthClientProvider({authCredential, targetUrl: url})}}});
 */
export function googleOAuthClientProvider(options: GoogleAuthProviderOptions): OAuthClientProvider {
  const provider = googleAuthProvider(options);
  return {
    get redirectUrl(): string {
      return UNUSED_REDIRECT;
    },
    get clientMetadata(): OAuthClientMetadata {
      return {redirect_uris: [UNUSED_REDIRECT], client_name: 'mcp-google-auth'};
    },
    clientInformation(): OAuthClientInformationMixed {
      return {client_id: 'mcp-google-auth'};
    },
    async tokens(): Promise<OAuthTokens> {
      return {access_token: await provider.token(), token_type: 'Bearer'};
    },
    saveTokens(): void {},
    saveCodeVerifier(): void {},
    codeVerifier(): string {
      return '';
    },
    async redirectToAuthorization(): Promise<void> {
      await provider.onUnauthorized();
      throw new CredentialExchangeError(
        'The MCP server refused the Google token (401); it was dropped from the cache, so the next connection fetches a new one. Interactive OAuth is not used.',
        {code: 'unauthorized'},
      );
    },
  };
}
