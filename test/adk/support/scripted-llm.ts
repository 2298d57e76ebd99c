/**
 * A stand-in model for `@google/adk` agents: the first turn calls one tool, the next turn
 * answers with a text built from that tool's response. No network.
 */
import {BaseLlm} from '@google/adk';
import type {BaseLlmConnection, LlmRequest, LlmResponse} from '@google/adk';

export class ScriptedLlm extends BaseLlm {
  /** Every request the agent sent, for assertions on declared tools. */
  readonly requests: LlmRequest[] = [];

  constructor(
    private readonly toolName: string,
    private readonly args: Record<string, unknown> = {},
    private readonly answer: (toolResponse: unknown) => string = (response) =>
      JSON.stringify(response),
  ) {
    super({model: 'scripted'});
  }

  override async *generateContentAsync(request: LlmRequest): AsyncGenerator<LlmResponse, void> {
    this.requests.push(request);
    const parts = request.contents.at(-1)?.parts ?? [];
    const toolResponse = parts.find((part) => part.functionResponse)?.functionResponse;
    if (!toolResponse) {
      yield {
        content: {role: 'model', parts: [{functionCall: {name: this.toolName, args: this.args}}]},
      };
      return;
    }
    yield {
      content: {role: 'model', parts: [{text: this.answer(toolResponse.response)}]},
      turnComplete: true,
    };
  }

  override connect(): Promise<BaseLlmConnection> {
    return Promise.reject(new Error('ScriptedLlm has no live mode'));
  }
}
