/**
 * The metadata server: google-auth-library's Compute client (through gcp-metadata, routed by
 * GCE_METADATA_HOST) and the wire protocol seen by plain fetch. This file sets process.env;
 * vitest runs each file in its own process.
 */
import {Compute, GoogleAuth} from 'google-auth-library';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startGoogleEmulator} from '../../src/emulator/index.js';
import type {GoogleEmulator} from '../../src/emulator/index.js';
import {claimsOf} from './google/helpers.js';

let emu: GoogleEmulator;
let base: string;
const savedEnv = {...process.env};
const flavor = {'Metadata-Flavor': 'Google'};

beforeAll(async () => {
  emu = await startGoogleEmulator({
    projectId: 'metadata-project',
    metadataServiceAccount: 'runtime@metadata-project.iam.gserviceaccount.com',
  });
  Object.assign(process.env, emu.env());
  base = `${emu.url}/computeMetadata/v1`;
});

afterAll(async () => {
  process.env = savedEnv;
  await emu.close();
});

describe('google-auth-library Compute client', () => {
  it('gets an access token from the metadata server', async () => {
    const before = emu.requests.byEndpoint['metadata.token'];
    const {token} = await new Compute().getAccessToken();
    expect(token).toMatch(/^ya29\.emu-/);
    expect(emu.requests.byEndpoint['metadata.token']).toBe(before + 1);
  });

  it('fetches an ID token for an audience, with the compute_engine claims of format=full', async () => {
    const idToken = await new Compute().fetchIdToken('https://svc-abc.a.run.app');
    const claims = claimsOf(idToken);
    expect(claims).toMatchObject({
      iss: 'https://accounts.google.com',
      aud: 'https://svc-abc.a.run.app',
      email: 'runtime@metadata-project.iam.gserviceaccount.com',
      email_verified: true,
      google: {compute_engine: {project_id: 'metadata-project'}},
    });
  });

  it('lets GoogleAuth (ADC) find the metadata server, project and identity', async () => {
    const auth = new GoogleAuth();
    expect(await auth.getProjectId()).toBe('metadata-project');
    const client = await auth.getIdTokenClient('https://svc-def.a.run.app');
    const headers = await client.getRequestHeaders('https://svc-def.a.run.app/mcp');
    const token = headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
    expect(claimsOf(token).aud).toBe('https://svc-def.a.run.app');
  });
});

describe('metadata wire protocol', () => {
  it('refuses requests without Metadata-Flavor: Google (403), and still answers with the header', async () => {
    const res = await fetch(`${base}/instance/service-accounts/default/email`);
    expect(res.status).toBe(403);
    expect(res.headers.get('metadata-flavor')).toBe('Google');
    const wrong = await fetch(`${base}/project/project-id`, {
      headers: {'Metadata-Flavor': 'google-ish'},
    });
    expect(wrong.status).toBe(403);
  });

  it('answers the detection probe that gcp-metadata sends', async () => {
    for (const path of ['/instance', '/instance/', '', '/']) {
      const res = await fetch(`${base}${path}`, {headers: flavor});
      expect(res.status, path).toBe(200);
      expect(res.headers.get('metadata-flavor')).toBe('Google');
    }
  });

  it('answers project id, numeric project id and email as text', async () => {
    const project = await fetch(`${base}/project/project-id`, {headers: flavor});
    expect(await project.text()).toBe('metadata-project');
    const number = await fetch(`${base}/project/numeric-project-id`, {headers: flavor});
    expect(await number.text()).toMatch(/^\d{12}$/);
    for (const sa of ['default', 'runtime@metadata-project.iam.gserviceaccount.com']) {
      const email = await fetch(`${base}/instance/service-accounts/${sa}/email`, {headers: flavor});
      expect(await email.text()).toBe('runtime@metadata-project.iam.gserviceaccount.com');
    }
  });

  it('answers the token as JSON with the requested scopes accepted', async () => {
    const res = await fetch(`${base}/instance/service-accounts/default/token?scopes=a,b`, {
      headers: flavor,
    });
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({
      access_token: expect.stringMatching(/^ya29\.emu-/),
      expires_in: 3600,
      token_type: 'Bearer',
    });
  });

  it('answers the identity as raw JWT text, and 400 without an audience', async () => {
    const res = await fetch(
      `${base}/instance/service-accounts/default/identity?audience=https%3A%2F%2Fx.example`,
      {headers: flavor},
    );
    const token = await res.text();
    expect(token.split('.')).toHaveLength(3);
    expect(claimsOf(token).aud).toBe('https://x.example');
    expect(claimsOf(token).google).toBeUndefined();
    const missing = await fetch(`${base}/instance/service-accounts/default/identity`, {
      headers: flavor,
    });
    expect(missing.status).toBe(400);
  });

  it('answers 404 for another service account or an unknown path', async () => {
    const other = await fetch(
      `${base}/instance/service-accounts/other@x.iam.gserviceaccount.com/token`,
      {headers: flavor},
    );
    expect(other.status).toBe(404);
    const unknown = await fetch(`${base}/instance/nothing-here`, {headers: flavor});
    expect(unknown.status).toBe(404);
  });

  it('counts metadata requests per endpoint, rejected ones included', async () => {
    emu.resetCounts();
    await fetch(`${base}/instance/service-accounts/default/identity?audience=a`);
    await fetch(`${base}/instance/service-accounts/default/identity?audience=a`, {headers: flavor});
    await fetch(`${base}/project/project-id`, {headers: flavor});
    await fetch(`${base}/instance`, {headers: flavor});
    expect(emu.requests.total).toBe(4);
    expect(emu.requests.byEndpoint).toMatchObject({
      'metadata.identity': 2,
      'metadata.project': 1,
      'metadata.detect': 1,
      'metadata.token': 0,
    });
  });
});
