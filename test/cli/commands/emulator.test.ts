import type {ChildProcess} from 'node:child_process';
import {beforeAll, describe, expect, it} from 'vitest';
import {BUILD_TIMEOUT_MS, ensureBuilt, runCli, spawnCli} from '../cli-harness.js';

/** Collects stdout until `done(text)` holds. */
function readUntil(child: ChildProcess, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (done(text)) resolve(text);
    });
    child.on('exit', (code) =>
      reject(new Error(`exited with ${code} before the output was complete: ${text}`)),
    );
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
}

describe('mcp-google-auth emulator', () => {
  beforeAll(() => ensureBuilt(), BUILD_TIMEOUT_MS);

  it('--json prints the URLs and environment, serves until SIGTERM, then exits 0', async () => {
    const child = spawnCli(['emulator', '--json']);
    try {
      const line = await readUntil(child, (text) => text.includes('\n'));
      const info = JSON.parse(line) as {
        mcpUrl: string;
        serviceAccount: string;
        env: Record<string, string>;
        front: {url: string};
      };
      expect(info.mcpUrl).toBe(`${info.front.url}/mcp`);
      expect(info.env).toMatchObject({
        METADATA_SERVER_DETECTION: 'assume-present',
        GOOGLE_CLOUD_PROJECT: 'emulator-project',
      });
      expect(info.env.GOOGLE_APPLICATION_CREDENTIALS).toMatch(/\.json$/);

      // The printed environment is all another shell needs.
      const who = await runCli(['call', info.mcpUrl, 'whoami'], info.env);
      expect(who.code).toBe(0);
      expect(who.stdout.trim()).toBe(info.serviceAccount);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
  });

  it('prints export lines and an example command for a person', async () => {
    const child = spawnCli(['emulator']);
    try {
      const text = await readUntil(child, (t) => t.includes('mcp-google-auth doctor'));
      expect(text).toMatch(/^export GOOGLE_AUTH_EMULATOR_HOST=127\.0\.0\.1:\d+$/m);
      expect(text).toMatch(/^export GOOGLE_APPLICATION_CREDENTIALS=\S+$/m);
      expect(text).toMatch(/^npx mcp-google-auth tools http:\/\/127\.0\.0\.1:\d+\/mcp$/m);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited(child)).toBe(0);
  });

  it('exits 2 for a bad --port', async () => {
    const result = await runCli(['emulator', '--port', 'abc']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--port');
  });
});
