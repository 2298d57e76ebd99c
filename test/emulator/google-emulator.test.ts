/**
 * Honesty: google-auth-library's own clients succeed against the emulator when their
 * transporter's fetch routes Google's hosts to it, and the emulator's ID tokens verify with
 * google-auth-library's and jose's verifiers.
 */
import {readFile, stat} from 'node:fs/promises';
import {
  GoogleAuth,
  Impersonated,
  JWT,
  OAuth2Client,
  UserRefreshClient,
  gaxios,
} from 'google-auth-library';
import {createRemoteJWKSet, jwtVerify} from 'jose';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startGoogleEmulator} from '../../src/emulator/index.js';
import type {EmulatorServiceAccountKey, GoogleEmulator} from '../../src/emulator/index.js';
import {createGoogleFetch, routeToEmulator} from '../../src/tokens/google-routing.js';
import {CLOUD_PLATFORM, claimsOf, headerOf} from './google/helpers.js';

let emu: GoogleEmulator;
let key: EmulatorServiceAccountKey;
let transporter: gaxios.Gaxios;

beforeAll(async () => {
  emu = await startGoogleEmulator();
  key = await emu.createServiceAccountKey();
  transporter = new gaxios.Gaxios({
    fetchImplementation: createGoogleFetch({emulatorHost: emu.host}) as typeof fetch,
  });
});

afterAll(async () => {
  await emu.close();
});

function jwtClient(scopes: string[] = [CLOUD_PLATFORM]): JWT {
  return new JWT({email: key.email, key: key.json.private_key, scopes, transporter});
}

describe('JWT client (service-account key)', () => {
  it('gets an access token for scopes', async () => {
    const {token} = await jwtClient().getAccessToken();
    expect(token).toMatch(/^ya29\.emu-/);
  });

  it('fetches an ID token for an audience', async () => {
    const idToken = await jwtClient().fetchIdToken('https://svc-abc.a.run.app');
    const claims = claimsOf(idToken);
    expect(claims).toMatchObject({
      iss: 'https://accounts.google.com',
      aud: 'https://svc-abc.a.run.app',
      email: key.email,
      email_verified: true,
    });
    expect(claims.sub).toMatch(/^\d{21}$/);
    expect(claims.sub).toBe(key.json.client_id);
    expect(Number(claims.exp) - Number(claims.iat)).toBe(3600);
    expect(headerOf(idToken)).toMatchObject({alg: 'RS256', kid: emu.currentSigningKeyId()});
  });

  it('serves an IdTokenClient built by GoogleAuth from the key file', async () => {
    const auth = new GoogleAuth({keyFile: key.path, clientOptions: {transporter}});
    const client = await auth.getIdTokenClient('https://svc-def.a.run.app');
    const headers = await client.getRequestHeaders('https://svc-def.a.run.app/mcp');
    const token = headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
    expect(claimsOf(token)).toMatchObject({aud: 'https://svc-def.a.run.app', email: key.email});
  });
});

describe('Impersonated client', () => {
  const target = 'target-sa@emulator-project.iam.gserviceaccount.com';

  it('gets an access token and an ID token of the target through IAM credentials', async () => {
    const client = new Impersonated({
      sourceClient: jwtClient(),
      targetPrincipal: target,
      targetScopes: [CLOUD_PLATFORM],
      delegates: [],
      transporter,
    });
    const before = {...emu.requests.byEndpoint};
    const {token} = await client.getAccessToken();
    expect(token).toMatch(/^ya29\.emu-/);
    const idToken = await client.fetchIdToken('https://svc-ghi.a.run.app');
    expect(claimsOf(idToken)).toMatchObject({aud: 'https://svc-ghi.a.run.app', email: target});
    expect(emu.requests.byEndpoint['iam.generateAccessToken']).toBe(
      before['iam.generateAccessToken'] + 1,
    );
    expect(emu.requests.byEndpoint['iam.generateIdToken']).toBe(before['iam.generateIdToken'] + 1);
  });

  it('fails as Google does when the source key client has no scopes (invalid_scope)', async () => {
    const client = new Impersonated({
      sourceClient: jwtClient([]),
      targetPrincipal: target,
      targetScopes: [CLOUD_PLATFORM],
      transporter,
    });
    await expect(client.getAccessToken()).rejects.toThrow(/invalid_scope/);
  });

  it('reports a denied impersonation as PERMISSION_DENIED', async () => {
    const denied = 'denied-target@emulator-project.iam.gserviceaccount.com';
    emu.denyImpersonation(key.email, denied);
    const client = new Impersonated({
      sourceClient: jwtClient(),
      targetPrincipal: denied,
      targetScopes: [CLOUD_PLATFORM],
      transporter,
    });
    await expect(client.getAccessToken()).rejects.toThrow(/PERMISSION_DENIED/);
  });

  it('works from an impersonated_service_account file with an authorized_user source', async () => {
    const file = await emu.createImpersonatedServiceAccountFile({
      targetEmail: target,
      source: 'authorized_user',
    });
    const json = JSON.parse(await readFile(file.path, 'utf8')) as {
      type: string;
      service_account_impersonation_url: string;
      source_credentials: Record<string, string>;
    };
    expect(json.type).toBe('impersonated_service_account');
    // GoogleAuth builds the source client of this file without our transporter, so the
    // clients are assembled here as a consumer that routes to the emulator must do.
    const source = new UserRefreshClient({
      clientId: json.source_credentials.client_id,
      clientSecret: json.source_credentials.client_secret,
      refreshToken: json.source_credentials.refresh_token,
      transporter,
    });
    const targetPrincipal = /serviceAccounts\/([^/:]+):generateAccessToken$/.exec(
      json.service_account_impersonation_url,
    )?.[1];
    expect(targetPrincipal).toBe(target);
    const client = new Impersonated({
      sourceClient: source,
      targetPrincipal,
      targetScopes: [CLOUD_PLATFORM],
      transporter,
    });
    const idToken = await client.fetchIdToken('https://svc-jkl.a.run.app');
    expect(claimsOf(idToken)).toMatchObject({aud: 'https://svc-jkl.a.run.app', email: target});
  });
});

describe('authorized_user (UserRefreshClient)', () => {
  it('gets an access token, and an ID token whose aud is the OAuth client id whatever was asked', async () => {
    const user = await emu.createAuthorizedUserFile();
    const client = new UserRefreshClient({
      clientId: user.json.client_id,
      clientSecret: user.json.client_secret,
      refreshToken: user.json.refresh_token,
      transporter,
    });
    expect((await client.getAccessToken()).token).toMatch(/^ya29\.emu-/);
    const idToken = await client.fetchIdToken('https://svc-mno.a.run.app');
    expect(claimsOf(idToken)).toMatchObject({
      aud: user.clientId,
      azp: user.clientId,
      email: user.email,
    });
  });
});

describe('external_account (workload identity federation)', () => {
  it('exchanges the subject token at STS and impersonates the service account', async () => {
    const file = await emu.createExternalAccountFile();
    const json = JSON.parse(await readFile(file.path, 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({
      type: 'external_account',
      token_url: 'https://sts.googleapis.com/v1/token',
      credential_source: {file: file.subjectTokenPath},
    });
    // google-auth-library's STS client ignores the client's transporter, so the token_url
    // itself is routed (what a consumer that honours GOOGLE_AUTH_EMULATOR_HOST must do).
    json.token_url = routeToEmulator(String(json.token_url), emu.host);
    const auth = new GoogleAuth({
      credentials: json,
      clientOptions: {transporter},
      scopes: [CLOUD_PLATFORM],
    });
    const client = await auth.getClient();
    const before = emu.requests.byEndpoint.sts;
    const {token} = await client.getAccessToken();
    expect(token).toMatch(/^ya29\.emu-/);
    expect(emu.requests.byEndpoint.sts).toBe(before + 1);
    const res = await client.request<{token: string}>({
      url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${file.serviceAccountEmail}:generateIdToken`,
      method: 'POST',
      data: {audience: 'https://svc-pqr.a.run.app', includeEmail: true},
    });
    expect(claimsOf(res.data.token)).toMatchObject({
      aud: 'https://svc-pqr.a.run.app',
      email: file.serviceAccountEmail,
    });
  });
});

describe('verification of the emulator ID tokens', () => {
  it('verifies with OAuth2Client.verifyIdToken (PEM certificates at /oauth2/v1/certs)', async () => {
    const idToken = await emu.mintIdToken({audience: 'https://svc-stu.a.run.app'});
    const ticket = await new OAuth2Client({transporter}).verifyIdToken({
      idToken,
      audience: 'https://svc-stu.a.run.app',
    });
    expect(ticket.getPayload()).toMatchObject({
      email: emu.metadataServiceAccount,
      aud: 'https://svc-stu.a.run.app',
    });
  });

  it('verifies with jose against the JWKS at jwksUrl', async () => {
    const idToken = await jwtClient().fetchIdToken('https://svc-vwx.a.run.app');
    const {payload, protectedHeader} = await jwtVerify(
      idToken,
      createRemoteJWKSet(new URL(emu.jwksUrl)),
      {
        issuer: 'https://accounts.google.com',
        audience: 'https://svc-vwx.a.run.app',
      },
    );
    expect(payload.email).toBe(key.email);
    expect(protectedHeader.alg).toBe('RS256');
  });
});

describe('environment and files', () => {
  it('env() names the emulator for every routing variable', () => {
    expect(emu.env()).toEqual({
      GOOGLE_AUTH_EMULATOR_HOST: emu.host,
      GCE_METADATA_HOST: emu.host,
      METADATA_SERVER_DETECTION: 'assume-present',
      GOOGLE_CLOUD_PROJECT: 'emulator-project',
    });
    expect(emu.url).toBe(`http://${emu.host}`);
    expect(emu.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(emu.jwksUrl).toBe(`${emu.url}/oauth2/v3/certs`);
  });

  it('writes key files as Google does, readable only by the owner', async () => {
    const named = await emu.createServiceAccountKey('named@other-project.iam.gserviceaccount.com');
    expect(named.email).toBe('named@other-project.iam.gserviceaccount.com');
    expect(JSON.parse(await readFile(named.path, 'utf8'))).toEqual(named.json);
    expect(named.json).toMatchObject({
      type: 'service_account',
      project_id: 'emulator-project',
      client_email: named.email,
      token_uri: 'https://oauth2.googleapis.com/token',
    });
    expect(named.json.private_key).toMatch(new RegExp(`^-----BEGIN ${'PRIVATE'} KEY-----\\n`));
    expect(named.json.private_key_id).toMatch(/^[0-9a-f]{40}$/);
    expect((await stat(named.path)).mode & 0o777).toBe(0o600);
  });

  it('close() stops the server and removes the credential files', async () => {
    const other = await startGoogleEmulator({projectId: 'closing-project'});
    const file = await other.createServiceAccountKey();
    await other.close();
    await expect(stat(file.path)).rejects.toThrow(/ENOENT/);
    await expect(stat(other.directory)).rejects.toThrow(/ENOENT/);
    await expect(fetch(`${other.url}/oauth2/v3/certs`)).rejects.toThrow();
    await other.close(); // idempotent
  });
});
