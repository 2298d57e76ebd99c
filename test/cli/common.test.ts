import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {generateKeyPairSync} from 'node:crypto';
import {afterEach, describe, expect, it} from 'vitest';
import {authFromOptions, CliError} from '../../src/cli/common.js';

const dir = mkdtempSync(join(tmpdir(), 'cli-common-'));
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}
const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048});
const pem = privateKey.export({type: 'pkcs8', format: 'pem'}).toString();
const keyFile = file('key.json', {
  type: 'service_account',
  project_id: 'p-123456',
  private_key_id: 'k1',
  private_key: pem,
  client_email: 'sa@p-123456.iam.gserviceaccount.com',
  client_id: '1',
  token_uri: 'https://oauth2.googleapis.com/token',
});

describe('authFromOptions', () => {
  const saved = {...process.env};
  afterEach(() => {
    process.env = {...saved};
  });

  it("asks for an ID token for the URL's origin by default, with ADC", () => {
    const auth = authFromOptions({}, 'https://svc-abc.a.run.app/mcp?x=1');
    expect(auth).toMatchObject({
      audience: 'https://svc-abc.a.run.app',
      audienceSource: 'url-origin',
      header: 'authorization',
    });
    expect(auth.authCredential.serviceAccount).toEqual({
      useDefaultCredential: true,
      useIdToken: true,
      audience: 'https://svc-abc.a.run.app',
    });
  });

  it('uses a service-account key file as the explicit key, with impersonation and --audience', () => {
    const auth = authFromOptions(
      {
        keyFile,
        impersonate: 'target@p-123456.iam.gserviceaccount.com',
        audience: 'https://fn.cloudfunctions.net/f',
        header: 'x-serverless-authorization',
      },
      'https://fn.cloudfunctions.net/f',
    );
    expect(auth.audienceSource).toBe('option');
    expect(auth.keyFileType).toBe('service_account');
    expect(auth.header).toBe('x-serverless-authorization');
    const sa = auth.authCredential.serviceAccount;
    expect(sa?.serviceAccountCredential?.clientEmail).toBe('sa@p-123456.iam.gserviceaccount.com');
    expect(sa?.impersonateServiceAccount).toBe('target@p-123456.iam.gserviceaccount.com');
  });

  it('points ADC at any other Google credential file', () => {
    const user = file('user.json', {
      type: 'authorized_user',
      client_id: 'c',
      client_secret: 's',
      refresh_token: 'r',
    });
    const auth = authFromOptions({keyFile: user});
    expect(auth.authCredential.serviceAccount).toEqual({useDefaultCredential: true});
    expect(process.env.GOOGLE_APPLICATION_CREDENTIALS).toBe(user);
  });

  it('gives an access token with scopes when there is no URL and no audience', () => {
    const auth = authFromOptions({}, undefined, {
      scopes: ['https://www.googleapis.com/auth/userinfo.email'],
    });
    expect(auth.audience).toBeUndefined();
    expect(auth.authCredential.serviceAccount?.scopes).toEqual([
      'https://www.googleapis.com/auth/userinfo.email',
    ]);
  });

  it('sets GOOGLE_AUTH_EMULATOR_HOST from --emulator and checks it', () => {
    authFromOptions({emulator: '127.0.0.1:8085'});
    expect(process.env.GOOGLE_AUTH_EMULATOR_HOST).toBe('127.0.0.1:8085');
    expect(() => authFromOptions({emulator: 'nope'})).toThrow(
      '--emulator must be host:port, e.g. 127.0.0.1:8085.',
    );
  });

  it('refuses bad input with exit 2 and never echoes key material', () => {
    const cases: [Parameters<typeof authFromOptions>[0], string?, string[]?][] = [
      [{keyFile: file('bad.json', '{"private_key": "-----BEGIN')}],
      [{keyFile: file('array.json', '[]')}],
      [{keyFile: file('odd.json', {type: 'something'})}],
      [{keyFile: join(dir, 'missing.json')}],
      [{impersonate: 'not-an-email'}],
      [{audience: ' '}],
      [{audience: 'https://svc-abc.a.run.app'}, undefined, ['cloud-platform']],
      [{}, 'https://svc-abc.a.run.app/mcp', ['cloud-platform']],
      [{}, 'ftp://x'],
      [{}, 'not a url'],
    ];
    for (const [opts, url, scopes] of cases) {
      try {
        authFromOptions(opts, url, scopes ? {scopes} : {});
        expect.unreachable(`accepted ${JSON.stringify(opts)} ${url ?? ''}`);
      } catch (error) {
        expect(error).toBeInstanceOf(CliError);
        expect((error as CliError).exitCode).toBe(2);
        expect((error as CliError).message).not.toContain('BEGIN');
      }
    }
  });

  it('names the key file it cannot read, and says why scopes and an audience do not mix', () => {
    const missing = join(dir, 'missing.json');
    expect(() => authFromOptions({keyFile: missing})).toThrow(
      `Cannot read the key file ${missing} (ENOENT).`,
    );
    expect(() =>
      authFromOptions({audience: 'https://svc-abc.a.run.app'}, undefined, {scopes: ['x']}),
    ).toThrow('--scopes applies to access tokens only, not to ID tokens.');
  });
});
