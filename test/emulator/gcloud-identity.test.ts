/**
 * The emulator's model of gcloud's developer identity: the refresh-token grant of gcloud's
 * OAuth client answers with an ID token for that client, and the Cloud Run front takes it from
 * an invoker while it answers a user's ADC ID token with 403, as Cloud Run does.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {
  ADC_OAUTH_CLIENT_ID,
  GCLOUD_OAUTH_CLIENT_ID,
} from '../../src/credentials/gcloud-identity.js';
import {
  startCloudRunGateway,
  startDemoMcpServer,
  startGoogleEmulator,
  type CloudRunGateway,
  type DemoMcpServer,
  type GoogleEmulator,
} from '../../src/emulator/index.js';
import {decodeJwtPayload} from '../../src/tokens/jwt-claims.js';
import {postForm} from './google/helpers.js';

const INVOKER = 'dev@example.com';
const STRANGER = 'stranger@example.com';

let emulator: GoogleEmulator;
let demo: DemoMcpServer;
let front: CloudRunGateway;

beforeAll(async () => {
  emulator = await startGoogleEmulator();
  demo = await startDemoMcpServer();
  front = await startCloudRunGateway({
    upstream: demo.origin,
    jwksUrl: emulator.jwksUrl,
    invokers: [`user:${INVOKER}`],
  });
});

afterAll(async () => {
  await front.close();
  await demo.close();
  await emulator.close();
});

/** What the front answers a GET of /mcp carrying `token`. */
async function frontStatus(token: string, gateway = front): Promise<number> {
  const response = await fetch(`${gateway.url}/mcp`, {
    headers: {authorization: `Bearer ${token}`, accept: 'text/event-stream'},
  });
  await response.body?.cancel();
  return response.status;
}

describe("the refresh-token grant of gcloud's client", () => {
  it("answers with an ID token whose aud and azp are gcloud's client id", async () => {
    const user = await emulator.createGcloudUser({email: INVOKER});
    expect(user.clientId).toBe(GCLOUD_OAUTH_CLIENT_ID);
    const {status, body} = await postForm(`${emulator.url}/token`, {
      grant_type: 'refresh_token',
      client_id: user.clientId,
      client_secret: user.clientSecret,
      refresh_token: user.refreshToken,
    });
    expect(status).toBe(200);
    expect(decodeJwtPayload(String(body.id_token))).toMatchObject({
      aud: GCLOUD_OAUTH_CLIENT_ID,
      azp: GCLOUD_OAUTH_CLIENT_ID,
      email: INVOKER,
      email_verified: true,
    });
  });

  it('answers a revoked login with invalid_grant, while the client stays known', async () => {
    const user = await emulator.createGcloudUser();
    expect(emulator.revokeRefreshToken(user.refreshToken)).toBe(true);
    const {status, body} = await postForm(`${emulator.url}/token`, {
      grant_type: 'refresh_token',
      client_id: user.clientId,
      client_secret: user.clientSecret,
      refresh_token: user.refreshToken,
    });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_grant');
  });

  it("gives ADC's user login the ADC client id, as `gcloud auth application-default login` does", async () => {
    const user = await emulator.createAuthorizedUserFile();
    expect(user.clientId).toBe(ADC_OAUTH_CLIENT_ID);
  });
});

describe('the Cloud Run front', () => {
  it("accepts gcloud's identity token from a user listed as invoker", async () => {
    const token = await emulator.mintIdToken({audience: GCLOUD_OAUTH_CLIENT_ID, email: INVOKER});
    front.resetStats();
    expect(await frontStatus(token)).not.toBe(401);
    expect(front.stats.forwarded).toBe(1);
  });

  it("refuses gcloud's identity token from a user who is not an invoker (403)", async () => {
    const token = await emulator.mintIdToken({audience: GCLOUD_OAUTH_CLIENT_ID, email: STRANGER});
    expect(await frontStatus(token)).toBe(403);
  });

  it("refuses a user's ADC ID token with 403, even from an invoker", async () => {
    const token = await emulator.mintIdToken({audience: ADC_OAUTH_CLIENT_ID, email: INVOKER});
    front.resetStats();
    expect(await frontStatus(token)).toBe(403);
    expect(front.stats.forbidden).toBe(1);
  });

  it('still answers any other audience with 401', async () => {
    const token = await emulator.mintIdToken({
      audience: '99999-other.apps.googleusercontent.com',
      email: INVOKER,
    });
    expect(await frontStatus(token)).toBe(401);
  });

  it("in IAP mode does not take gcloud's client id (IAP wants its own)", async () => {
    const iap = await startCloudRunGateway({
      upstream: demo.origin,
      jwksUrl: emulator.jwksUrl,
      mode: 'iap',
      audiences: ['1234-iap.apps.googleusercontent.com'],
    });
    try {
      const token = await emulator.mintIdToken({audience: GCLOUD_OAUTH_CLIENT_ID, email: INVOKER});
      expect(await frontStatus(token, iap)).toBe(401);
    } finally {
      await iap.close();
    }
  });
});
