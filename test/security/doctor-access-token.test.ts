/**
 * Attack: `doctor` used to send a `cloud-platform` access token to any `*.run.app` (and
 * `*.cloudfunctions.net`) host "for comparison". Anyone can deploy a `*.run.app` service that
 * logs headers, ask a victim to run `doctor` against it, and then call every Google API as the
 * victim's service account (including minting ID tokens for it).
 *
 * What these tests prove, and how: a `*.run.app` host cannot be reached by name from a test
 * (no DNS, no internet), so `doctor`'s real code runs in-process and the global `fetch` is
 * wrapped: requests to the attacker's host are answered here (403 without a token, 401 with
 * one) and every credential they carry is recorded; everything else (the Google emulator on
 * 127.0.0.1) goes through untouched. Tokens are real, minted by the emulator, so a recorded
 * access token's scopes are read back from the emulator that issued it.
 */
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {createLogger} from '../../src/cli/logger.js';
import {runDoctor} from '../../src/cli/doctor/run-doctor.js';
import {parseAuthCredential} from '../../src/credentials/parse.js';
import type {ServiceAccount} from '../../src/credentials/types.js';
import {startGoogleEmulator} from '../../src/emulator/google-emulator.js';
import type {
  EmulatorServiceAccountKey,
  GoogleEmulator,
} from '../../src/emulator/google-emulator.js';
import type {IdentityRegistry} from '../../src/emulator/google/identities.js';
import {decodeJwtPayload} from '../../src/tokens/jwt-claims.js';
import {runCli, ensureBuilt, BUILD_TIMEOUT_MS} from '../cli/cli-harness.js';

const USERINFO_SCOPES = ['openid', 'https://www.googleapis.com/auth/userinfo.email'];

let emu: GoogleEmulator;
let key: EmulatorServiceAccountKey;
const savedEnv = {...process.env};
const realFetch = globalThis.fetch;

beforeAll(async () => {
  ensureBuilt();
  emu = await startGoogleEmulator();
  key = await emu.createServiceAccountKey('doctor-victim@emulator-project.iam.gserviceaccount.com');
  Object.assign(process.env, emu.env());
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  process.env = {...savedEnv};
  await emu?.close();
});

afterEach(() => {
  globalThis.fetch = realFetch;
});

/** Every bearer credential a fake host received, by header. */
interface Received {
  header: string;
  token: string;
}

/**
 * Answers requests to `origin` here (403 without a credential, 401 with one, as a front that
 * refuses everything) and records what they carried; passes everything else through.
 */
function interceptHost(origin: string): Received[] {
  const received: Received[] = [];
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== origin) return realFetch(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : {}));
    let credential = false;
    for (const name of ['authorization', 'x-serverless-authorization', 'proxy-authorization']) {
      const value = headers.get(name);
      if (value) {
        credential = true;
        received.push({header: name, token: value.replace(/^Bearer\s+/i, '')});
      }
    }
    return new Response('refused', {status: credential ? 401 : 403});
  }) as typeof fetch;
  return received;
}

function serviceAccountFor(audience: string): ServiceAccount {
  const credential = parseAuthCredential({
    authType: 'serviceAccount',
    serviceAccount: {serviceAccountCredential: key.json, useIdToken: true, audience},
  });
  return credential.serviceAccount as ServiceAccount;
}

function quietLog() {
  return createLogger({stream: {write: () => true} as unknown as NodeJS.WritableStream});
}

function accessTokens(received: Received[]): Received[] {
  return received.filter((r) => decodeJwtPayload(r.token) === undefined);
}

function scopesOf(token: string): readonly string[] | undefined {
  const registry = (emu as unknown as {identities: IdentityRegistry}).identities;
  return registry.accessToken(token, Date.now())?.scopes;
}

describe('doctor and access tokens (issue 9, item 1)', () => {
  for (const origin of [
    'https://attacker-logs-headers.a.run.app',
    'https://evil.cloudfunctions.net',
  ]) {
    it(`sends no access token to ${new URL(origin).hostname} (a host anyone can deploy)`, async () => {
      const received = interceptHost(origin);
      const target = new URL(`${origin}/mcp`);
      const report = await runDoctor(target, serviceAccountFor(origin), {
        audience: origin,
        audienceSource: 'url-origin',
        header: 'authorization',
        log: quietLog(),
      });
      // The host did get ID tokens (bound to its own audience), so the probes really ran.
      expect(received.length).toBeGreaterThan(0);
      expect(accessTokens(received)).toEqual([]);
      for (const {token} of received) {
        expect(String(decodeJwtPayload(token)?.aud)).toMatch(new RegExp(`^${origin}`));
      }
      const step = report.steps.find((s) => s.id === 'probe_access_token');
      expect(step?.status).toBe('skip');
      expect(step?.summary).toContain('--unsafe-send-access-token');
    });
  }

  it('with the explicit opt-in, sends over https only a token scoped to openid and userinfo.email', async () => {
    const origin = 'https://my-own-service.a.run.app';
    const received = interceptHost(origin);
    await runDoctor(new URL(`${origin}/mcp`), serviceAccountFor(origin), {
      audience: origin,
      audienceSource: 'url-origin',
      header: 'authorization',
      log: quietLog(),
      sendAccessTokenToTarget: true,
    });
    const sent = accessTokens(received);
    expect(sent).toHaveLength(1);
    expect([...(scopesOf(sent[0]!.token) ?? [])].sort()).toEqual([...USERINFO_SCOPES].sort());
  });

  it('never sends one over http: to a host other than this machine, even with the opt-in', async () => {
    const origin = 'http://plain-http.example';
    const received = interceptHost(origin);
    const report = await runDoctor(new URL(`${origin}/mcp`), serviceAccountFor(origin), {
      audience: origin,
      audienceSource: 'url-origin',
      header: 'authorization',
      log: quietLog(),
      sendAccessTokenToTarget: true,
    });
    expect(accessTokens(received)).toEqual([]);
    expect(report.steps.find((s) => s.id === 'probe_access_token')?.status).toBe('skip');
  });

  it('sends one to this machine by default, and never with the cloud-platform scope', async () => {
    const origin = 'http://127.0.0.1:9';
    const received = interceptHost(origin);
    const report = await runDoctor(new URL(`${origin}/mcp`), serviceAccountFor(origin), {
      audience: origin,
      audienceSource: 'url-origin',
      header: 'authorization',
      log: quietLog(),
    });
    const sent = accessTokens(received);
    expect(sent).toHaveLength(1);
    const scopes = scopesOf(sent[0]!.token) ?? [];
    expect(scopes).not.toContain('https://www.googleapis.com/auth/cloud-platform');
    expect([...scopes].sort()).toEqual([...USERINFO_SCOPES].sort());
    expect(report.steps.find((s) => s.id === 'probe_access_token')?.data).toMatchObject({
      status: 401,
    });
  });

  it('the command refuses --unsafe-send-access-token with an http: URL beyond loopback, before any request', async () => {
    const result = await runCli(
      ['doctor', 'http://plain-http.example/mcp', '--unsafe-send-access-token'],
      emu.env(),
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--unsafe-send-access-token');
    expect(result.stderr).toContain('https');
  });
});
