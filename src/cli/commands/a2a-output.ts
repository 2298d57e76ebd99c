/**
 * How `a2a card` and `a2a send` show A2A objects to a person: the card's name, endpoints and
 * skills; a reply's text. Server-sent text is cut short and scrubbed of token-like strings.
 */
import type {AgentCard, Message, Part, Task} from '@a2a-js/sdk';
import {scrubText} from '../scrub-text.js';

/** Longest piece of server text shown, in characters. */
const MAX_SHOWN = 4000;

/** The lines of an agent card for a person. */
export function cardLines(card: AgentCard): string[] {
  const lines = [`${shown(card.name, 200)}${card.version ? ` ${shown(card.version, 50)}` : ''}`];
  if (card.description) lines.push(`  ${shown(card.description, 500)}`);
  lines.push(`  protocol: ${shown(card.protocolVersion ?? '?', 20)}`);
  const endpoints = [
    {url: card.url, transport: card.preferredTransport ?? 'JSONRPC'},
    ...(card.additionalInterfaces ?? []),
  ].filter(
    (entry, index, all) =>
      all.findIndex((other) => other.url === entry.url && other.transport === entry.transport) ===
      index,
  );
  for (const entry of endpoints) {
    lines.push(`  endpoint: ${shown(entry.transport, 20)} ${shown(entry.url, 300)}`);
  }
  const caps = Object.entries(card.capabilities ?? {})
    .filter(([, value]) => value === true)
    .map(([name]) => name);
  if (caps.length > 0) lines.push(`  capabilities: ${shown(caps.join(', '), 200)}`);
  for (const skill of card.skills ?? []) {
    const about = skill.description ? `: ${shown(firstLine(skill.description), 200)}` : '';
    lines.push(`  skill ${shown(skill.id, 100)}${about}`);
  }
  return lines;
}

/** The text of a `message/send` result: a message's parts, or a task's status message and artifacts. */
export function replyText(result: Message | Task): string {
  if (result.kind === 'message') return partsText(result.parts);
  const pieces: string[] = [];
  for (const artifact of result.artifacts ?? []) pieces.push(partsText(artifact.parts));
  if (result.status.message) pieces.push(partsText(result.status.message.parts));
  return pieces.filter((piece) => piece !== '').join('\n');
}

/** Whether a `message/send` result is a task that ended badly (failed, rejected, canceled). */
export function failedState(result: Message | Task): string | undefined {
  if (result.kind !== 'task') return undefined;
  const state = result.status.state;
  return state === 'failed' || state === 'rejected' || state === 'canceled' ? state : undefined;
}

function partsText(parts: readonly Part[]): string {
  return parts
    .map((part) => {
      switch (part.kind) {
        case 'text':
          return shown(part.text, MAX_SHOWN);
        case 'data':
          return shown(JSON.stringify(part.data, null, 2), MAX_SHOWN);
        case 'file':
          return `[file ${shown(part.file.name ?? '', 100)} ${shown(part.file.mimeType ?? '', 100)}]`.replace(
            /\s+\]/,
            ']',
          );
        default:
          return `[${(part as {kind: string}).kind}]`;
      }
    })
    .join('\n');
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '') ?? '';
}

/** Server text with credentials replaced by fingerprints, cut at `max` characters. */
function shown(text: unknown, max: number): string {
  const scrubbed = scrubText(String(text));
  return scrubbed.length > max ? `${scrubbed.slice(0, max)}…` : scrubbed;
}
