/**
 * Internal: fetches an agent card with the authenticated fetch, reads at most
 * {@link MAX_AGENT_CARD_BYTES}, and hands the JSON to `@a2a-js/sdk`'s resolver so that both
 * card dialects of A2A 0.3 (JSON schema and protobuf JSON) come out in the SDK's shape.
 */
import type {AgentCard} from '@a2a-js/sdk';
import {DefaultAgentCardResolver} from '@a2a-js/sdk/client';
import {explainAuthFailure} from '../http/explain-auth-failure.js';
import type {FetchLike} from '../tokens/google-routing.js';
import {A2aClientError} from './a2a-client-error.js';
import {safeUrl} from './pin-card-to-origin.js';

/** Largest agent card read, in bytes (1 MiB); a larger answer is refused. */
export const MAX_AGENT_CARD_BYTES = 1024 * 1024;

/**
 * GETs `cardUrl` through `fetch` and returns the agent card. Throws {@link A2aClientError}
 * (`a2a_card_unavailable`, with `status` when the server answered one) for an HTTP error, a
 * body that is too large or not JSON, or JSON that is not an agent card. Network failures
 * propagate as they are.
 */
export async function readAgentCard(fetch: FetchLike, cardUrl: URL): Promise<AgentCard> {
  const where = safeUrl(cardUrl.href);
  const response = await fetch(cardUrl.href, {headers: {accept: 'application/json'}});
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const status = response.status;
    const why =
      explainAuthFailure(response) ??
      (status === 404
        ? 'HTTP 404: there is no agent card at this path (A2A agents publish it at /.well-known/agent-card.json under their base URL).'
        : `HTTP ${status}.`);
    throw new A2aClientError(
      'a2a_card_unavailable',
      `The agent card ${where} could not be fetched: ${why}`,
      {url: where, status},
    );
  }
  const text = await readBounded(response, where);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new A2aClientError(
      'a2a_card_unavailable',
      `The agent card ${where} is not JSON (content-type ${JSON.stringify(response.headers.get('content-type') ?? 'none')}); is this the URL of an A2A agent?`,
      {url: where, status: response.status, cause: error},
    );
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw notACard(where, response.status);
  }
  // The SDK's resolver normalises the protobuf-JSON dialect; it gets the bytes already read.
  const resolver = new DefaultAgentCardResolver({
    fetchImpl: async () => new Response(text, {headers: {'content-type': 'application/json'}}),
  });
  const card = await resolver.resolve(cardUrl.href, '');
  if (typeof card?.url !== 'string' || typeof card.name !== 'string') {
    throw notACard(where, response.status);
  }
  return card;
}

function notACard(where: string, status: number): A2aClientError {
  return new A2aClientError(
    'a2a_card_unavailable',
    `${where} answered JSON that is not an A2A agent card (it needs a name and a url); is this the URL of an A2A agent?`,
    {url: where, status},
  );
}

async function readBounded(response: Response, where: string): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const {done, value} = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_AGENT_CARD_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new A2aClientError(
        'a2a_card_unavailable',
        `The agent card ${where} is larger than ${MAX_AGENT_CARD_BYTES} bytes; refused.`,
        {url: where, status: response.status},
      );
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
