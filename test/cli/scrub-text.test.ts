import {generateKeyPairSync} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {quoteServerText, scrubText} from '../../src/cli/scrub-text.js';
import {tokenFingerprint} from '../../src/tokens/fingerprint.js';

const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJhdWQiOiJodHRwczovL3guYS5ydW4uYXBwIiwiZW1haWwiOiJhQGIuYyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';

describe('scrubText', () => {
  it('replaces a JWT with its fingerprint, whole, cut short, or with its signature stripped', () => {
    expect(scrubText(`token ${JWT} refused`)).toBe(
      `token [token ${tokenFingerprint(JWT)}] refused`,
    );
    const cut = JWT.slice(0, 60);
    expect(scrubText(`got ${cut}`)).toBe(`got [token ${tokenFingerprint(cut)}]`);
    const stripped = `${JWT.split('.').slice(0, 2).join('.')}.SIGNATURE_REMOVED_BY_GOOGLE`;
    expect(scrubText(stripped)).not.toContain('eyJ');
  });

  it('replaces access tokens, refresh tokens, PEM blocks and whatever follows Bearer or Basic', () => {
    // A real key, made now: the PEM block must go whole, body lines and all.
    const pem = generateKeyPairSync('ec', {namedCurve: 'P-256'})
      .privateKey.export({type: 'pkcs8', format: 'pem'})
      .toString()
      .trim();
    const keyBody = pem.split('\n')[1]!;
    const out = scrubText(
      [
        'ya29.a0AfH6SMBx-long_access.token',
        '1//0gLkQ9example-refresh-token-value',
        pem,
        'Authorization: Bearer opaque-static-credential-123456',
        'Proxy-Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==',
      ].join('\n'),
    );
    for (const secret of ['a0AfH6SMBx', 'gLkQ9example', keyBody, 'opaque-static', 'dXNlcjpw'])
      expect(out).not.toContain(secret);
    expect(out).toContain('Authorization: Bearer [token sha256:');
    expect(out).toContain('Proxy-Authorization: Basic [token sha256:');
  });

  it("leaves the command's own words alone: URLs, emails, client ids, fingerprints, prose", () => {
    const text =
      'HTTP 401 from https://svc-abc.a.run.app: the ID token for audience 764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com (mcp-agent@emulator-project.iam.gserviceaccount.com, sha256:1f2e3d4c) was refused. Basic authentication is not used; Bearer tokens are.';
    expect(scrubText(text)).toBe(text);
  });
});

describe('quoteServerText', () => {
  it('scrubs, folds whitespace and cuts a long excerpt with an ellipsis', () => {
    expect(quoteServerText(`line one\n  line two ${JWT}`)).toBe(
      `line one line two [token ${tokenFingerprint(JWT)}]`,
    );
    const long = quoteServerText('x '.repeat(400));
    expect(long).toHaveLength(301);
    expect(long.endsWith('…')).toBe(true);
    expect(quoteServerText('abcdef', 3)).toBe('abc…');
  });
});
