import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {PassThrough} from 'node:stream';
import {ExitCode, type CommandAuth} from '../../src/cli/common.js';
import {createLogger} from '../../src/cli/logger.js';
import {explainRefusal, watchRefusals, type RefusedTarget} from '../../src/cli/refusal.js';
import {AuthCredentialTypes} from '../../src/index.js';

/** An unsigned JWT naming `email`: the watch reads the claims only to name the principal. */
const jwt = (email: string) =>
  `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(
    JSON.stringify({email, aud: 'https://svc.example'}),
  ).toString('base64url')}.c2ln`;

/** Each path answers one kind of refusal, as a front or a verifying server would. */
const ANSWERS: Record<string, {status: number; headers: Record<string, string>}> = {
  '/ok': {status: 200, headers: {}},
  '/audience': {status: 401, headers: {'www-authenticate': 'Bearer error="invalid_token"'}},
  '/bare': {status: 401, headers: {'www-authenticate': 'Bearer'}},
  '/invoker': {status: 403, headers: {}},
  '/iap': {status: 403, headers: {'x-goog-iap-generated-response': 'true'}},
  '/keys': {
    status: 503,
    headers: {'content-type': 'application/json', 'retry-after': '5'},
  },
  '/busy': {status: 503, headers: {'content-type': 'application/json'}},
  '/verifier': {
    status: 403,
    headers: {
      'www-authenticate':
        'Bearer error="insufficient_scope", error_description="forbidden_principal"',
    },
  },
};

let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const answer = ANSWERS[req.url ?? ''] ?? {status: 404, headers: {}};
    const body =
      req.url === '/keys'
        ? '{"error":"temporarily_unavailable","error_description":"keys_unavailable"}'
        : req.url === '/busy'
          ? '{"error":"overloaded"}'
          : '';
    res.writeHead(answer.status, answer.headers).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A verbose logger whose lines are kept, to check what --verbose shows. */
function verboseLog() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return {log: createLogger({verbose: true, stream, env: {}}), lines: () => text};
}
const quiet = createLogger({stream: new PassThrough(), env: {}});

function auth(overrides: Partial<CommandAuth> = {}): CommandAuth {
  return {
    authCredential: {
      authType: AuthCredentialTypes.SERVICE_ACCOUNT,
      serviceAccount: {useDefaultCredential: true, useIdToken: true},
    },
    audience: 'https://svc.example',
    audienceSource: 'url-origin',
    header: 'authorization',
    ...overrides,
  };
}

/** Sends one request through the watch and explains what it remembered. */
async function refusalAt(
  path: string,
  options: {auth?: CommandAuth; target?: RefusedTarget; email?: string} = {},
) {
  const a = options.auth ?? auth();
  const watch = watchRefusals(a, quiet);
  await watch.fetch(`${origin}${path}`, {
    headers: {[a.header]: `Bearer ${jwt(options.email ?? 'runner@p.iam.gserviceaccount.com')}`},
  });
  const refusal = watch.last();
  return refusal
    ? explainRefusal(refusal, {
        auth: a,
        doctor: 'mcp-google-auth doctor URL',
        target: options.target ?? 'service',
        cause: undefined,
      })
    : undefined;
}

describe('watchRefusals + explainRefusal', () => {
  it('remembers only the last answer: a success clears the refusal before it', async () => {
    const watch = watchRefusals(auth(), quiet);
    await watch.fetch(`${origin}/invoker`);
    expect(watch.last()).toMatchObject({status: 403, origin});
    await watch.fetch(`${origin}/ok`);
    expect(watch.last()).toBeUndefined();
  });

  it('--verbose shows each request with the token fingerprint, never the token', async () => {
    const {log, lines} = verboseLog();
    const token = jwt('runner@p.iam.gserviceaccount.com');
    await watchRefusals(auth(), log).fetch(`${origin}/invoker`, {
      headers: {authorization: `Bearer ${token}`},
    });
    expect(lines()).toMatch(new RegExp(`GET ${origin}/invoker with authorization \\S+ -> 403`));
    expect(lines()).not.toContain(token.split('.')[1]);
  });

  it('a 401 from the front names the audience and the principal, for a service or an agent', async () => {
    const service = await refusalAt('/audience');
    expect(service?.exitCode).toBe(ExitCode.AUTH);
    expect(service?.message).toBe(
      `HTTP 401 from ${origin}: the front refused the ID token for audience https://svc.example (runner@p.iam.gserviceaccount.com); usually the audience is not the one the service expects.`,
    );
    const agent = await refusalAt('/audience', {target: 'agent'});
    expect(agent?.message).toContain('the one the agent expects');
  });

  it('a 403 from Cloud Run gives the run.invoker binding for the right kind of member', async () => {
    const sa = await refusalAt('/invoker');
    expect(sa?.hint).toContain(
      '--member=serviceAccount:runner@p.iam.gserviceaccount.com --role=roles/run.invoker',
    );
    const developer = await refusalAt('/invoker', {
      email: 'dev@example.com',
      target: 'agent',
      auth: auth({audienceSource: 'gcloud'}),
    });
    expect(developer?.message).toContain('not allowed to invoke this agent');
    expect(developer?.hint).toContain('--member=user:dev@example.com --role=roles/run.invoker');
  });

  it('a 403 that IAP generated asks for the IAP role, whatever header carried the token', async () => {
    for (const header of ['authorization', 'proxy-authorization'] as const) {
      const error = await refusalAt('/iap', {auth: auth({header})});
      expect(error?.message).toContain('IAP refused runner@p.iam.gserviceaccount.com');
      expect(error?.hint).toContain('--role=roles/iap.httpsResourceAccessor');
    }
  });

  it('a 403 to Proxy-Authorization without IAP says only IAP reads that header', async () => {
    const error = await refusalAt('/invoker', {auth: auth({header: 'proxy-authorization'})});
    expect(error?.message).toContain('only IAP reads Proxy-Authorization');
    expect(error?.hint).toContain('use --header authorization');
  });

  it('a bare Bearer challenge to a non-standard header says the server did not read it', async () => {
    const error = await refusalAt('/bare', {auth: auth({header: 'x-serverless-authorization'})});
    expect(error?.message).toContain('it does not read x-serverless-authorization');
  });

  it("a 401 to gcloud's token says which servers want their own audience", async () => {
    const error = await refusalAt('/audience', {
      email: 'dev@example.com',
      target: 'agent',
      auth: auth({audienceSource: 'gcloud'}),
    });
    expect(error?.message).toContain("refused gcloud's identity token (dev@example.com)");
    expect(error?.hint).toContain("mint for the agent's audience");
  });

  it("a verifying server's 503 keys_unavailable is its trouble, exit 1; another 503 is no refusal", async () => {
    const error = await refusalAt('/keys');
    expect(error?.exitCode).toBe(ExitCode.REMOTE);
    expect(error?.message).toContain('(it answered "keys_unavailable"');
    expect(error?.hint).toContain('Try again in 5 s (Retry-After)');
    expect(await refusalAt('/busy')).toBeUndefined();
  });

  it("a server that verifies tokens itself is explained as its own policy, not Cloud Run's", async () => {
    const error = await refusalAt('/verifier');
    expect(error?.message).toContain("this is its own policy, not Cloud Run's");
    expect(error?.message).toContain('IAM roles such as roles/run.invoker play no part here');
    expect(error?.hint).not.toContain('add-iam-policy-binding');
  });
});
