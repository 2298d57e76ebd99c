/**
 * `explainAuthFailure` against servers that verify Google ID tokens themselves with this
 * package: the verification code in their `WWW-Authenticate` is explained as their policy.
 */
import {describe, expect, it} from 'vitest';
import {
  explainAuthFailure,
  parseAuthChallenge,
  verifierRefusal,
} from '../../src/http/explain-auth-failure.js';
import {ID_TOKEN_VERIFICATION_CODES} from '../../src/verify/id-token-verification-error.js';

const challenge = (value: string, status = 401) =>
  new Response(null, {status, headers: {'www-authenticate': value}});

describe('parseAuthChallenge', () => {
  it('reads the scheme and its params, quoted or not, escapes included', () => {
    expect(
      parseAuthChallenge(
        'Bearer realm=mcp, error="invalid_token", error_description="a \\"quoted\\" word"',
      ),
    ).toEqual({
      scheme: 'Bearer',
      params: {realm: 'mcp', error: 'invalid_token', error_description: 'a "quoted" word'},
    });
    expect(parseAuthChallenge('Bearer')).toEqual({scheme: 'Bearer', params: {}});
    expect(parseAuthChallenge(null)).toBeUndefined();
  });

  it('stops at the next challenge', () => {
    expect(parseAuthChallenge('Bearer error="x", Basic realm="y"')?.params).toEqual({error: 'x'});
  });
});

describe('verifierRefusal', () => {
  it('recognises every verification code the verifier answers', () => {
    for (const code of ID_TOKEN_VERIFICATION_CODES) {
      const error = code === 'forbidden_principal' ? 'insufficient_scope' : 'invalid_token';
      expect(verifierRefusal(`Bearer error="${error}", error_description="${code}"`), code).toEqual(
        {code},
      );
    }
  });

  it("ignores a front's own words and other schemes", () => {
    expect(
      verifierRefusal(
        'Bearer error="invalid_token" error_description="The access token could not be verified"',
      ),
    ).toBeUndefined();
    expect(verifierRefusal('Basic error_description="bad_audience"')).toBeUndefined();
    expect(verifierRefusal('Bearer')).toBeUndefined();
  });

  it('keeps the audiences the server names when they are shaped like audiences', () => {
    expect(
      verifierRefusal(
        'Bearer error="invalid_token", error_description="bad_audience", audience="https://mcp.example.com 123-abc.apps.googleusercontent.com eyJhbGciOiJSUzI1NiJ9 <script>"',
      ),
    ).toEqual({
      code: 'bad_audience',
      audiences: ['https://mcp.example.com', '123-abc.apps.googleusercontent.com'],
    });
  });
});

describe('explainAuthFailure for a server that verifies tokens itself', () => {
  it('explains forbidden_principal as the server policy, without Cloud Run advice', () => {
    const text =
      explainAuthFailure(
        challenge(
          'Bearer error="insufficient_scope", error_description="forbidden_principal"',
          403,
        ),
        {
          url: 'https://mcp.example.com/mcp',
          credentialSent: true,
          tokenKind: 'id',
          principal: 'agent@p.iam.gserviceaccount.com',
        },
      ) ?? '';
    expect(text).toMatch(/^HTTP 403 from https:\/\/mcp\.example\.com: /);
    expect(text).toContain('verifies Google ID tokens itself');
    expect(text).toContain("the server's policy does not admit agent@p.iam.gserviceaccount.com");
    expect(text).not.toContain('add-iam-policy-binding');
    expect(text).not.toContain('lacks roles/run.invoker');
  });

  it('quotes the audience the server wants on bad_audience, and asks for it when unsaid', () => {
    const context = {credentialSent: true, tokenKind: 'id' as const, audience: 'https://x'};
    expect(
      explainAuthFailure(
        challenge(
          'Bearer error="invalid_token", error_description="bad_audience", audience="https://mcp.example.com"',
        ),
        context,
      ),
    ).toContain('it says it wants "https://mcp.example.com"');
    expect(
      explainAuthFailure(
        challenge('Bearer error="invalid_token", error_description="bad_audience"'),
        context,
      ),
    ).toContain("Ask the server's operator which audience it checks");
  });

  it('scrubs what an unknown server said', () => {
    const text =
      explainAuthFailure(
        challenge(
          'Bearer error="invalid_token", error_description="refused eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl"',
        ),
      ) ?? '';
    expect(text).toContain('The server said "refused [redacted sha256:');
    expect(text).not.toContain('eyJzdWIi');
  });
});
