/**
 * `mcp-google-auth a2a card` and `a2a send` as child processes (the built command) against the
 * demo A2A agent behind the emulated Cloud Run front: stdout, stderr and exit codes.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startCloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import type {CloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import type {EmulatorServiceAccountKey} from '../../src/emulator/google-emulator.js';
import {startA2aStack} from '../a2a/support/a2a-stack.js';
import type {A2aStack} from '../a2a/support/a2a-stack.js';
import {
  BUILD_TIMEOUT_MS,
  closedPort,
  ensureBuilt,
  runCli,
  stderrBeyondEmulatorNotice,
} from '../cli/cli-harness.js';
import {startLoopback} from '../http/support/loopback.js';
import type {Loopback} from '../http/support/loopback.js';

const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

/** A server whose agent card (at every path) names `endpointOrigin` as the endpoint. */
function startForeignCard(endpointOrigin: string): Promise<Loopback> {
  return startLoopback((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        name: 'foreign',
        description: 'points elsewhere',
        protocolVersion: '0.3.0',
        version: '1',
        url: `${endpointOrigin}/jsonrpc`,
        capabilities: {},
        defaultInputModes: ['text'],
        defaultOutputModes: ['text'],
        skills: [],
      }),
    );
  });
}

describe.concurrent('mcp-google-auth a2a', () => {
  let stack: A2aStack;
  let picky: A2aStack;
  let strictFront: CloudRunGateway;
  let key: EmulatorServiceAccountKey;
  let env: Record<string, string>;
  let foreign: Loopback;
  let foreignForDoctor: Loopback;
  let elsewhere: Loopback;

  beforeAll(async () => {
    ensureBuilt();
    stack = await startA2aStack();
    // The same agent behind a front that lets only someone else invoke it.
    strictFront = await startCloudRunGateway({
      upstream: stack.agent.origin,
      jwksUrl: stack.emu.jwksUrl,
      invokers: ['someone-else@emulator-project.iam.gserviceaccount.com'],
    });
    // An agent whose own allow-list leaves the caller out.
    picky = await startA2aStack({
      agent: {
        authentication: {allowedEmails: ['someone-else@emulator-project.iam.gserviceaccount.com']},
      },
    });
    key = await stack.emu.createServiceAccountKey(
      'cli-a2a@emulator-project.iam.gserviceaccount.com',
    );
    // picky's emulator issues its own keys; one key file per emulator.
    env = {...stack.emu.env(), GOOGLE_APPLICATION_CREDENTIALS: key.path};
    elsewhere = await startLoopback();
    foreign = await startForeignCard(elsewhere.origin);
    foreignForDoctor = await startForeignCard(elsewhere.origin);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await strictFront?.close();
    await Promise.all([
      stack?.close(),
      picky?.close(),
      foreign?.close(),
      foreignForDoctor?.close(),
      elsewhere?.close(),
    ]);
  });

  it('card prints the name, endpoints and skills; --json prints the card', async () => {
    const [text, json] = await Promise.all([
      runCli(['a2a', 'card', stack.front.url], env),
      runCli(['a2a', 'card', stack.front.url, '--json'], env),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      [
        'mcp-google-auth demo agent 1.0.0',
        '  Answers who called it and what they said.',
        '  protocol: 0.3.0',
        `  endpoint: JSONRPC ${stack.front.url}/jsonrpc`,
        `  endpoint: HTTP+JSON ${stack.front.url}/rest`,
        '  capabilities: streaming',
        "  skill whoami-echo: Answers '<caller> said: <text>', the caller being the verified identity.",
        '',
      ].join('\n'),
    );
    expect(stderrBeyondEmulatorNotice(text.stderr)).toBe('');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      name: 'mcp-google-auth demo agent',
      url: `${stack.front.url}/jsonrpc`,
    });
  });

  it('send prints the reply, which names the service account the agent verified', async () => {
    const result = await runCli(
      ['a2a', 'send', stack.front.url, '--message', 'hello agent', '--verbose'],
      env,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${key.email} said: hello agent\n`);
    const stderr = stderrBeyondEmulatorNotice(result.stderr);
    expect(stderr).toMatch(
      new RegExp(
        `^GET ${stack.front.url}/\\.well-known/agent-card\\.json with authorization sha256:[0-9a-f]{8} -> 200$`,
        'm',
      ),
    );
    expect(stderr).toMatch(
      new RegExp(
        `^POST ${stack.front.url}/jsonrpc with authorization sha256:[0-9a-f]{8} -> 200$`,
        'm',
      ),
    );
    expect(result.stdout + result.stderr).not.toMatch(JWT);
  });

  it('send --json prints the A2A result', async () => {
    const result = await runCli(['a2a', 'send', stack.front.url, '--message', 'hi', '--json'], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      kind: 'message',
      role: 'agent',
      parts: [{kind: 'text', text: `${key.email} said: hi`}],
    });
  });

  it('a wrong audience: exit 3, the 401 explained, nothing on stdout', async () => {
    const result = await runCli(
      ['a2a', 'send', stack.front.url, '--message', 'x', '--audience', 'https://wrong.a.run.app'],
      env,
    );
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(stderrBeyondEmulatorNotice(result.stderr)).toBe(
      `error: HTTP 401 from ${stack.front.url}: the front refused the ID token for audience https://wrong.a.run.app (${key.email}); usually the audience is not the one the agent expects.\n` +
        `Run mcp-google-auth doctor ${stack.front.url}/ --audience https://wrong.a.run.app to see why (--verbose shows more).\n`,
    );
  });

  it('a caller the front does not let in, and one the agent itself refuses: exit 3 with the fix', async () => {
    const pickyKey = await picky.emu.createServiceAccountKey(
      'cli-a2a@emulator-project.iam.gserviceaccount.com',
    );
    const [front, agent] = await Promise.all([
      runCli(['a2a', 'send', strictFront.url, '--message', 'x'], env),
      runCli(['a2a', 'card', picky.front.url], {
        ...picky.emu.env(),
        GOOGLE_APPLICATION_CREDENTIALS: pickyKey.path,
      }),
    ]);
    for (const result of [front, agent]) {
      expect(result.code).toBe(3);
      expect(result.stdout).toBe('');
    }
    // The front's IAM check, and the agent's own allow-list (googleIdTokenUserBuilder), in words.
    expect(front.stderr).toMatch(
      /^error: HTTP 403 from http:\/\/127\.0\.0\.1:\d+: cli-a2a@emulator-project\.iam\.gserviceaccount\.com is not allowed to invoke this agent \(it needs roles\/run\.invoker\)\.$/m,
    );
    expect(front.stderr).toMatch(/--role=roles\/run\.invoker/);
    expect(agent.stderr).toMatch(
      /^error: HTTP 403 from http:\/\/127\.0\.0\.1:\d+: The server at .* verifies Google ID tokens itself \(it answered "forbidden_principal"/m,
    );
    expect(agent.stderr).toContain(
      "the server's policy does not admit cli-a2a@emulator-project.iam.gserviceaccount.com",
    );
    expect(picky.agent.stats.messages).toBe(0);
  });

  it('no agent card, an unreachable agent, and a card pointing at another origin: exit 1', async () => {
    const port = await closedPort();
    const [missing, unreachable, pointing] = await Promise.all([
      runCli(['a2a', 'card', `${stack.front.url}/nothing/`], env),
      runCli(['a2a', 'send', `http://127.0.0.1:${port}`, '--message', 'x'], env),
      runCli(['a2a', 'send', foreign.origin, '--message', 'secret plans'], env),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /could not be fetched: HTTP 404: there is no agent card at this path/,
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(
      new RegExp(`error: Could not reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\\.`),
    );
    expect(pointing.code).toBe(1);
    expect(pointing.stderr).toMatch(
      new RegExp(
        `error: The agent card names its endpoint at ${elsewhere.origin}, not at ${foreign.origin}`,
      ),
    );
    // The card came from the agent's origin with the token; the other origin got nothing.
    expect(foreign.seen[0]?.headers.authorization).toMatch(/^Bearer /);
    expect(elsewhere.seen).toEqual([]);
  });

  it('doctor recognises the A2A agent behind the front, and a card that points at another origin', async () => {
    const [agent, json, pointing] = await Promise.all([
      runCli(['doctor', stack.front.url], env),
      runCli(['doctor', `${stack.front.url}/jsonrpc`, '--json'], env),
      runCli(['doctor', foreignForDoctor.origin], env),
    ]);
    expect(agent.code).toBe(0);
    expect(agent.stdout).toMatch(/^\[skip\] MCP: skipped \(an A2A agent answers here\)$/m);
    expect(agent.stdout).toContain(
      `[ok] A2A: agent card of "mcp-google-auth demo agent" (protocol 0.3.0) at ${stack.front.url}/.well-known/agent-card.json`,
    );
    expect(agent.stdout).toMatch(/^\[ok\] Everything works: .* and the A2A agent answers\./m);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      steps: Array<{id: string; status: string; data?: Record<string, unknown>}>;
      findings: Array<{code: string}>;
    };
    expect(report.steps.find((step) => step.id === 'a2a')).toMatchObject({
      status: 'pass',
      data: {
        cardUrl: `${stack.front.url}/.well-known/agent-card.json`,
        endpoints: [`JSONRPC ${stack.front.url}/jsonrpc`, `HTTP+JSON ${stack.front.url}/rest`],
        foreignOrigins: [],
      },
    });
    expect(report.findings[0]?.code).toBe('ok');
    expect(pointing.code).toBe(1);
    expect(pointing.stdout).toMatch(/^\[FAIL\] A2A: agent card of "foreign"/m);
    expect(pointing.stdout).toContain(
      `The A2A agent's card names endpoints on ${elsewhere.origin}`,
    );
    expect(agent.stdout + agent.stderr + json.stdout + pointing.stdout).not.toMatch(JWT);
  });

  it('usage errors: exit 2', async () => {
    const [noMessage, badUrl, empty] = await Promise.all([
      runCli(['a2a', 'send', stack.front.url], env),
      runCli(['a2a', 'card', 'not a url'], env),
      runCli(['a2a', 'send', stack.front.url, '--message', ' '], env),
    ]);
    expect(noMessage.code).toBe(2);
    expect(noMessage.stderr).toMatch(/required option '--message <text>' not specified/);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/is not a URL/);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--message is empty/);
  });
});
