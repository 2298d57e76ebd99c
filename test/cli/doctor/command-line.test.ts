import {describe, expect, it} from 'vitest';
import {credentialFlags, doctorCommandLine} from '../../../src/cli/doctor/command-line.js';

describe('credentialFlags', () => {
  it('keeps the flags that chose the credential and the header, drops output flags and defaults', () => {
    expect(
      credentialFlags({
        keyFile: 'key.json',
        impersonate: 'sa@p.iam.gserviceaccount.com',
        audience: 'https://x.a.run.app',
        header: 'proxy-authorization',
        emulator: '127.0.0.1:8085',
        json: true,
        verbose: true,
      }),
    ).toEqual([
      '--key-file',
      'key.json',
      '--impersonate',
      'sa@p.iam.gserviceaccount.com',
      '--audience',
      'https://x.a.run.app',
      '--header',
      'proxy-authorization',
      '--emulator',
      '127.0.0.1:8085',
    ]);
    expect(credentialFlags({header: 'authorization', json: true})).toEqual([]);
  });
});

describe('doctorCommandLine', () => {
  it('is a line a shell reads back as it was typed', () => {
    expect(doctorCommandLine(new URL('https://x.a.run.app/mcp'))).toBe(
      'mcp-google-auth doctor https://x.a.run.app/mcp',
    );
    expect(
      doctorCommandLine('https://x.a.run.app/mcp?a=1&b=2', ['--key-file', "/tmp/my key's.json"]),
    ).toBe(
      `mcp-google-auth doctor 'https://x.a.run.app/mcp?a=1&b=2' --key-file '/tmp/my key'\\''s.json'`,
    );
  });
});
