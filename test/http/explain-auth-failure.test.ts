import {describe, expect, it} from 'vitest';
import {explainAuthFailure} from '../../src/http/explain-auth-failure.js';

describe('explainAuthFailure', () => {
  it('has nothing to say about statuses other than 401 and 403', () => {
    expect(explainAuthFailure(200)).toBeUndefined();
    expect(explainAuthFailure(new Response('x', {status: 500}))).toBeUndefined();
  });

  it('lists the usual causes of a 401 when it knows nothing else', () => {
    const text = explainAuthFailure(401) ?? '';
    expect(text).toMatch(/^HTTP 401: the credential was refused\./);
    expect(text).toContain('audience is not what the service expects');
    expect(text).toContain('access token was sent where an ID token is needed');
    expect(text).toContain('expired');
  });

  it('lists the usual causes of a 403 when it knows nothing else', () => {
    const text = explainAuthFailure(403) ?? '';
    expect(text).toContain('lacks roles/run.invoker');
    expect(text).toContain('no token reached the front');
  });

  it("uses the given context and the server's WWW-Authenticate description", () => {
    const response = new Response(null, {
      status: 401,
      headers: {'www-authenticate': 'Bearer error="invalid_token", error_description="bad aud"'},
    });
    const text =
      explainAuthFailure(response, {
        url: 'https://svc-abc.a.run.app/mcp?key=secret',
        credentialSent: true,
        header: 'authorization',
        tokenKind: 'id',
        audience: 'https://svc-abc.a.run.app/mcp',
        principal: 'agent@p.iam.gserviceaccount.com',
      }) ?? '';
    expect(text).toContain('HTTP 401 from https://svc-abc.a.run.app:');
    expect(text).toContain('The server said "bad aud"');
    expect(text).toContain(
      'An ID token for agent@p.iam.gserviceaccount.com with audience "https://svc-abc.a.run.app/mcp" was sent in authorization',
    );
    expect(text).not.toContain('secret');
  });

  it('says when no credential was sent', () => {
    expect(
      explainAuthFailure(403, {credentialSent: false, withheldReason: 'cross-origin'}),
    ).toContain('No token reached the front (cross-origin)');
    expect(explainAuthFailure(401, {credentialSent: false})).toContain('No credential was sent.');
  });
});
