/**
 * Internal: `@google/adk`'s agent auth flow for an {@link AdkMcpToolset} whose own
 * credential cannot authenticate by itself (no `authCredential`, or an OAuth2 / OpenID
 * Connect credential without an access token).
 *
 * ADK 2.0.0's `MCPTool` has no auth at all; its one tool that runs the flow is the OpenAPI
 * `RestApiTool`, through `ToolAuthHandler.prepareAuthCredentials()`: it takes a credential
 * the client supplied for the tool's `AuthConfig` (`toolContext.getAuthResponse`), keeps it in
 * session state for later invocations, and otherwise asks the client for one
 * (`toolContext.requestCredential`) and answers `{pending: true, message}`. This does the
 * same, with two differences that keep a credential to the server it was given for: the
 * state key is this toolset's (`<credentialKey>_exchanged_credential`, not the
 * `<scheme type>_existing_exchanged_credential` that every OpenAPI tool of that scheme type
 * shares), and a credential the client has just supplied wins over an older stored one.
 */
import {AuthHandler} from '@google/adk';
import type {
  AuthConfig,
  AuthCredential as AdkAuthCredential,
  AuthScheme as AdkAuthScheme,
  Context,
  ReadonlyContext,
  State,
} from '@google/adk';
import {InvalidCredentialError} from '../credentials/errors.js';
import {parseAuthCredential} from '../credentials/parse.js';
import type {AuthCredential, AuthScheme} from '../credentials/types.js';
import {planCredential} from '../http/credential-plan.js';

/** What a call carries, or that it waits for the user. */
export type AuthPreparation =
  | {readonly state: 'pending'}
  | {readonly state: 'done'; readonly headers: Record<string, string> | undefined};

/** The tool result while ADK's flow waits for the user, as ADK's `RestApiTool` answers it. */
export function pendingAuthResult(): {pending: true; message: string} {
  return {pending: true, message: 'Needs your authorization to access your data.'};
}

/**
 * Whether `input` authenticates requests without the user: a service account, an HTTP
 * token or basic credential, an API key, an OAuth2 / OpenID Connect access token (in
 * camelCase or ADK Python's snake_case). A malformed credential counts as self-sufficient, so
 * that `McpToolset` refuses it with an error naming the field.
 */
export function isSelfSufficient(input: AuthCredential | undefined): boolean {
  if (input === undefined || input === null) return false;
  let credential: AuthCredential;
  try {
    credential = parseAuthCredential(input, {requireAudience: false});
  } catch {
    return true;
  }
  if (credential.authType === 'oauth2' || credential.authType === 'openIdConnect') {
    return (
      typeof credential.oauth2?.accessToken === 'string' && credential.oauth2.accessToken !== ''
    );
  }
  return true;
}

/** Internal: the flow for one toolset (see the file comment). */
export class AdkAuthFlow {
  readonly #config: AuthConfig;
  readonly #authScheme: AuthScheme;
  readonly #storeKey: string;

  /** `owner` names the options object in messages. Throws a TypeError for a scheme ADK cannot ask for. */
  constructor(
    authScheme: AuthScheme,
    authCredential: AuthCredential | undefined,
    credentialKey: string,
    owner: string,
  ) {
    if (authScheme.type === 'apiKey' && authScheme.in !== 'header') {
      throw new TypeError(
        `${owner} authScheme.in must be 'header' when the API key comes from ADK's auth flow (set authCredential.apiKey for a key in the query)`,
      );
    }
    if (authScheme.type === 'oauth2' || authScheme.type === 'openIdConnect') {
      const oauth2 = authCredential?.oauth2;
      if (!oauth2?.authUri && !(oauth2?.clientId && oauth2.clientSecret)) {
        throw new TypeError(
          `${owner} authCredential.oauth2 needs clientId and clientSecret (or authUri) for ADK's ${authScheme.type} flow, or an accessToken to use as it is`,
        );
      }
    }
    this.#authScheme = authScheme;
    this.#storeKey = `${credentialKey}_exchanged_credential`;
    this.#config = {
      authScheme: authScheme as unknown as AdkAuthScheme,
      rawAuthCredential: authCredential as unknown as AdkAuthCredential | undefined,
      credentialKey,
    };
  }

  /**
   * For a tool call: the supplied or stored credential's headers, or `pending` after asking
   * the client for a credential. Needs ADK's tool `Context`.
   */
  prepare(toolContext: Context | undefined): AuthPreparation {
    if (
      typeof toolContext?.getAuthResponse !== 'function' ||
      typeof toolContext.requestCredential !== 'function'
    ) {
      throw new TypeError(
        "AdkMcpToolset: this toolset's credential comes from ADK's auth flow, which needs the tool context ADK passes to runAsync({args, toolContext})",
      );
    }
    const supplied = toolContext.getAuthResponse(this.#config) as AuthCredential | undefined;
    if (supplied) {
      const headers = this.#headersFor(supplied);
      const stored = toolContext.state.get<AuthCredential>(this.#storeKey);
      if (JSON.stringify(stored) !== JSON.stringify(supplied)) {
        toolContext.state.set(this.#storeKey, supplied);
      }
      return {state: 'done', headers};
    }
    const stored = toolContext.state.get<AuthCredential>(this.#storeKey);
    if (stored) return {state: 'done', headers: this.#headersFor(stored)};
    // A copy: ADK keeps the request in the event it emits.
    toolContext.requestCredential({...this.#config});
    return {state: 'pending'};
  }

  /**
   * For listing tools: the headers of a credential already supplied or stored, else none
   * (the server then sees the request without the user's credential).
   */
  headersFor(context: ReadonlyContext | undefined): Record<string, string> | undefined {
    const state = context?.state as State | undefined;
    if (typeof state?.get !== 'function') return undefined;
    const credential =
      (new AuthHandler(this.#config).getAuthResponse(state) as AuthCredential | undefined) ??
      state.get<AuthCredential>(this.#storeKey);
    return credential ? this.#headersFor(credential) : undefined;
  }

  #headersFor(credential: AuthCredential): Record<string, string> {
    const plan =
      credential?.authType === 'serviceAccount'
        ? undefined
        : planCredential({
            authCredential: credential,
            authScheme: this.#authScheme,
            owner: 'AdkMcpToolset',
            headerOption: 'authHeader',
          });
    if (plan?.kind !== 'static' || plan.placement !== 'header') {
      throw new InvalidCredentialError(
        'authType',
        `a credential from ADK's auth flow must be an HTTP token, an OAuth2 access token or an API key in a header, got ${JSON.stringify(credential?.authType)}`,
      );
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of plan.extraHeaders) headers[name] = value;
    headers[plan.name] = plan.value;
    return headers;
  }
}
