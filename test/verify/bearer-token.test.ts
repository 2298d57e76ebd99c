import {describe, expect, it} from 'vitest';
import {readBearerToken} from '../../src/verify/index.js';

describe('readBearerToken', () => {
  it('reads Authorization: Bearer in any case', () => {
    expect(readBearerToken({authorization: 'Bearer abc'})).toEqual({
      token: 'abc',
      header: 'authorization',
    });
    expect(readBearerToken({authorization: 'bearer abc'})).toEqual({
      token: 'abc',
      header: 'authorization',
    });
    expect(readBearerToken({authorization: ' BeArEr \t abc '})).toEqual({
      token: 'abc',
      header: 'authorization',
    });
  });

  it('prefers X-Serverless-Authorization, even when it is broken', () => {
    expect(
      readBearerToken({authorization: 'Bearer a', 'x-serverless-authorization': 'Bearer b'}),
    ).toEqual({
      token: 'b',
      header: 'x-serverless-authorization',
    });
    expect(
      readBearerToken({authorization: 'Bearer a', 'x-serverless-authorization': ''}),
    ).toMatchObject({code: 'missing'});
  });

  it('calls absent, empty, blank and token-less headers missing', () => {
    for (const authorization of [undefined, '', '   ', 'Bearer', 'Bearer  ']) {
      expect(readBearerToken({authorization})).toMatchObject({code: 'missing'});
    }
  });

  it('calls other schemes, extra words and repeated headers malformed', () => {
    expect(readBearerToken({authorization: 'Basic abc'})).toMatchObject({code: 'malformed'});
    expect(readBearerToken({authorization: 'Bearer a b'})).toMatchObject({code: 'malformed'});
    expect(
      readBearerToken({
        'x-serverless-authorization': ['Bearer a', 'Bearer b'] as unknown as string,
      }),
    ).toMatchObject({
      code: 'malformed',
    });
  });

  it('never puts the token in its message', () => {
    const result = readBearerToken({authorization: 'Basic c2VjcmV0LXRva2Vu'});
    expect('message' in result && result.message).not.toContain('c2VjcmV0LXRva2Vu');
  });
});
