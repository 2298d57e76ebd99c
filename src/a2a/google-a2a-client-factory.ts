import type {AgentCard} from '@a2a-js/sdk';
import {AGENT_CARD_PATH} from '@a2a-js/sdk';
import {ClientFactory, JsonRpcTransportFactory, RestTransportFactory} from '@a2a-js/sdk/client';
import type {Client, ClientConfig, ClientFactoryOptions} from '@a2a-js/sdk/client';
import {googleAuthFetch} from '../http/google-auth-fetch.js';
import type {GoogleAuthFetchOptions} from '../http/google-auth-fetch.js';
import type {FetchLike} from '../tokens/google-routing.js';
import {pinCardToOrigin} from './pin-card-to-origin.js';
import {readAgentCard} from './read-agent-card.js';

/**
 * Options of {@link googleA2aClientFactory}: where the agent is, plus every option of
 * `googleAuthFetch` except `targetUrl` (the agent's URL is the target). Validated once, when
 * the factory is built.
 */
export interface GoogleA2aClientFactoryOptions extends Omit<GoogleAuthFetchOptions, 'targetUrl'> {
  /**
   * The agent: its base URL (`https://svc-abc.a.run.app`, or with a path such as
   * `https://svc-abc.a.run.app/a2a`; the card is read from {@link agentCardPath} below it), or
   * the agent card's own URL (a path ending in `.json`). Its origin is the only one that gets
   * the credential, the default audience (Cloud Run's rule), and the only origin the client
   * talks to. `http(s)` only. Required.
   */
  url: string | URL;
  /**
   * The agent card's path below `url`. Default is `.well-known/agent-card.json` (A2A 0.3), or
   * none when `url` already ends in `.json`.
   */
  agentCardPath?: string;
  /** The `@a2a-js/sdk` client configuration (interceptors, polling, accepted output modes). Default is none. */
  clientConfig?: ClientConfig;
  /**
   * Transports to prefer over the card's order, among `JSONRPC` and `HTTP+JSON`. Default is the
   * card's own preference.
   */
  preferredTransports?: ClientFactoryOptions['preferredTransports'];
}

/**
 * An `@a2a-js/sdk` `ClientFactory` whose agent card requests and JSON-RPC / REST transports
 * carry a Google credential, for one agent's origin only. Built by {@link googleA2aClientFactory}.
 */
export class GoogleA2aClientFactory extends ClientFactory {
  /** The agent URL the factory was built for. */
  readonly url: string;
  /** The only origin that gets the credential and that clients of this factory talk to. */
  readonly origin: string;
  /** Where {@link fetchAgentCard} reads the agent card. */
  readonly agentCardUrl: string;
  /**
   * The authenticated fetch (`googleAuthFetch` pinned to {@link origin}) the card requests and
   * transports use; requests to other origins go out without the credential.
   */
  readonly fetch: FetchLike;

  /** @internal Use {@link googleA2aClientFactory}. */
  constructor(options: GoogleA2aClientFactoryOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(
        'googleA2aClientFactory options must be an object with url and authCredential',
      );
    }
    const url = agentUrl(options.url);
    checkPreferredTransports(options.preferredTransports);
    const cardUrl = agentCardUrl(url, options.agentCardPath);
    const {
      url: _url,
      agentCardPath: _path,
      clientConfig,
      preferredTransports,
      ...fetchOptions
    } = options;
    const authFetch = googleAuthFetch({...fetchOptions, targetUrl: url});
    const fetchImpl = authFetch;
    super({
      transports: [new JsonRpcTransportFactory({fetchImpl}), new RestTransportFactory({fetchImpl})],
      cardResolver: {
        resolve: (baseUrl, path) =>
          readAgentCard(authFetch, new URL(path ?? AGENT_CARD_PATH, baseUrl)),
      },
      ...(clientConfig !== undefined ? {clientConfig} : {}),
      ...(preferredTransports !== undefined ? {preferredTransports} : {}),
    });
    this.url = url.href;
    this.origin = url.origin;
    this.agentCardUrl = cardUrl.href;
    this.fetch = authFetch;
  }

  /**
   * Fetches the agent card from {@link agentCardUrl} with the credential, as the agent
   * published it. Throws `A2aClientError` (`a2a_card_unavailable`, with the HTTP status and
   * what a 401 or 403 means) when it cannot.
   */
  fetchAgentCard(): Promise<AgentCard> {
    return readAgentCard(this.fetch, new URL(this.agentCardUrl));
  }

  /** Fetches the agent card and builds a client from it (see {@link createFromAgentCard}). */
  async createClient(): Promise<Client> {
    return this.createFromAgentCard(await this.fetchAgentCard());
  }

  /**
   * Builds a client from `agentCard`, talking only to the card's endpoints on {@link origin}:
   * interfaces on other origins are dropped, and a card whose endpoints are all elsewhere is
   * refused with `A2aClientError` (`a2a_origin_refused`) before anything is sent.
   */
  override createFromAgentCard(agentCard: AgentCard): Promise<Client> {
    try {
      return super.createFromAgentCard(pinCardToOrigin(agentCard, this.origin));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/**
 * An `@a2a-js/sdk` `ClientFactory` for one agent behind Google's front (Cloud Run with
 * "Require authentication", IAP): the agent card and every JSON-RPC or REST call carry a
 * Google credential from `googleAuthFetch` (ID token from the shared cache, refreshed before
 * expiry, one retry with a fresh token on 401), only ever to the agent URL's origin, which
 * is also the default audience. A card whose endpoints point at another origin never gets
 * the credential (nor the messages). Give it to ADK's `RemoteA2AAgent` as `clientFactory`.
 *
 * @example
 * const factory = googleA2aClientFactory({
 *   url: 'https://agent-abc.a.run.app',
 *   authCredential: {authType: 'serviceAccount', serviceAccount: {useDefaultCredential: true, useIdToken: true}},
 * });
 * const client = await factory.createClient();
 * const reply = await client.sendMessage({message: {kind: 'message', messageId: randomUUID(), role: 'user', parts: [{kind: 'text', text: 'hi'}]}});
 */
export function googleA2aClientFactory(
  options: GoogleA2aClientFactoryOptions,
): GoogleA2aClientFactory {
  return new GoogleA2aClientFactory(options);
}

function agentUrl(value: unknown): URL {
  let url: URL | undefined;
  if (value instanceof URL) url = new URL(value.href);
  else if (typeof value === 'string') {
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new TypeError(
      `googleA2aClientFactory url must be the agent's http(s) URL, e.g. https://agent-abc.a.run.app, got ${JSON.stringify(String(value))}`,
    );
  }
  return url;
}

/** The transports this factory has (both speak HTTP through the authenticated fetch). */
const TRANSPORTS = ['JSONRPC', 'HTTP+JSON'];

function checkPreferredTransports(value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((name) => !TRANSPORTS.includes(name))) {
    throw new TypeError(
      `googleA2aClientFactory preferredTransports must be a list of ${TRANSPORTS.map((t) => `'${t}'`).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
}

function agentCardUrl(url: URL, path: unknown): URL {
  if (path !== undefined && (typeof path !== 'string' || path.trim() === '')) {
    throw new TypeError(
      `googleA2aClientFactory agentCardPath must be a non-empty relative path such as '.well-known/agent-card.json', got ${JSON.stringify(path)}`,
    );
  }
  if (path === undefined && url.pathname.endsWith('.json')) return new URL(url.href);
  const directory = new URL(url.href);
  directory.search = '';
  directory.hash = '';
  if (!directory.pathname.endsWith('/')) directory.pathname = `${directory.pathname}/`;
  const card = new URL((path ?? AGENT_CARD_PATH).replace(/^\/+/, ''), directory);
  if (card.origin !== url.origin) {
    throw new TypeError(
      "googleA2aClientFactory agentCardPath must stay on the agent URL's origin (a relative path)",
    );
  }
  return card;
}
