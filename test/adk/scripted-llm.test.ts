import {
  FunctionTool,
  InMemoryRunner,
  LlmAgent,
  isFinalResponse,
  setLogger,
  stringifyContent,
} from '@google/adk';
import type {Event, LlmRequest, LlmResponse} from '@google/adk';
import {describe, expect, it} from 'vitest';
import {z} from 'zod';
import {ScriptedLlm} from '../../src/adk/scripted-llm.js';
import type {ScriptedLlmOptions} from '../../src/adk/scripted-llm.js';

setLogger(null);

/** A message of the conversation, as ADK hands it to the model. */
type Content = LlmRequest['contents'][number];

/** What the model answers to a request holding `contents`. */
async function answerTo(model: ScriptedLlm, contents: Content[]): Promise<LlmResponse[]> {
  const responses: LlmResponse[] = [];
  const request = {contents, toolsDict: {}, liveConnectConfig: {}} as unknown as LlmRequest;
  for await (const response of model.generateContentAsync(request)) responses.push(response);
  return responses;
}

const user = (text: string): Content => ({role: 'user', parts: [{text}]});
const called = (...names: string[]): Content => ({
  role: 'model',
  parts: names.map((name) => ({functionCall: {name, args: {}}})),
});
const answered = (name: string, text: string): Content => ({
  role: 'user',
  parts: [{functionResponse: {name, response: {content: [{type: 'text', text}]}}}],
});

describe('ScriptedLlm', () => {
  const script: ScriptedLlmOptions = {
    turns: [
      [
        {name: 'add', args: {a: 2, b: 3}},
        {name: 'whoami', args: {}},
      ],
      [{name: 'echo', args: {text: 'hi'}}],
    ],
  };

  it('makes the calls of each turn, then answers with what the tools answered', async () => {
    const model = new ScriptedLlm(script);
    expect(model.model).toBe('scripted');

    const first = await answerTo(model, [user('go')]);
    expect(first).toEqual([
      {
        content: {
          role: 'model',
          parts: [
            {functionCall: {name: 'add', args: {a: 2, b: 3}}},
            {functionCall: {name: 'whoami', args: {}}},
          ],
        },
      },
    ]);

    const afterFirst = [
      user('go'),
      called('add', 'whoami'),
      answered('add', '5'),
      answered('whoami', 'sa@example.com'),
    ];
    const second = await answerTo(model, afterFirst);
    expect(second[0]?.content?.parts).toEqual([{functionCall: {name: 'echo', args: {text: 'hi'}}}]);

    const final = await answerTo(model, [...afterFirst, called('echo'), answered('echo', 'hi')]);
    expect(final).toEqual([
      {
        content: {role: 'model', parts: [{text: 'add: 5\nwhoami: sa@example.com\necho: hi'}]},
        turnComplete: true,
      },
    ]);
  });

  it('starts the script again on every user message', async () => {
    const model = new ScriptedLlm(script);
    const earlier = [user('go'), called('add'), answered('add', '5'), called('echo')];
    const again = await answerTo(model, [...earlier, answered('echo', 'hi'), user('again')]);
    expect(again[0]?.content?.parts?.map((part) => part.functionCall?.name)).toEqual([
      'add',
      'whoami',
    ]);
  });

  it('answers with a fixed text, or a function of the responses, and takes a model name', async () => {
    const fixed = new ScriptedLlm({turns: [], answer: 'no tools needed', model: 'offline'});
    expect(fixed.model).toBe('offline');
    expect(await answerTo(fixed, [user('hi')])).toEqual([
      {content: {role: 'model', parts: [{text: 'no tools needed'}]}, turnComplete: true},
    ]);

    const model = new ScriptedLlm({
      turns: [[{name: 'whoami'}]],
      answer: (responses) => `You are ${JSON.stringify(responses[0]?.response)}`,
    });
    const final = await answerTo(model, [user('who?'), called('whoami'), answered('whoami', 'me')]);
    expect(final[0]?.content?.parts?.[0]?.text).toBe(
      'You are {"content":[{"type":"text","text":"me"}]}',
    );
  });

  it('answers a response without text parts with its JSON', async () => {
    const model = new ScriptedLlm({turns: [[{name: 'count'}]]});
    const final = await answerTo(model, [
      user('count'),
      called('count'),
      {role: 'user', parts: [{functionResponse: {name: 'count', response: {n: 3}}}]},
    ]);
    expect(final[0]?.content?.parts?.[0]?.text).toBe('count: {"n":3}');
  });

  it('keeps its own copy of the script', async () => {
    const turns = [[{name: 'add', args: {a: 1}}]];
    const model = new ScriptedLlm({turns});
    turns[0]![0]!.name = 'changed';
    turns[0]![0]!.args.a = 2;
    const first = await answerTo(model, [user('go')]);
    expect(first[0]?.content?.parts).toEqual([{functionCall: {name: 'add', args: {a: 1}}}]);
  });

  it.each([
    [null, 'ScriptedLlm options must be an object with turns'],
    [{}, 'ScriptedLlm turns must be an array of turns, each an array of calls'],
    [{turns: [[]]}, 'ScriptedLlm turns[0] must be a non-empty array of calls'],
    [{turns: [[{name: 'a'}], [{args: {}}]]}, 'ScriptedLlm turns[1][0].name must be a tool name'],
    [{turns: [[{name: 'a', args: 'x'}]]}, 'ScriptedLlm turns[0][0].args must be an object'],
    [
      {turns: [], answer: 42},
      'ScriptedLlm answer must be a string or a function (responses) => text',
    ],
    [{turns: [], model: ''}, 'ScriptedLlm model must be a non-empty string'],
  ])('refuses a bad script (%j) with a TypeError naming the field', (options, message) => {
    expect(() => new ScriptedLlm(options as unknown as ScriptedLlmOptions)).toThrow(
      new TypeError(message),
    );
  });

  it('has no live mode', async () => {
    const model = new ScriptedLlm({turns: []});
    await expect(model.connect()).rejects.toThrow('ScriptedLlm has no live mode');
  });

  it('drives a real LlmAgent: calls two tools at once, then answers', async () => {
    const seen: string[] = [];
    const add = new FunctionTool({
      name: 'add',
      description: 'Adds two numbers.',
      parameters: z.object({a: z.number(), b: z.number()}),
      execute: ({a, b}) => {
        seen.push('add');
        return {content: [{type: 'text', text: String(a + b)}]};
      },
    });
    const greet = new FunctionTool({
      name: 'greet',
      description: 'Greets.',
      execute: () => {
        seen.push('greet');
        return {content: [{type: 'text', text: 'hello'}]};
      },
    });
    const model = new ScriptedLlm({
      turns: [
        [
          {name: 'add', args: {a: 2, b: 3}},
          {name: 'greet', args: {}},
        ],
      ],
    });
    const agent = new LlmAgent({name: 'scripted', model, tools: [add, greet]});
    const runner = new InMemoryRunner({agent, appName: 'scripted'});
    const finals: string[] = [];
    for (const text of ['first', 'second']) {
      const events: Event[] = [];
      for await (const event of runner.runEphemeral({
        userId: 'me',
        newMessage: {role: 'user', parts: [{text}]},
      })) {
        events.push(event);
      }
      finals.push(...events.filter(isFinalResponse).map((event) => stringifyContent(event)));
    }
    expect(finals).toEqual(['add: 5\ngreet: hello', 'add: 5\ngreet: hello']);
    expect(seen.sort()).toEqual(['add', 'add', 'greet', 'greet']);
  });
});
