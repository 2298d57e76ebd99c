import {describe, expect, it} from 'vitest';
import {createIdTokenVerifier} from '../../src/verify/index.js';
import type {VerifyGoogleIdTokenOptions} from '../../src/verify/index.js';

const AUD = 'https://svc.example.com';

function build(options: Record<string, unknown>): () => unknown {
  return () => createIdTokenVerifier(options as unknown as VerifyGoogleIdTokenOptions);
}

describe('verifier options', () => {
  it('requires a non-empty audience', () => {
    expect(build({})).toThrow(TypeError);
    expect(build({})).toThrow(/audience is required/);
    expect(build({audience: ''})).toThrow(/audience/);
    expect(build({audience: []})).toThrow(/audience/);
    expect(build({audience: [AUD, ' ']})).toThrow(/audience/);
  });

  it('accepts a loopback http JWKS URL but refuses plain http elsewhere', () => {
    expect(build({audience: AUD, jwksUrl: 'http://127.0.0.1:8080/certs'})).not.toThrow();
    expect(build({audience: AUD, jwksUrl: 'https://keys.example.com/certs'})).not.toThrow();
    expect(build({audience: AUD, jwksUrl: 'http://keys.example.com/certs'})).toThrow(/jwksUrl/);
    expect(build({audience: AUD, jwksUrl: 'certs'})).toThrow(/jwksUrl/);
  });

  it('names the bad option', () => {
    expect(build({audience: AUD, clockToleranceSeconds: -1})).toThrow(/clockToleranceSeconds/);
    expect(build({audience: AUD, maxTokenLifetimeSeconds: Number.NaN})).toThrow(
      /maxTokenLifetimeSeconds/,
    );
    expect(build({audience: AUD, allowedEmailDomains: ['@example.com']})).toThrow(
      /allowedEmailDomains/,
    );
    expect(build({audience: AUD, allowedEmails: []})).toThrow(/allowedEmails/);
    expect(
      build({audience: AUD, issuers: 'accounts.google.com' as unknown as string[]}),
    ).not.toThrow();
    expect(build({audience: AUD, trustCloudRunFront: 'yes'})).toThrow(/trustCloudRunFront/);
    expect(build({audience: AUD, now: 5})).toThrow(/now/);
    expect(build({audience: AUD, verifiedCacheMaxEntries: 1.5})).toThrow(/verifiedCacheMaxEntries/);
    expect(build({audience: AUD, jwksTimeoutMs: 0})).toThrow(/jwksTimeoutMs/);
  });

  it("keeps Google's JWKS URL whatever GOOGLE_AUTH_EMULATOR_HOST says", async () => {
    const seen: string[] = [];
    const previous = process.env.GOOGLE_AUTH_EMULATOR_HOST;
    process.env.GOOGLE_AUTH_EMULATOR_HOST = '127.0.0.1:9';
    try {
      const verify = createIdTokenVerifier({
        audience: AUD,
        fetch: async (input) => {
          seen.push(String(input));
          return new Response('{}', {status: 500});
        },
      });
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: 'https://accounts.google.com',
        aud: AUD,
        sub: '1',
        iat: now,
        exp: now + 60,
      };
      const token = `${Buffer.from('{"alg":"RS256","kid":"k"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
      await expect(verify(token)).rejects.toMatchObject({code: 'keys_unavailable'});
      expect(seen).toEqual(['https://www.googleapis.com/oauth2/v3/certs']);
    } finally {
      if (previous === undefined) delete process.env.GOOGLE_AUTH_EMULATOR_HOST;
      else process.env.GOOGLE_AUTH_EMULATOR_HOST = previous;
    }
  });
});
