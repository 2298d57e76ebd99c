import {describe, expect, it} from 'vitest';
import {
  accessTokenProbeDecision,
  DOCTOR_ACCESS_TOKEN_SCOPES,
  isLoopback,
} from '../../../src/cli/doctor/access-token-policy.js';

const sends = (url: string, unsafeSendToTarget = false) =>
  accessTokenProbeDecision(new URL(url), {unsafeSendToTarget}).send;

describe('accessTokenProbeDecision', () => {
  it('sends the comparison token to this machine, over http or https', () => {
    for (const url of [
      'http://127.0.0.1:8086/mcp',
      'http://127.5.6.7/mcp',
      'http://localhost:3000/mcp',
      'http://[::1]:3000/mcp',
      'https://localhost/mcp',
    ]) {
      expect(sends(url), url).toBe(true);
    }
  });

  it("sends it to no other host by default, Google's fronts included (anyone can deploy one)", () => {
    for (const url of [
      'https://svc-abc.a.run.app/mcp',
      'https://us-central1-p.cloudfunctions.net/f',
      'https://mcp.example.com/mcp',
      'http://10.0.0.5/mcp',
      // Names that only start like a loopback address resolve wherever their owner wants.
      'http://127.0.0.1.evil.example/mcp',
      'http://127.evil.example/mcp',
      'http://localhost.evil.example/mcp',
    ]) {
      const decision = accessTokenProbeDecision(new URL(url));
      expect(decision.send, url).toBe(false);
      if (!decision.send) expect(decision.reason).toContain('--unsafe-send-access-token');
    }
  });

  it('with the flag, sends it beyond this machine over https only', () => {
    expect(sends('https://svc-abc.a.run.app/mcp', true)).toBe(true);
    expect(sends('http://svc.example/mcp', true)).toBe(false);
    expect(sends('http://10.0.0.5/mcp', true)).toBe(false);
  });

  it('asks for openid and userinfo.email only, never cloud-platform', () => {
    expect([...DOCTOR_ACCESS_TOKEN_SCOPES]).toEqual([
      'openid',
      'https://www.googleapis.com/auth/userinfo.email',
    ]);
  });
});

describe('isLoopback', () => {
  it('takes only localhost, 127.x.y.z and ::1', () => {
    for (const host of ['localhost', '127.0.0.1', '127.255.0.9', '[::1]', '::1'])
      expect(isLoopback(host), host).toBe(true);
    for (const host of [
      '127.0.0.1.nip.io',
      '127.1',
      '1127.0.0.1',
      '127.0.0.256',
      'localhost.x',
      '0.0.0.0',
    ])
      expect(isLoopback(host), host).toBe(false);
  });
});
