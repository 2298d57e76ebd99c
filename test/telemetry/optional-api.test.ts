/**
 * `@opentelemetry/api` is an optional peer: importing any entry loads nothing of it (no
 * import time), it is loaded on the first thing recorded, and without it every hook is a
 * no-op that changes nothing for the caller.
 */
import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {promisify} from 'node:util';
import {afterEach, describe, expect, it} from 'vitest';
import {setOtelApiForTesting} from '../../src/telemetry/otel-api.js';
import {instruments} from '../../src/telemetry/instruments.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {FakeTokenSource} from '../http/support/loopback.js';

const run = promisify(execFile);

afterEach(() => {
  setOtelApiForTesting(undefined);
});

describe('@opentelemetry/api, optional', () => {
  it.skipIf(!existsSync('dist/verify/index.js'))(
    'is not loaded by importing the entries, only by the first verification',
    async () => {
      const script = `
        import {createRequire} from 'node:module';
        const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('@opentelemetry'));
        const verify = await import('./dist/verify/index.js');
        await import('./dist/index.js');
        const atImport = loaded();
        await verify.createIdTokenVerifier({audience: 'https://a.run.app', jwksUrl: 'http://127.0.0.1:9/certs'})('x.y.z').catch(() => {});
        console.log(JSON.stringify({atImport, afterVerify: loaded()}));
      `;
      const {stdout} = await run(process.execPath, ['--input-type=module', '-e', script]);
      expect(JSON.parse(stdout)).toEqual({atImport: false, afterVerify: true});
    },
  );

  it('absent: nothing is recorded and tokens are served as before', async () => {
    setOtelApiForTesting(null);
    expect(instruments()).toBeUndefined();
    const source = new FakeTokenSource();
    source.delayMs = 0;
    const cache = new TokenCache();
    const first = await cache.get(source, {kind: 'id', audience: 'https://a.run.app'});
    const again = await cache.get(source, {kind: 'id', audience: 'https://a.run.app'});
    expect(again.value).toBe(first.value);
    expect(cache.stats()).toMatchObject({hits: 1, fetches: 1});
  });

  it('present without an SDK: the no-op providers cost nothing and break nothing', async () => {
    setOtelApiForTesting(undefined);
    expect(instruments()).toBeDefined();
    const source = new FakeTokenSource();
    source.delayMs = 0;
    const cache = new TokenCache();
    await cache.get(source, {kind: 'id', audience: 'https://b.run.app'});
    expect(cache.stats().fetches).toBe(1);
  });
});
