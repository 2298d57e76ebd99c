/**
 * What `a2a card` and `a2a send` print for a person: cards, messages and tasks, with server
 * text scrubbed of anything token-like.
 */
import type {AgentCard, Message, Task} from '@a2a-js/sdk';
import {describe, expect, it} from 'vitest';
import {cardLines, failedState, replyText} from '../../src/cli/commands/a2a-output.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlc2lnbmF0dXJl';

const card: AgentCard = {
  name: 'billing',
  description: 'Answers questions about invoices.',
  protocolVersion: '0.3.0',
  version: '2.1.0',
  url: 'https://billing-abc.a.run.app/jsonrpc',
  additionalInterfaces: [
    {url: 'https://billing-abc.a.run.app/jsonrpc', transport: 'JSONRPC'},
    {url: 'https://billing-abc.a.run.app/rest', transport: 'HTTP+JSON'},
  ],
  capabilities: {streaming: true, pushNotifications: false},
  defaultInputModes: ['text'],
  defaultOutputModes: ['text'],
  skills: [{id: 'lookup', name: 'lookup', description: 'Finds an invoice.\nMore lines.', tags: []}],
};

describe('a2a output', () => {
  it('a card: name and version, description, endpoints once each, true capabilities, skills', () => {
    expect(cardLines(card)).toEqual([
      'billing 2.1.0',
      '  Answers questions about invoices.',
      '  protocol: 0.3.0',
      '  endpoint: JSONRPC https://billing-abc.a.run.app/jsonrpc',
      '  endpoint: HTTP+JSON https://billing-abc.a.run.app/rest',
      '  capabilities: streaming',
      '  skill lookup: Finds an invoice.',
    ]);
  });

  it('a message: its parts; a task: artifacts then the status message; failures are named', () => {
    const message: Message = {
      kind: 'message',
      messageId: 'm',
      role: 'agent',
      parts: [
        {kind: 'text', text: 'Invoice 42 is paid.'},
        {kind: 'data', data: {invoice: 42}},
        {kind: 'file', file: {uri: 'https://x/y.pdf', name: 'y.pdf', mimeType: 'application/pdf'}},
      ],
    };
    expect(replyText(message)).toBe(
      'Invoice 42 is paid.\n{\n  "invoice": 42\n}\n[file y.pdf application/pdf]',
    );
    expect(failedState(message)).toBeUndefined();
    const task: Task = {
      kind: 'task',
      id: 't',
      contextId: 'c',
      status: {
        state: 'failed',
        message: {
          kind: 'message',
          messageId: 's',
          role: 'agent',
          parts: [{kind: 'text', text: 'boom'}],
        },
      },
      artifacts: [{artifactId: 'a', parts: [{kind: 'text', text: 'partial answer'}]}],
    };
    expect(replyText(task)).toBe('partial answer\nboom');
    expect(failedState(task)).toBe('failed');
    expect(failedState({...task, status: {state: 'completed'}})).toBeUndefined();
  });

  it('server text that carries a token is shown without it', () => {
    const leaky: Message = {
      kind: 'message',
      messageId: 'm',
      role: 'agent',
      parts: [{kind: 'text', text: `your token was ${JWT}`}],
    };
    expect(replyText(leaky)).not.toContain(JWT);
    expect(replyText(leaky)).toMatch(/your token was \[token sha256:[0-9a-f]{8}\]/);
    expect(cardLines({...card, description: `Bearer ${JWT}`}).join('\n')).not.toContain(JWT);
  });
});
