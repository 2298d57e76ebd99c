/**
 * A stand-in model for the remote `@google/adk` agent: every turn answers the same text and
 * records what it was asked. No network.
 */
import {BaseLlm} from '@google/adk';
import type {BaseLlmConnection, LlmRequest, LlmResponse} from '@google/adk';

export class FixedAnswerLlm extends BaseLlm {
  /** Every request the agent sent. */
  readonly requests: LlmRequest[] = [];

  constructor(private readonly answer: string) {
    super({model: 'fixed-answer'});
  }

  override async *generateContentAsync(request: LlmRequest): AsyncGenerator<LlmResponse, void> {
    this.requests.push(request);
    yield {content: {role: 'model', parts: [{text: this.answer}]}, turnComplete: true};
  }

  override connect(): Promise<BaseLlmConnection> {
    return Promise.reject(new Error('FixedAnswerLlm has no live mode'));
  }
}
