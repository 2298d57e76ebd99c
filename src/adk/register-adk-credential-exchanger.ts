/**
 * `@google/adk` 2.0.0 declares `ServiceAccount.useIdToken` and `audience`, but its OpenAPI
 * tools never read them: `RestApiTool.runAsync` builds a `ToolAuthHandler`, whose
 * `prepareAuthCredentials()` constructs a fixed `AutoAuthCredentialExchanger`, whose
 * service-account exchanger always fetches an OAuth2 access token. The package ships a
 * `CredentialExchangerRegistry`, but nothing consults it and it is not exported. The one
 * public seam on that path is the exported `ToolAuthHandler` class; this module installs
 * our exchanger there, for service-account credentials only.
 */
import {ToolAuthHandler} from '@google/adk';
import type {AuthCredential as AdkAuthCredential, AuthPreparationResult} from '@google/adk';
import {AuthCredentialTypes} from '../credentials/types.js';
import type {AuthCredential, AuthScheme} from '../credentials/types.js';
import {ServiceAccountCredentialExchanger} from '../exchange/service-account-exchanger.js';
import type {ExchangeResult} from '../exchange/service-account-exchanger.js';
import type {TokenCache} from '../tokens/token-cache.js';
import type {TokenSourceOptions} from '../tokens/create-token-source.js';

/** Something that exchanges a service-account credential, as ADK's `BaseCredentialExchanger`. */
export interface AdkServiceAccountExchanger {
  exchange(params: {
    authCredential: AuthCredential;
    authScheme?: AuthScheme;
  }): Promise<ExchangeResult>;
}

/** Options of {@link registerAdkCredentialExchanger}. */
export interface RegisterAdkCredentialExchangerOptions {
  /**
   * The exchanger for service-account credentials. Default is a new
   * `ServiceAccountCredentialExchanger` built from `cache` and `tokenSourceOptions`.
   */
  exchanger?: AdkServiceAccountExchanger;
  /** The token cache of the default exchanger. Default is the process-wide `defaultTokenCache()`. */
  cache?: TokenCache;
  /** How the default exchanger reaches Google (emulator host, fetch, environment). */
  tokenSourceOptions?: TokenSourceOptions;
  /**
   * The `ToolAuthHandler` class to patch. Default is the one `import {ToolAuthHandler} from
   * '@google/adk'` resolves to from this package; pass your own when your application
   * resolves another copy of `@google/adk` (or loads it with `require`).
   */
  toolAuthHandler?: typeof ToolAuthHandler;
}

type Prepare = (this: ToolAuthHandler) => Promise<AuthPreparationResult>;

/** The private fields of ADK's `ToolAuthHandler` that the replacement reads. */
interface ToolAuthHandlerFields {
  readonly authScheme?: AuthScheme;
  readonly authCredential?: AuthCredential;
}

/**
 * Makes `@google/adk`'s OpenAPI tools (`OpenAPIToolset`, `RestApiTool`) exchange
 * service-account credentials with {@link ServiceAccountCredentialExchanger}: with
 * `serviceAccount.useIdToken` they send an OIDC ID token for `serviceAccount.audience`
 * (Cloud Run, Cloud Run functions, IAP) instead of ADK's access token, and every token comes
 * from the shared cache, so it is refreshed before it expires (ADK keeps the first exchanged
 * token in session state for good). Other credential types keep ADK's own handling.
 *
 * Returns a function that removes this registration. Registrations stack: the newest one
 * handles service-account credentials until it is removed.
 *
 * @example
 * import {OpenAPIToolset} from '@google/adk';
 * import {registerAdkCredentialExchanger} from 'mcp-google-auth/adk';
 *
 * registerAdkCredentialExchanger();
 * const toolset = new OpenAPIToolset({
 *   specDict,
 *   authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
 *   authCredential: {
 *     authType: AuthCredentialTypes.SERVICE_ACCOUNT,
 *     serviceAccount: {useDefaultCredential: true, useIdToken: true, audience: 'https://svc-abc.a.run.app'},
 *   },
 * });
 */
export function registerAdkCredentialExchanger(
  options: RegisterAdkCredentialExchangerOptions = {},
): () => void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('registerAdkCredentialExchanger options must be an object');
  }
  const target = options.toolAuthHandler ?? ToolAuthHandler;
  const proto = (target as {prototype?: {prepareAuthCredentials?: unknown}} | undefined)?.prototype;
  if (typeof proto?.prepareAuthCredentials !== 'function') {
    throw new TypeError(
      "registerAdkCredentialExchanger toolAuthHandler must be @google/adk's ToolAuthHandler class",
    );
  }
  if (options.exchanger !== undefined && typeof options.exchanger?.exchange !== 'function') {
    throw new TypeError('registerAdkCredentialExchanger exchanger must have an exchange() method');
  }
  const exchanger =
    options.exchanger ??
    new ServiceAccountCredentialExchanger({
      cache: options.cache,
      tokenSourceOptions: options.tokenSourceOptions,
    });

  const handlerPrototype = target.prototype as {prepareAuthCredentials: Prepare};
  const hadOwn = Object.hasOwn(handlerPrototype, 'prepareAuthCredentials');
  const previous = handlerPrototype.prepareAuthCredentials;
  let active = true;

  const replacement: Prepare = async function (this: ToolAuthHandler) {
    const {authScheme, authCredential} = this as unknown as ToolAuthHandlerFields;
    if (
      !active ||
      !authScheme ||
      authCredential?.authType !== AuthCredentialTypes.SERVICE_ACCOUNT
    ) {
      return previous.call(this);
    }
    const {credential} = await exchanger.exchange({authCredential, authScheme});
    // Our credential model is ADK's with string literals for its enum; the shapes agree.
    return {state: 'done', authCredential: credential as unknown as AdkAuthCredential};
  };
  handlerPrototype.prepareAuthCredentials = replacement;

  return () => {
    if (!active) return;
    active = false;
    if (handlerPrototype.prepareAuthCredentials !== replacement) return; // a newer one is on top; stay inert
    if (hadOwn) handlerPrototype.prepareAuthCredentials = previous;
    else delete (handlerPrototype as Partial<typeof handlerPrototype>).prepareAuthCredentials;
  };
}
