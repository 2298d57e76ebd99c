/**
 * Internal: the origin guard of the A2A client. An agent card lists where the agent listens
 * (`url` with `preferredTransport`, and `additionalInterfaces`); a client built from it talks
 * only to the endpoints on the origin the credential is for.
 */
import type {AgentCard, AgentInterface} from '@a2a-js/sdk';
import {A2aClientError} from './a2a-client-error.js';

/** The transport a card's `url` speaks when `preferredTransport` is not set (A2A 0.3). */
const DEFAULT_TRANSPORT = 'JSONRPC';

/**
 * The card with its endpoints narrowed to `origin`: `additionalInterfaces` on other origins
 * are dropped, and when `url` itself is on another origin, the first interface on `origin`
 * takes its place. Throws {@link A2aClientError} (`a2a_origin_refused`) when no endpoint is
 * on `origin`, naming where the card points and how to fix it; nothing is sent anywhere.
 */
export function pinCardToOrigin(card: AgentCard, origin: string): AgentCard {
  const preferred: AgentInterface = {
    url: card.url,
    transport: card.preferredTransport ?? DEFAULT_TRANSPORT,
  };
  const listed = Array.isArray(card.additionalInterfaces) ? card.additionalInterfaces : [];
  const onOrigin = listed.filter((entry) => originOf(entry?.url) === origin);
  if (originOf(card.url) === origin) {
    return {...card, additionalInterfaces: onOrigin};
  }
  const first = onOrigin[0];
  if (first === undefined) {
    const elsewhere = [preferred, ...listed]
      .map((entry) => originOf(entry?.url) ?? 'an invalid URL')
      .filter((value, index, all) => all.indexOf(value) === index);
    throw new A2aClientError(
      'a2a_origin_refused',
      `The agent card names its endpoint at ${elsewhere.join(', ')}, not at ${origin} where the credential is for; the client sends neither the credential nor messages to another origin. Fix the card's url (with ADK's toA2a, set protocol, host and port to the service URL, e.g. protocol 'https', host 'svc-abc.a.run.app', port 443), or build the client for the endpoint's own URL.`,
      {url: safeUrl(card.url)},
    );
  }
  return {
    ...card,
    url: first.url,
    preferredTransport: first.transport,
    additionalInterfaces: onOrigin,
  };
}

function originOf(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/** A URL without query, fragment or user info, for messages. */
export function safeUrl(url: unknown): string {
  if (typeof url !== 'string') return String(url);
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return JSON.stringify(url.slice(0, 100));
  }
}
