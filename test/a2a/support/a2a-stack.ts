/**
 * The protected A2A path for tests: the Google emulator, the demo A2A agent (an @a2a-js/sdk
 * server guarded by googleIdTokenUserBuilder, trusting the front) and the Cloud Run front
 * before it, all on 127.0.0.1 with one adjustable clock, plus a service-account credential
 * the emulator issued.
 */
import {parseAuthCredential} from '../../../src/credentials/parse.js';
import type {AuthCredential} from '../../../src/credentials/types.js';
import {startCloudRunGateway} from '../../../src/emulator/cloud-run-gateway.js';
import type {
  CloudRunGateway,
  CloudRunGatewayOptions,
} from '../../../src/emulator/cloud-run-gateway.js';
import {startDemoA2aAgent} from '../../../src/emulator/demo-a2a-agent.js';
import type {DemoA2aAgent, DemoA2aAgentOptions} from '../../../src/emulator/demo-a2a-agent.js';
import {startGoogleEmulator} from '../../../src/emulator/google-emulator.js';
import type {GoogleEmulator} from '../../../src/emulator/google-emulator.js';
import type {TokenSourceOptions} from '../../../src/tokens/create-token-source.js';
import {testClock} from '../../mcp/support/cloud-run-stack.js';
import type {TestClock} from '../../mcp/support/cloud-run-stack.js';

export interface A2aStack {
  emu: GoogleEmulator;
  agent: DemoA2aAgent;
  front: CloudRunGateway;
  clock: TestClock;
  /** The service account the credential belongs to. */
  email: string;
  /** A key-file service account asking for ID tokens (audience: the URL's origin by default). */
  authCredential: AuthCredential;
  /** Routes every Google call to the emulator, without touching process.env. */
  tokenSourceOptions: TokenSourceOptions;
  close(): Promise<void>;
}

export const CALLER = 'a2a-caller@emulator-project.iam.gserviceaccount.com';

export async function startA2aStack(
  options: {
    agent?: Omit<DemoA2aAgentOptions, 'authentication'> & {
      authentication?: DemoA2aAgentOptions['authentication'];
    };
    front?: Partial<CloudRunGatewayOptions>;
  } = {},
): Promise<A2aStack> {
  const clock = testClock();
  const emu = await startGoogleEmulator({now: clock.now});
  const agent = await startDemoA2aAgent({
    ...options.agent,
    authentication: {
      jwksUrl: emu.jwksUrl,
      front: 'cloud-run',
      now: clock.now,
      ...options.agent?.authentication,
    },
  });
  const front = await startCloudRunGateway({
    upstream: agent.origin,
    jwksUrl: emu.jwksUrl,
    now: clock.now,
    ...options.front,
  });
  agent.setPublicUrl(front.url);
  const key = await emu.createServiceAccountKey(CALLER);
  return {
    emu,
    agent,
    front,
    clock,
    email: key.email,
    authCredential: parseAuthCredential(
      {
        authType: 'serviceAccount',
        serviceAccount: {serviceAccountCredential: key.json, useIdToken: true},
      },
      {requireAudience: false},
    ),
    tokenSourceOptions: {emulatorHost: emu.host, env: {}},
    async close() {
      await front.close();
      await agent.close();
      await emu.close();
    },
  };
}
