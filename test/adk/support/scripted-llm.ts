/**
 * A stand-in model for offline `@google/adk` agents (tests and examples): it follows a script
 * of turns, each turn calling one or more tools at once, and then answers with a text built
 * from every tool response of the run. No network, no API key.
 *
 * Copy it into your own project to run an agent offline; it depends on `@google/adk` only.
 *
 * @example
 * const model = new ScriptedLlm({
 *   turns: [[{name: 'add', args: {a: 2, b: 3}}, {name: 'echo', args: {text: 'hi'}}], [{name: 'add', args: {a: 5, b: 8}}]],
 * });
 * const agent = new LlmAgent({name: 'calculator', model, tools: [toolset]});
 */
import {BaseLlm} from '@google/adk';
import type {BaseLlmConnection, LlmRequest, LlmResponse} from '@google/adk';

/** One tool call the model makes. */
export interface ScriptedCall {
  name: string;
  args?: Record<string, unknown>;
}

/** A tool response the model saw: the tool's name and the response object ADK gave it. */
export interface ScriptedResponse {
  name: string;
  response: Record<string, unknown>;
}

/** The script of a {@link ScriptedLlm}. */
export interface ScriptedLlmOptions {
  /** The turns, in order; each holds the calls made at once in that turn. */
  turns: ScriptedCall[][];
  /**
   * The final answer, from every tool response since the user's last message. Default: one
   * line per response, `name: <text of its content>` (or its JSON when it has no text).
   */
  answer?: (responses: ScriptedResponse[]) => string;
}

/** The text parts of an MCP tool result (`content: [{type: 'text', text}]`), joined. */
export function textOfToolResult(response: unknown): string | undefined {
  const content = (response as {content?: unknown} | undefined)?.content;
  if (!Array.isArray(content)) return undefined;
  return content.map((part) => (part as {text?: string}).text ?? '').join('');
}

function defaultAnswer(responses: ScriptedResponse[]): string {
  return responses
    .map(({name, response}) => `${name}: ${textOfToolResult(response) ?? JSON.stringify(response)}`)
    .join('\n');
}

export class ScriptedLlm extends BaseLlm {
  /** Every request the agent sent, for assertions on declared tools. */
  readonly requests: LlmRequest[] = [];
  readonly #turns: ScriptedCall[][];
  readonly #answer: (responses: ScriptedResponse[]) => string;

  /**
   * Either a whole script, or one call: `new ScriptedLlm('whoami', args?, answer?)` calls
   * `whoami` once and answers with `answer(response)` (default: the response's JSON).
   */
  constructor(
    script: ScriptedLlmOptions | string,
    args: Record<string, unknown> = {},
    answer: (toolResponse: unknown) => string = (response) => JSON.stringify(response),
  ) {
    super({model: 'scripted'});
    if (typeof script === 'string') {
      this.#turns = [[{name: script, args}]];
      this.#answer = (responses) => answer(responses.at(-1)?.response);
    } else {
      this.#turns = script.turns;
      this.#answer = script.answer ?? defaultAnswer;
    }
  }

  override async *generateContentAsync(request: LlmRequest): AsyncGenerator<LlmResponse, void> {
    this.requests.push(request);
    // What happened since the user's last text: how many turns of calls, which responses.
    const contents = request.contents;
    let start = 0;
    for (let i = contents.length - 1; i >= 0; i--) {
      const content = contents[i];
      if (content?.role === 'user' && content.parts?.some((part) => part.text !== undefined)) {
        start = i + 1;
        break;
      }
    }
    let turn = 0;
    const responses: ScriptedResponse[] = [];
    for (const content of contents.slice(start)) {
      if (content.role === 'model' && content.parts?.some((part) => part.functionCall)) turn++;
      for (const part of content.parts ?? []) {
        const response = part.functionResponse;
        if (response?.name) {
          responses.push({name: response.name, response: response.response ?? {}});
        }
      }
    }
    const calls = this.#turns[turn];
    if (calls) {
      yield {
        content: {
          role: 'model',
          parts: calls.map((call) => ({functionCall: {name: call.name, args: call.args ?? {}}})),
        },
      };
      return;
    }
    yield {
      content: {role: 'model', parts: [{text: this.#answer(responses)}]},
      turnComplete: true,
    };
  }

  override connect(): Promise<BaseLlmConnection> {
    return Promise.reject(new Error('ScriptedLlm has no live mode'));
  }
}
