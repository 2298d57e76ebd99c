/**
 * A model that follows a script, for `@google/adk` agents that must run without a model:
 * offline examples, tests, demos against the emulator. It never reaches the network and needs
 * no API key. Not a model for production agents: it ignores what the user says.
 */
import {BaseLlm} from '@google/adk';
import type {BaseLlmConnection, LlmRequest, LlmResponse} from '@google/adk';

/** One tool call the scripted model makes. */
export interface ScriptedLlmCall {
  /** The tool's name, as the agent declares it (with any `toolNamePrefix`). Required. */
  name: string;
  /** The call's arguments. Default is `{}`. */
  args?: Record<string, unknown>;
}

/** A tool's answer that the scripted model saw: the tool's name and ADK's response object. */
export interface ScriptedLlmToolResponse {
  name: string;
  /** What ADK gave the model; for an MCP tool, the `CallToolResult` (`{content: [...]}`). */
  response: Record<string, unknown>;
}

/** The script of a {@link ScriptedLlm}. Validated once, in the constructor. */
export interface ScriptedLlmOptions {
  /**
   * The turns, in order; each turn is the list of tool calls made at once (one model
   * response with one function call per entry). Required; `[]` answers at once.
   */
  turns: ReadonlyArray<ReadonlyArray<ScriptedLlmCall>>;
  /**
   * The final answer, once every turn is played: a fixed text, or a function of every tool
   * response since the user's last message. Default is one line per response,
   * `<name>: <text>`, the text being an MCP result's text parts joined (or the response as
   * JSON when it has none).
   */
  answer?: string | ((responses: ScriptedLlmToolResponse[]) => string);
  /** The model name ADK reports (`BaseLlm.model`). Default is `'scripted'`. */
  model?: string;
}

/**
 * A stand-in `BaseLlm` that plays a fixed script: on each user message it makes the calls of
 * the first turn, then, as the tool responses come back, those of the next turn, and when
 * the turns are played it answers with a text (by default, what the tools answered). The
 * script restarts on every user message: the turn is counted from the model's function calls
 * since that message, so one instance serves any number of runs and sessions. `connect()`
 * (live mode) is refused.
 *
 * For offline examples and tests only (it does not read the user's words).
 *
 * @example
 * import {InMemoryRunner, LlmAgent} from '@google/adk';
 * import {AdkMcpToolset, ScriptedLlm} from 'mcp-google-auth/adk';
 *
 * const model = new ScriptedLlm({turns: [[{name: 'add', args: {a: 2, b: 3}}]]});
 * const agent = new LlmAgent({name: 'calculator', model, tools: [toolset]});
 * // final response: 'add: 5'
 */
export class ScriptedLlm extends BaseLlm {
  readonly #turns: ReadonlyArray<ReadonlyArray<ScriptedLlmCall>>;
  readonly #answer: (responses: ScriptedLlmToolResponse[]) => string;

  constructor(options: ScriptedLlmOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('ScriptedLlm options must be an object with turns');
    }
    const {turns, answer, model = 'scripted'} = options;
    if (!Array.isArray(turns)) {
      throw new TypeError('ScriptedLlm turns must be an array of turns, each an array of calls');
    }
    turns.forEach((turn: unknown, index) => {
      if (!Array.isArray(turn) || turn.length === 0) {
        throw new TypeError(`ScriptedLlm turns[${index}] must be a non-empty array of calls`);
      }
      turn.forEach((call: unknown, position) => {
        const {name, args} = (call ?? {}) as Partial<ScriptedLlmCall>;
        if (typeof name !== 'string' || name === '') {
          throw new TypeError(`ScriptedLlm turns[${index}][${position}].name must be a tool name`);
        }
        if (args !== undefined && (args === null || typeof args !== 'object')) {
          throw new TypeError(`ScriptedLlm turns[${index}][${position}].args must be an object`);
        }
      });
    });
    if (answer !== undefined && typeof answer !== 'string' && typeof answer !== 'function') {
      throw new TypeError('ScriptedLlm answer must be a string or a function (responses) => text');
    }
    if (typeof model !== 'string' || model === '') {
      throw new TypeError('ScriptedLlm model must be a non-empty string');
    }
    super({model});
    this.#turns = (turns as ScriptedLlmOptions['turns']).map((turn) =>
      turn.map(({name, args}) => ({name, args: {...args}})),
    );
    this.#answer = typeof answer === 'string' ? () => answer : (answer ?? linesOfToolResponses);
  }

  override async *generateContentAsync(request: LlmRequest): AsyncGenerator<LlmResponse, void> {
    const {turn, responses} = progressSinceUserText(request);
    const calls = this.#turns[turn];
    if (calls) {
      yield {
        content: {
          role: 'model',
          parts: calls.map(({name, args}) => ({functionCall: {name, args: {...args}}})),
        },
      };
      return;
    }
    yield {content: {role: 'model', parts: [{text: this.#answer(responses)}]}, turnComplete: true};
  }

  override connect(): Promise<BaseLlmConnection> {
    return Promise.reject(new Error('ScriptedLlm has no live mode'));
  }
}

/**
 * Since the user's last text: how many turns of calls the model made, and every tool
 * response it got.
 */
function progressSinceUserText(request: LlmRequest): {
  turn: number;
  responses: ScriptedLlmToolResponse[];
} {
  const contents = request.contents ?? [];
  let start = 0;
  for (let i = contents.length - 1; i >= 0; i--) {
    const content = contents[i];
    if (content?.role === 'user' && content.parts?.some((part) => part.text !== undefined)) {
      start = i + 1;
      break;
    }
  }
  let turn = 0;
  const responses: ScriptedLlmToolResponse[] = [];
  for (const content of contents.slice(start)) {
    if (content.role === 'model' && content.parts?.some((part) => part.functionCall)) turn++;
    for (const part of content.parts ?? []) {
      const response = part.functionResponse;
      if (response?.name) responses.push({name: response.name, response: response.response ?? {}});
    }
  }
  return {turn, responses};
}

/** The default answer: `<name>: <text>` per response. */
function linesOfToolResponses(responses: ScriptedLlmToolResponse[]): string {
  return responses
    .map(({name, response}) => `${name}: ${textOf(response) ?? JSON.stringify(response)}`)
    .join('\n');
}

/** The text parts of an MCP tool result (`content: [{type: 'text', text}]`), joined. */
function textOf(response: Record<string, unknown>): string | undefined {
  const content = response['content'];
  if (!Array.isArray(content)) return undefined;
  return content.map((part) => (part as {text?: unknown}).text ?? '').join('');
}
