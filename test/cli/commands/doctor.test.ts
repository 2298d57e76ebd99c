import {readFileSync, writeFileSync} from 'node:fs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startCloudRunGateway} from '../../../src/emulator/cloud-run-gateway.js';
import type {CloudRunGateway} from '../../../src/emulator/cloud-run-gateway.js';
import {startDemoMcpServer} from '../../../src/emulator/demo-mcp-server.js';
import type {DemoMcpServer} from '../../../src/emulator/demo-mcp-server.js';
import {startGoogleEmulator} from '../../../src/emulator/google-emulator.js';
import type {
  EmulatorServiceAccountKey,
  GoogleEmulator,
} from '../../../src/emulator/google-emulator.js';
import {BUILD_TIMEOUT_MS, closedPort, ensureBuilt, runCli} from '../cli-harness.js';

interface Report {
  url: string;
  ok: boolean;
  exitCode: number;
  steps: {
    id: string;
    status: string;
    summary: string;
    details: string[];
    data?: Record<string, unknown>;
  }[];
  findings: {code: string; severity: string; message: string}[];
}

const IAP_CLIENT_ID = '123456789012-emulated.apps.googleusercontent.com';

describe.concurrent('mcp-google-auth doctor', () => {
  let emu: GoogleEmulator;
  let demo: DemoMcpServer;
  let open: CloudRunGateway;
  let strict: CloudRunGateway;
  let iap: CloudRunGateway;
  let key: EmulatorServiceAccountKey;
  let env: Record<string, string>;

  beforeAll(async () => {
    ensureBuilt();
    emu = await startGoogleEmulator();
    demo = await startDemoMcpServer();
    [open, strict, iap] = await Promise.all([
      startCloudRunGateway({upstream: demo.origin, jwksUrl: emu.jwksUrl}),
      startCloudRunGateway({
        upstream: demo.origin,
        jwksUrl: emu.jwksUrl,
        invokers: ['someone-else@emulator-project.iam.gserviceaccount.com'],
      }),
      startCloudRunGateway({
        upstream: demo.origin,
        jwksUrl: emu.jwksUrl,
        mode: 'iap',
        audiences: [IAP_CLIENT_ID],
      }),
    ]);
    key = await emu.createServiceAccountKey('cli-doctor@emulator-project.iam.gserviceaccount.com');
    env = {...emu.env(), GOOGLE_APPLICATION_CREDENTIALS: key.path};
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all([open?.close(), strict?.close(), iap?.close()]);
    await demo?.close();
    await emu?.close();
  });

  async function doctor(
    args: string[],
    childEnv = env,
  ): Promise<{code: number | null; report: Report; stderr: string}> {
    const result = await runCli(['doctor', ...args, '--json'], childEnv);
    return {code: result.code, report: JSON.parse(result.stdout) as Report, stderr: result.stderr};
  }
  const step = (report: Report, id: string) => report.steps.find((s) => s.id === id);
  const codes = (report: Report) => report.findings.map((f) => f.code);

  it('passes every step for a service account that may invoke, and says an access token would get 401', async () => {
    const {code, report, stderr} = await doctor([`${open.url}/mcp`, '--verbose']);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(step(report, 'credential')?.data).toMatchObject({
      kind: 'service_account_key',
      principal: key.email,
    });
    expect(step(report, 'audience')?.data).toMatchObject({
      audience: open.url,
      source: 'url-origin',
    });
    const claims = step(report, 'claims')?.data as {aud: string; email: string; exp: number};
    expect(claims).toMatchObject({aud: open.url, email: key.email});
    expect(claims.exp * 1000).toBeGreaterThan(Date.now());
    expect(step(report, 'claims')?.details).toContain(`email: ${key.email}`);
    expect(
      step(report, 'claims')?.details.some((d) => /^expires: in (59 minutes|1 hour)/.test(d)),
    ).toBe(true);
    // --verbose adds the token's fingerprint, never the token.
    expect(step(report, 'id_token')?.details).toEqual([
      expect.stringMatching(/^fingerprint sha256:[0-9a-f]{8}$/),
    ]);
    expect(stderr).toContain('… Minting an ID token for');
    expect(stderr).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect(step(report, 'probe_anonymous')?.data).toMatchObject({status: 403});
    expect(step(report, 'probe_id_token')?.data).toMatchObject({status: 200});
    // The comparison access token goes to this machine only, scoped down.
    expect(step(report, 'probe_access_token')?.data).toMatchObject({
      status: 401,
      scopes: ['openid', 'https://www.googleapis.com/auth/userinfo.email'],
    });
    expect(step(report, 'mcp')?.status).toBe('pass');
    expect(codes(report)).toEqual(['ok', 'access_token_refused']);
    expect(JSON.stringify(report)).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });

  it('prints a readable report with a mark per step', async () => {
    const result = await runCli(['doctor', `${open.url}/mcp`], env);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(`mcp-google-auth doctor ${open.url}/mcp`);
    expect(result.stdout).toContain(`[ok] Credential: service-account key for ${key.email}`);
    expect(result.stdout).toContain('[ok] Without a token: HTTP 403 Forbidden');
    expect(result.stdout).toContain('[info] With an access token: HTTP 401 Unauthorized');
    expect(result.stdout).toMatch(/Diagnosis:\n\[ok\] Everything works/);
  });

  it('diagnoses a wrong audience, exit 3, and heads the report with the flags it checked', async () => {
    const {code, report} = await doctor([
      `${open.url}/mcp`,
      '--audience',
      'https://wrong-abc.a.run.app',
    ]);
    expect(code).toBe(3);
    expect((report as Report & {command: string}).command).toBe(
      `mcp-google-auth doctor ${open.url}/mcp --audience https://wrong-abc.a.run.app`,
    );
    expect(step(report, 'audience')?.status).toBe('warn');
    expect(step(report, 'probe_id_token')?.status).toBe('fail');
    expect(codes(report)).toContain('wrong_audience');
    const finding = report.findings.find((f) => f.code === 'wrong_audience');
    expect(finding?.message).toContain(`accepted one for ${open.url}`);
  });

  it('diagnoses an access token: federation without impersonation can only send one, and it gets 401', async () => {
    const fed = await emu.createExternalAccountFile();
    const json = JSON.parse(readFileSync(fed.path, 'utf8')) as Record<string, unknown>;
    delete json.service_account_impersonation_url;
    writeFileSync(fed.path, JSON.stringify(json));
    const {code, report} = await doctor([`${open.url}/mcp`], {
      ...emu.env(),
      GOOGLE_APPLICATION_CREDENTIALS: fed.path,
    });
    expect(code).toBe(2);
    expect(step(report, 'credential')?.data).toMatchObject({
      kind: 'external_account',
      canMintIdTokens: false,
    });
    expect(step(report, 'id_token')?.status).toBe('fail');
    expect(step(report, 'probe_access_token')?.data).toMatchObject({status: 401});
    expect(codes(report)).toEqual(['federation_without_impersonation', 'access_token_only']);
  });

  it('diagnoses a caller without roles/run.invoker, exit 3', async () => {
    const {code, report} = await doctor([`${strict.url}/mcp`]);
    expect(code).toBe(3);
    expect(step(report, 'probe_id_token')?.data).toMatchObject({status: 403});
    const finding = report.findings.find((f) => f.code === 'missing_invoker');
    expect(finding?.message).toContain(
      `--member=serviceAccount:${key.email} --role=roles/run.invoker`,
    );
  });

  it('explains that user credentials cannot mint an ID token for the service, exit 2', async () => {
    const user = await emu.createAuthorizedUserFile();
    const {code, report} = await doctor([`${open.url}/mcp`, '--key-file', user.path], emu.env());
    expect(code).toBe(2);
    expect(step(report, 'credential')?.data).toMatchObject({kind: 'authorized_user'});
    expect(step(report, 'id_token')?.status).toBe('fail');
    expect(step(report, 'probe_anonymous')?.status).toBe('pass');
    const finding = report.findings.find((f) => f.code === 'user_credentials');
    expect(finding?.message).toContain('--impersonate-service-account=SA_EMAIL');
  });

  it('says when no credential is found at all, exit 2, and still probes the URL', async () => {
    const {code, report} = await doctor([`${open.url}/mcp`], {
      GOOGLE_CLOUD_PROJECT: 'emulator-project',
    });
    expect(code).toBe(2);
    expect(step(report, 'credential')?.status).toBe('fail');
    expect(step(report, 'id_token')?.status).toBe('skip');
    expect(step(report, 'probe_anonymous')?.data).toMatchObject({status: 403});
    expect(codes(report)).toEqual(['no_credential']);
  });

  it('reports an unreachable URL, exit 1', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/mcp`;
    const {code, report} = await doctor([url]);
    expect(code).toBe(1);
    expect(step(report, 'probe_anonymous')).toMatchObject({status: 'fail'});
    expect(step(report, 'probe_anonymous')?.summary).toContain('ECONNREFUSED');
    expect(step(report, 'probe_id_token')?.status).toBe('skip');
    expect(codes(report)).toEqual(['unreachable']);
  });

  it('tells that IAP wants its OAuth client id as audience, and passes with it', async () => {
    const wrong = await doctor([`${iap.url}/mcp`]);
    expect(wrong.code).toBe(3);
    expect(codes(wrong.report)).toContain('iap_audience');

    const right = await doctor([
      `${iap.url}/mcp`,
      '--audience',
      IAP_CLIENT_ID,
      '--header',
      'proxy-authorization',
    ]);
    expect(right.code).toBe(0);
    expect(step(right.report, 'audience')?.data).toMatchObject({
      remarks: [{code: 'iap_client_id'}],
    });
    expect(step(right.report, 'mcp')?.status).toBe('pass');
    // The advice names IAP's audience and header; IAP's audience is not the URL's origin.
    const ok = right.report.findings.find((f) => f.code === 'ok');
    expect(ok?.message).toContain(`audience: "${IAP_CLIENT_ID}"`);
    expect(ok?.message).toContain('proxy-authorization');
    const access = right.report.findings.find((f) => f.code === 'access_token_refused');
    expect(access?.message).toContain(
      `Set serviceAccount.useIdToken: true with audience: "${IAP_CLIENT_ID}" (IAP wants its OAuth client id, not the URL's origin)`,
    );
    expect(JSON.stringify(right.report)).not.toContain("defaults to the URL's origin");
  });

  it('says when the service lets the token in but is not an MCP endpoint, exit 1', async () => {
    const {code, report} = await doctor([`${open.url}/not-mcp`]);
    expect(code).toBe(1);
    expect(step(report, 'probe_id_token')?.data).toMatchObject({status: 404});
    expect(codes(report)).toContain('not_mcp');
  });
});
