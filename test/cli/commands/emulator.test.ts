import type {ChildProcess} from 'node:child_process';
import {existsSync} from 'node:fs';
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

  it('prints export lines and an example command for a person, and on SIGINT stops cleanly', async () => {
    const child = spawnCli(['emulator']);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let text: string;
    try {
      text = await readUntil(child, (t) => t.includes('mcp-google-auth doctor'));
    } finally {
      child.kill('SIGINT');
    }
    expect(text).toMatch(/^export GOOGLE_AUTH_EMULATOR_HOST=127\.0\.0\.1:\d+$/m);
    expect(text).toMatch(/^export GOOGLE_APPLICATION_CREDENTIALS=\S+$/m);
    expect(text).toMatch(/^npx mcp-google-auth tools http:\/\/127\.0\.0\.1:\d+\/mcp$/m);
    const front = /^npx mcp-google-auth tools (http:\S+)\/mcp$/m.exec(text)?.[1] as string;
    const keyFile = /^export GOOGLE_APPLICATION_CREDENTIALS=(\S+)$/m.exec(text)?.[1] as string;
    expect(existsSync(keyFile)).toBe(true);

    expect(await exited(child)).toBe(0);
    // A clean stop: the servers closed and the key file was removed, nothing on stderr but
    // the ready line.
    expect(stderr).toBe('Emulator running; press Ctrl-C to stop.\n');
    expect(existsSync(keyFile)).toBe(false);
    await expect(fetch(front)).rejects.toThrow();
  });

  it('exits 2 for a bad --port', async () => {
    const result = await runCli(['emulator', '--port', 'abc']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('error: --port must be an integer from 1 to 65533, got "abc".\n');
  });
});
