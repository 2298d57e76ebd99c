import {describe, expect, it} from 'vitest';
import {audienceRemarks} from '../../../src/cli/doctor/audience-checks.js';

const codes = (audience: string, url: string) =>
  audienceRemarks(audience, new URL(url)).map((r) => r.code);

describe('audienceRemarks', () => {
  it('has nothing to say about the origin of a run.app URL or a loopback URL', () => {
    expect(codes('https://svc-abc.a.run.app', 'https://svc-abc.a.run.app/mcp')).toEqual([]);
    expect(codes('http://127.0.0.1:8080', 'http://127.0.0.1:8080/mcp')).toEqual([]);
  });

  it('warns on a path, another origin, a custom domain, an IAP client id', () => {
    expect(codes('https://svc-abc.a.run.app/mcp', 'https://svc-abc.a.run.app/mcp')).toEqual([
      'path',
    ]);
    expect(codes('https://other.a.run.app', 'https://svc-abc.a.run.app/mcp')).toEqual([
      'other_origin',
    ]);
    expect(codes('https://mcp.example.com', 'https://mcp.example.com/mcp')).toEqual([
      'custom_domain',
    ]);
    expect(codes('123-abc.apps.googleusercontent.com', 'https://mcp.example.com/mcp')).toEqual([
      'iap_client_id',
    ]);
    expect(codes('my-custom-audience', 'https://svc-abc.a.run.app/mcp')).toEqual(['not_a_url']);
  });
});
