/**
 * The package's `ScriptedLlm` (entry `mcp-google-auth/adk`) as the suites use it: it records
 * every request the agent sent (for assertions on declared tools), and takes a one-call
 * shorthand, `new ScriptedLlm('whoami', args?, answer?)`.
 */
import type {LlmRequest, LlmResponse} from '@google/adk';
import {ScriptedLlm as PackageScriptedLlm} from '../../../src/adk/scripted-llm.js';
import type {
  ScriptedLlmCall,
  ScriptedLlmOptions,
  ScriptedLlmToolResponse,
} from '../../../src/adk/scripted-llm.js';

export type ScriptedCall = ScriptedLlmCall;
export type ScriptedResponse = ScriptedLlmToolResponse;

/** The text parts of an MCP tool result (`content: [{type: 'text', text}]`), joined. */
export function textOfToolResult(response: unknown): string | undefined {
  const content = (response as {content?: unknown} | undefined)?.content;
  if (!Array.isArray(content)) return undefined;
  return content.map((part) => (part as {text?: string}).text ?? '').join('');
}

export class ScriptedLlm extends PackageScriptedLlm {
  /** Every request the agent sent. */
  readonly requests: LlmRequest[] = [];

  /**
   * Either a whole script, or one call: `new ScriptedLlm('whoami', args?, answer?)` calls
   * `whoami` once and answers with `answer(response)` (default: the response's JSON).
   */
  constructor(
    script: ScriptedLlmOptions | string,
    args: Record<string, unknown> = {},
    answer: (toolResponse: unknown) => string = (response) => JSON.stringify(response),
  ) {
    super(
      typeof script === 'string'
        ? {
            turns: [[{name: script, args}]],
            answer: (responses) => answer(responses.at(-1)?.response),
          }
        : script,
    );
  }

  override async *generateContentAsync(request: LlmRequest): AsyncGenerator<LlmResponse, void> {
    this.requests.push(request);
    yield* super.generateContentAsync(request);
  }
}
