/**
 * Every kind of Google credential the token layer supports, each reaching the demo MCP server
 * through the Cloud Run front with an ID token minted by the emulator. The environment is
 * this file's own (vitest runs each file in its own process).
 */
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {CredentialExchangeError} from '../../src/credentials/errors.js';
import {parseAuthCredential} from '../../src/credentials/parse.js';
import type {ServiceAccount} from '../../src/credentials/types.js';
import {McpConnectionError} from '../../src/mcp/mcp-errors.js';
import {McpToolset} from '../../src/mcp/mcp-toolset.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {resultText, startCloudRunStack, useEmulatorEnv} from '../mcp/support/cloud-run-stack.js';
import type {CloudRunStack} from '../mcp/support/cloud-run-stack.js';

let stack: CloudRunStack;
let restoreEnv: () => void;
const toolsets: McpToolset[] = [];

beforeAll(async () => {
  stack = await startCloudRunStack();
  restoreEnv = useEmulatorEnv(stack.emulator);
});
afterAll(async () => {
  restoreEnv();
  await stack.close();
});
beforeEach(() => {
  stack.emulator.resetCounts();
});
afterEach(async () => {
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  await Promise.all(toolsets.splice(0).map((t) => t.close().catch(() => undefined)));
});

/** `whoami` through the front with this service-account setting, and a fresh cache. */
async function whoami(serviceAccount: ServiceAccount): Promise<string> {
  const toolset = new McpToolset({
    connectionParams: {type: 'StreamableHTTPConnectionParams', url: stack.mcpUrl},
    authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
    authCredential: {
      authType: 'serviceAccount',
      serviceAccount: {useIdToken: true, ...serviceAccount},
    },
    cache: new TokenCache(),
  });
  toolsets.push(toolset);
  const tool = (await toolset.getTools()).find((candidate) => candidate.name === 'whoami')!;
  return resultText(await tool.runAsync());
}

describe('credential kinds', () => {
  it('an explicit service-account key', async () => {
    const key = await stack.emulator.createServiceAccountKey();
    const credential = parseAuthCredential(
      {
        authType: 'serviceAccount',
        serviceAccount: {serviceAccountCredential: key.json, useIdToken: true},
      },
      {requireAudience: false},
    );
    expect(await whoami(credential.serviceAccount!)).toBe(key.email);
    expect(stack.emulator.requests.byEndpoint.token).toBe(1);
  });

  it('Application Default Credentials: a key file in GOOGLE_APPLICATION_CREDENTIALS', async () => {
    const key = await stack.emulator.createServiceAccountKey();
    process.env.GOOGLE_APPLICATION_CREDENTIALS = key.path;
    expect(await whoami({useDefaultCredential: true})).toBe(key.email);
    expect(stack.emulator.requests.byEndpoint.token).toBe(1);
  });

  it('Application Default Credentials: the metadata server', async () => {
    expect(await whoami({useDefaultCredential: true})).toBe(stack.emulator.metadataServiceAccount);
    expect(stack.emulator.requests.byEndpoint['metadata.identity']).toBe(1);
  });

  it('impersonation of another service account over ADC (IAM Credentials generateIdToken)', async () => {
    const key = await stack.emulator.createServiceAccountKey();
    process.env.GOOGLE_APPLICATION_CREDENTIALS = key.path;
    const target = 'mcp-invoker@emulator-project.iam.gserviceaccount.com';
    expect(await whoami({useDefaultCredential: true, impersonateServiceAccount: target})).toBe(
      target,
    );
    expect(stack.emulator.requests.byEndpoint['iam.generateIdToken']).toBe(1);
  });

  it('impersonation over the metadata server', async () => {
    const target = 'from-metadata@emulator-project.iam.gserviceaccount.com';
    expect(await whoami({useDefaultCredential: true, impersonateServiceAccount: target})).toBe(
      target,
    );
    expect(stack.emulator.requests.byEndpoint['iam.generateIdToken']).toBe(1);
  });

  it('an impersonated_service_account ADC file (gcloud --impersonate-service-account)', async () => {
    const target = 'impersonated@emulator-project.iam.gserviceaccount.com';
    const file = await stack.emulator.createImpersonatedServiceAccountFile({targetEmail: target});
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file.path;
    expect(await whoami({useDefaultCredential: true})).toBe(target);
  });

  it('an external_account ADC file (workload identity federation)', async () => {
    const target = 'workload@emulator-project.iam.gserviceaccount.com';
    const file = await stack.emulator.createExternalAccountFile({serviceAccountEmail: target});
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file.path;
    expect(await whoami({useDefaultCredential: true})).toBe(target);
    expect(stack.emulator.requests.byEndpoint.sts).toBeGreaterThanOrEqual(1);
  });
});

describe('credentials that cannot reach Cloud Run', () => {
  it('user credentials (authorized_user) say why and point at impersonation', async () => {
    const user = await stack.emulator.createAuthorizedUserFile();
    process.env.GOOGLE_APPLICATION_CREDENTIALS = user.path;
    const before = stack.gateway.stats.requests;
    const error = await whoami({useDefaultCredential: true}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpConnectionError);
    const connectionError = error as McpConnectionError;
    expect(connectionError.status).toBeUndefined();
    expect(connectionError.code).toBe('mcp_error');
    expect(connectionError.cause).toBeInstanceOf(CredentialExchangeError);
    expect((connectionError.cause as CredentialExchangeError).code).toBe('id_token_unsupported');
    expect(connectionError.message).toMatch(/impersonat/i);
    expect(stack.gateway.stats.requests).toBe(before);
  });

  it('a caller IAM does not allow to impersonate gets the token layer error, and nothing reaches the front', async () => {
    const key = await stack.emulator.createServiceAccountKey();
    process.env.GOOGLE_APPLICATION_CREDENTIALS = key.path;
    const target = 'locked@emulator-project.iam.gserviceaccount.com';
    stack.emulator.denyImpersonation(key.email, target);
    const before = stack.gateway.stats.requests;
    const error = await whoami({
      useDefaultCredential: true,
      impersonateServiceAccount: target,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpConnectionError);
    expect((error as McpConnectionError).cause).toBeInstanceOf(CredentialExchangeError);
    expect(stack.gateway.stats.requests).toBe(before);
  });
});
