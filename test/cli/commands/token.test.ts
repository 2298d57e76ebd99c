import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startGoogleEmulator} from '../../../src/emulator/google-emulator.js';
import type {
  EmulatorServiceAccountKey,
  GoogleEmulator,
} from '../../../src/emulator/google-emulator.js';
import {tokenFingerprint} from '../../../src/tokens/fingerprint.js';
import {verifyGoogleIdToken} from '../../../src/verify/verify-google-id-token.js';
import {BUILD_TIMEOUT_MS, ensureBuilt, runCli, stderrBeyondEmulatorNotice} from '../cli-harness.js';

const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

describe.concurrent('mcp-google-auth token', () => {
  let emu: GoogleEmulator;
  let key: EmulatorServiceAccountKey;
  let env: Record<string, string>;

  beforeAll(async () => {
    ensureBuilt();
    emu = await startGoogleEmulator();
    key = await emu.createServiceAccountKey('cli-token@emulator-project.iam.gserviceaccount.com');
    env = {...emu.env(), GOOGLE_APPLICATION_CREDENTIALS: key.path};
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await emu.close();
  });

  it('prints an ID token for --audience, and only the token, on stdout; --verbose shows its fingerprint only', async () => {
    const result = await runCli(
      ['token', '--audience', 'https://svc-abc.a.run.app', '--verbose'],
      env,
    );
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const token = lines[0] as string;
    const claims = await verifyGoogleIdToken(token, {
      audience: 'https://svc-abc.a.run.app',
      jwksUrl: emu.jwksUrl,
    });
    expect(claims.email).toBe(key.email);
    expect(result.stderr).toContain(`credential: service_account_key ${key.email}`);
    expect(result.stderr).toContain(`token ${tokenFingerprint(token)}, expires in`);
    expect(result.stderr).not.toContain(token.split('.')[2]);
    expect(result.stderr).not.toMatch(JWT);
  });

  it('prints an access token without --audience, and takes --scopes', async () => {
    const result = await runCli(
      ['token', '--scopes', 'cloud-platform,userinfo.email', '--json', '--verbose'],
      env,
    );
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as {
      kind: string;
      token: string;
      scopes: string[];
      expiresAt: string;
    };
    expect(out.kind).toBe('access_token');
    expect(out.token).toMatch(/\S{10,}/);
    expect(out.scopes).toEqual([
      'https://www.googleapis.com/auth/cloud-platform',
      'https://www.googleapis.com/auth/userinfo.email',
    ]);
    expect(Date.parse(out.expiresAt)).toBeGreaterThan(Date.now());
    expect(result.stderr).toContain(`token ${tokenFingerprint(out.token)}`);
    expect(result.stderr).not.toContain(out.token);
  });

  it('--decode shows header and claims with the expiry in words, never the token or its signature (key file and --emulator only)', async () => {
    // No GOOGLE_* variable at all: --key-file and --emulator are the whole configuration.
    const result = await runCli([
      'token',
      '--key-file',
      key.path,
      '--emulator',
      emu.host,
      '--audience',
      'https://svc-abc.a.run.app',
      '--decode',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"alg": "RS256"');
    expect(result.stdout).toContain(`"email": "${key.email}"`);
    expect(result.stdout).toContain('"aud": "https://svc-abc.a.run.app"');
    expect(result.stdout).toContain('signature: (not shown)');
    expect(result.stdout).toMatch(
      /^expires in (59 minutes( \d+ seconds?)?|1 hour) \(\d{4}-\d\d-\d\dT[\d:]+Z\); issued /m,
    );
    expect(result.stdout).not.toMatch(JWT);
  });

  it('--decode --json gives parseable header and claims', async () => {
    const result = await runCli(
      ['token', '--audience', 'https://x.a.run.app', '--decode', '--json'],
      env,
    );
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as {
      header: {kid: string};
      claims: {aud: string};
      fingerprint: string;
    };
    expect(out.claims.aud).toBe('https://x.a.run.app');
    expect(out.header.kid).toBeTruthy();
    expect(out.fingerprint).toMatch(/^sha256:[0-9a-f]{8}$/);
    expect(result.stdout).not.toContain('"token"');
  });

  it('mints as the impersonated service account with --impersonate', async () => {
    const target = 'cli-target@emulator-project.iam.gserviceaccount.com';
    const result = await runCli(
      [
        'token',
        '--audience',
        'https://svc-abc.a.run.app',
        '--impersonate',
        target,
        '--decode',
        '--json',
      ],
      env,
    );
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as {claims: {email: string}}).claims.email).toBe(target);
  });

  it('mints with workload identity federation (external_account), which gcloud cannot', async () => {
    const fed = await emu.createExternalAccountFile({
      serviceAccountEmail: 'cli-workload@emulator-project.iam.gserviceaccount.com',
    });
    const result = await runCli(
      ['token', '--audience', 'https://svc-abc.a.run.app', '--decode', '--json'],
      {...emu.env(), GOOGLE_APPLICATION_CREDENTIALS: fed.path},
    );
    expect(result.code).toBe(0);
    const {claims} = JSON.parse(result.stdout) as {claims: {email: string; aud: string}};
    expect(claims).toMatchObject({
      email: fed.serviceAccountEmail,
      aud: 'https://svc-abc.a.run.app',
    });
    expect(emu.requests.byEndpoint.sts).toBeGreaterThan(0);
  });

  it('exits 2 with a plain sentence for user credentials asked for an ID token', async () => {
    const user = await emu.createAuthorizedUserFile();
    const result = await runCli(
      ['token', '--key-file', user.path, '--audience', 'https://svc-abc.a.run.app'],
      emu.env(),
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: /m);
    expect(result.stderr).toMatch(/impersonat/i);
    expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
  });

  it('exits 2 for a malformed key file, naming the path and not the content', async () => {
    // The other usage errors (missing file, --scopes with --audience, a bad --emulator) are
    // the same CliError path; test/cli/common.test.ts covers them in process.
    const bad = join(emu.directory, 'not-json.json');
    writeFileSync(bad, '{"private_key": "-----BEGIN');
    const malformed = await runCli(['token', '--key-file', bad], emu.env());
    expect(malformed.code).toBe(2);
    expect(malformed.stdout).toBe('');
    expect(stderrBeyondEmulatorNotice(malformed.stderr)).toBe(
      `error: The key file ${bad} is not JSON.\nPass the JSON credential file downloaded from the console or written by gcloud.\n`,
    );
  });

  it('exits 3 when Google refuses the key', async () => {
    // A separate emulator: its fault must not reach the tests running alongside.
    const refusing = await startGoogleEmulator();
    try {
      const refused = await refusing.createServiceAccountKey();
      refusing.fault({
        endpoint: 'token',
        status: 401,
        body: '{"error":"invalid_grant","error_description":"Invalid JWT Signature."}',
        count: 5,
      });
      const result = await runCli(['token', '--audience', 'https://svc-abc.a.run.app'], {
        ...refusing.env(),
        GOOGLE_APPLICATION_CREDENTIALS: refused.path,
      });
      expect(result.code).toBe(3);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^error: .*Invalid JWT Signature/m);
      expect(result.stderr).not.toMatch(JWT);
    } finally {
      await refusing.close();
    }
  });
});
