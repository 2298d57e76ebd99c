/**
 * How `doctor` recognises an A2A agent: when the URL does not answer MCP, it reads the agent
 * card (`/.well-known/agent-card.json` below the URL, or the URL itself when it names a
 * `.json` file) with the same ID token, without following redirects, and reports the agent's
 * name and endpoints, warning about endpoints on another origin (the A2A client refuses
 * those, and the credential never goes there). The card is parsed as plain JSON: this needs
 * no `@a2a-js/sdk`.
 */
import type {AuthHeaderMode} from '../../http/auth-header-mode.js';
import type {DoctorFinding, DoctorStep} from '../doctor/report.js';
import {ExitCode} from '../exit-codes.js';
import {quoteServerText} from '../scrub-text.js';

/** Longest wait for one card request, in milliseconds. */
const CARD_TIMEOUT_MS = 10_000;
/** Most bytes read of a card. */
const MAX_CARD_BYTES = 256 * 1024;
const CARD_PATH = '.well-known/agent-card.json';

/** What `doctor` learned about an A2A agent at the URL. */
export interface A2aRecognition {
  /** The card's URL that answered. */
  cardUrl: string;
  /** The agent's name (scrubbed, cut short). */
  name: string;
  /** The card's `protocolVersion`, when given. */
  protocolVersion?: string;
  /** `TRANSPORT URL` of every endpoint the card lists. */
  endpoints: string[];
  /** The origins of endpoints that are not the URL's origin. */
  foreignOrigins: string[];
}

/** The card URLs to try for `target`, most specific first, without duplicates. */
export function agentCardCandidates(target: URL): URL[] {
  if (target.pathname.endsWith('.json')) return [new URL(target.href)];
  const directory = new URL(target.href);
  directory.search = '';
  directory.hash = '';
  if (!directory.pathname.endsWith('/')) directory.pathname = `${directory.pathname}/`;
  const candidates = [new URL(CARD_PATH, directory), new URL(`/${CARD_PATH}`, target.origin)];
  return candidates.filter(
    (url, index) => candidates.findIndex((u) => u.href === url.href) === index,
  );
}

/**
 * Reads the agent card for `target` with `token` in `header` (when given). Resolves with the
 * recognition, or undefined when no candidate answered 200 with an agent card.
 */
export async function recogniseA2aAgent(
  target: URL,
  options: {token?: string; header: AuthHeaderMode; timeoutMs?: number},
): Promise<A2aRecognition | undefined> {
  for (const cardUrl of agentCardCandidates(target)) {
    const card = await readCard(cardUrl, options);
    if (card === undefined) continue;
    const endpoints: Array<{transport: string; url: string}> = [];
    const add = (transport: unknown, url: unknown): void => {
      if (
        typeof url === 'string' &&
        !endpoints.some((e) => e.url === url && e.transport === transport)
      ) {
        endpoints.push({transport: typeof transport === 'string' ? transport : 'JSONRPC', url});
      }
    };
    add(card.preferredTransport ?? 'JSONRPC', card.url);
    for (const entry of Array.isArray(card.additionalInterfaces) ? card.additionalInterfaces : []) {
      add((entry as {transport?: unknown}).transport, (entry as {url?: unknown}).url);
    }
    const foreignOrigins = [
      ...new Set(endpoints.map((e) => originOf(e.url)).filter((o) => o !== target.origin)),
    ];
    return {
      cardUrl: cardUrl.href,
      name: quoteServerText(String(card.name), 100),
      ...(typeof card.protocolVersion === 'string'
        ? {protocolVersion: quoteServerText(card.protocolVersion, 20)}
        : {}),
      endpoints: endpoints.map((e) => quoteServerText(`${e.transport} ${e.url}`, 200)),
      foreignOrigins: foreignOrigins.map((o) => quoteServerText(o, 200)),
    };
  }
  return undefined;
}

/**
 * A 4xx other than 401/403 to the MCP probe: the front let the token through and the agent
 * answered (A2A servers have no MCP `initialize`).
 */
export function a2aLetThrough(status: number): boolean {
  return status >= 400 && status < 500 && status !== 401 && status !== 403;
}

/**
 * Puts a recognised agent into the report: the `mcp` step becomes skipped, the probe with
 * the ID token passes when the agent (not the front) answered the MCP request with a 4xx, an
 * `a2a` step follows, and a card naming other origins adds {@link a2aForeignFinding}.
 */
export function reportA2aAgent(
  agent: A2aRecognition,
  target: URL,
  steps: DoctorStep[],
  findings: DoctorFinding[],
  idProbeStatus: number | undefined,
): void {
  const mcp = steps.find((step) => step.id === 'mcp');
  if (mcp) {
    Object.assign(mcp, {status: 'skip', summary: 'skipped (an A2A agent answers here)'});
    delete mcp.exitCode;
  }
  const idStep = steps.find((step) => step.id === 'probe_id_token');
  if (idStep && idProbeStatus !== undefined && a2aLetThrough(idProbeStatus)) {
    Object.assign(idStep, {status: 'pass'});
    delete idStep.exitCode;
    idStep.details.push('let through: the service answers A2A, not an MCP initialize request');
  }
  steps.push(a2aStep(agent));
  if (agent.foreignOrigins.length > 0) findings.push(a2aForeignFinding(agent, target));
}

/** The report step for a recognised agent. */
export function a2aStep(agent: A2aRecognition): DoctorStep {
  const foreign = agent.foreignOrigins.length > 0;
  return {
    id: 'a2a',
    title: 'A2A',
    status: foreign ? 'fail' : 'pass',
    summary: `agent card of ${JSON.stringify(agent.name)}${agent.protocolVersion ? ` (protocol ${agent.protocolVersion})` : ''} at ${agent.cardUrl}`,
    details: [
      ...agent.endpoints.map((endpoint) => `endpoint: ${endpoint}`),
      ...(foreign
        ? [
            `endpoints on ${agent.foreignOrigins.join(', ')}: an A2A client built for this URL refuses them, and the credential never goes there`,
          ]
        : []),
    ],
    data: {...agent},
    ...(foreign ? {exitCode: ExitCode.REMOTE} : {}),
  };
}

/** The finding for a recognised agent whose card names other origins. */
export function a2aForeignFinding(agent: A2aRecognition, target: URL): DoctorFinding {
  return {
    code: 'a2a_card_origin',
    severity: 'error',
    message: `The A2A agent's card names endpoints on ${agent.foreignOrigins.join(', ')}, not on ${target.origin}: clients that keep the credential on this origin (googleA2aClientFactory, mcp-google-auth a2a) refuse them. Set the card's url to the service URL (with ADK's toA2a: protocol, host and port).`,
  };
}

interface CardJson {
  name?: unknown;
  url?: unknown;
  preferredTransport?: unknown;
  protocolVersion?: unknown;
  additionalInterfaces?: unknown;
}

async function readCard(
  url: URL,
  options: {token?: string; header: AuthHeaderMode; timeoutMs?: number},
): Promise<CardJson | undefined> {
  const headers: Record<string, string> = {accept: 'application/json'};
  if (options.token !== undefined) headers[options.header] = `Bearer ${options.token}`;
  const signal = AbortSignal.timeout(options.timeoutMs ?? CARD_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, {headers, redirect: 'manual', signal});
  } catch {
    return undefined;
  }
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  let text = '';
  try {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const {done, value} = await reader.read();
      if (done) break;
      text += decoder.decode(value, {stream: true});
      if (text.length > MAX_CARD_BYTES) {
        await reader.cancel().catch(() => undefined);
        return undefined;
      }
    }
  } catch {
    return undefined;
  }
  try {
    const json = JSON.parse(text) as unknown;
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
    const card = json as CardJson;
    return typeof card.name === 'string' && typeof card.url === 'string' ? card : undefined;
  } catch {
    return undefined;
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
}
