import {describe, expect, it} from 'vitest';
import {applyArgPairs, parseArgsJson, resultText} from '../../../src/cli/actions/call.js';
import {CliError} from '../../../src/cli/exit-codes.js';

const schema = {
  type: 'object' as const,
  properties: {
    n: {type: 'number'},
    i: {type: 'integer'},
    s: {type: 'string'},
    b: {type: 'boolean'},
    o: {type: 'object'},
  },
};

describe('call arguments', () => {
  it('converts --arg values to the types the schema declares', () => {
    expect(
      applyArgPairs(
        {s: 'base'},
        ['n=1.5', 'i=2', 's=42', 'b=true', 'o={"k":[1]}', 'x=null', 'y=text=with=equals'],
        schema,
      ),
    ).toEqual({n: 1.5, i: 2, s: '42', b: true, o: {k: [1]}, x: null, y: 'text=with=equals'});
  });

  it('refuses values that do not fit, and malformed pairs or JSON, with exit 2', () => {
    for (const pair of ['n=abc', 'i=1.5', 'b=yes', 'o={', '=1', 'novalue']) {
      expect(() => applyArgPairs({}, [pair], schema)).toThrow(CliError);
    }
    expect(() => parseArgsJson('[1]')).toThrow(/JSON object/);
    expect(() => parseArgsJson('{')).toThrow(/not valid JSON/);
    expect(parseArgsJson('{"a":1}')).toEqual({a: 1});
  });
});

describe('resultText', () => {
  it('joins text parts and describes the others', () => {
    expect(
      resultText({
        content: [
          {type: 'text', text: 'one'},
          {type: 'image', mimeType: 'image/png', data: 'AAAA'},
          {type: 'resource_link', uri: 'file:///x', name: 'x'},
        ],
      }),
    ).toBe('one\n[image image/png, 3 bytes]\n[resource file:///x]');
    expect(resultText({content: [], structuredContent: {a: 1}})).toBe('{\n  "a": 1\n}');
  });
});
