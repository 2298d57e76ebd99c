/**
 * The probing half of `doctor`: the credential, the audience, an ID token and its claims,
 * what the URL answers without a token, with the ID token and (only where that is safe) with
 * an access token. {@link diagnose} judges what it saw; `report.ts` shows it.
 */
import type {ServiceAccount} from '../../credentials/types.js';
import {createTokenSource} from '../../tokens/create-token-source.js';
import {tokenFingerprint} from '../../tokens/fingerprint.js';
import {decodeJwtPayload} from '../../tokens/jwt-claims.js';
import {defaultTokenCache} from '../../tokens/token-cache.js';
import type {CredentialDescription, Token, TokenSource} from '../../tokens/token-source.js';
import {ExitCode} from '../exit-codes.js';
import {humanExpiry} from '../format.js';
import type {Logger} from '../logger.js';
import {describeError} from '../run-action.js';
import {recogniseA2aAgent, reportA2aAgent, type A2aRecognition} from '../commands/a2a-doctor.js';
import {accessTokenProbeDecision, DOCTOR_ACCESS_TOKEN_SCOPES} from './access-token-policy.js';
import {audienceReason, audienceRemarks} from './audience-checks.js';
import {doctorCommandLine} from './command-line.js';
import {cannotMint, diagnose, noCredential, withProgress, type DoctorHeader} from './diagnose.js';
import {probe, type ProbeResult} from './probe.js';
import type {DoctorFinding, DoctorReport, DoctorStep} from './report.js';
import {
  anonymousStep,
  idProbeStep,
  kindWords,
  probeData,
  skipped,
  statusWords,
} from './step-words.js';

/** What {@link runDoctor} checks, besides the URL and the credential. */
export interface DoctorContext {
  /** The ID token audience to check. */
  audience: string;
  /** Where the audience came from: `--audience`, or the URL's origin. */
  audienceSource: 'option' | 'url-origin' | undefined;
  /** The header the token goes in. */
  header: DoctorHeader;
  /** Progress and `--verbose` lines. */
  log: Logger;
  /**
   * Whether the comparison access token may also go to a target beyond this machine (over
   * https only): `--unsafe-send-access-token`. Default is false: only to this machine.
   */
  sendAccessTokenToTarget?: boolean;
  /**
   * The flags doctor was run with (`credentialFlags`), for the command line at the top of the
   * report. Default is none.
   */
  credentialFlags?: readonly string[];
}

/** Runs every step against `target` and returns the report (never throws for a failed step). */
export async function runDoctor(
  target: URL,
  serviceAccount: ServiceAccount,
  ctx: DoctorContext,
): Promise<DoctorReport> {
  const {audience, header, log} = ctx;
  const steps: DoctorStep[] = [];
  const findings: DoctorFinding[] = [];
  const cache = defaultTokenCache();
  const command = doctorCommandLine(target, ctx.credentialFlags ?? []);
  const finish = (): DoctorReport => report(target, command, steps, findings);

  // 1. The credential.
  let source: TokenSource | undefined;
  let description: CredentialDescription | undefined;
  {
    const progress = log.progress('Looking for credentials');
    try {
      const created: TokenSource = createTokenSource(serviceAccount);
      description = await created.describe();
      source = created;
      progress.done(description.kind !== 'unknown');
      if (description.kind === 'unknown') {
        // Nothing usable was found: the note says where ADC looked.
        source = undefined;
        steps.push({
          id: 'credential',
          title: 'Credential',
          status: 'fail',
          summary: `no usable Google credential (${description.origin})`,
          details: description.note ? [description.note] : [],
          exitCode: ExitCode.USAGE,
          data: {...description},
        });
        findings.push(noCredential());
      } else {
        const who = description.principal ? ` for ${description.principal}` : '';
        steps.push({
          id: 'credential',
          title: 'Credential',
          status: 'pass',
          summary: `${kindWords(description.kind)}${who}, found in ${description.origin}`,
          details: [
            ...(description.projectId ? [`project: ${description.projectId}`] : []),
            ...(serviceAccount.impersonateServiceAccount
              ? [`impersonating ${serviceAccount.impersonateServiceAccount} (--impersonate)`]
              : []),
          ],
          data: {...description},
        });
      }
    } catch (error) {
      progress.done(false);
      const failure = describeError(error);
      source = undefined;
      steps.push({
        id: 'credential',
        title: 'Credential',
        status: 'fail',
        summary: 'no usable Google credential',
        details: [failure.message, ...(failure.hint ? [failure.hint] : [])],
        exitCode: failure.exitCode === ExitCode.AUTH ? ExitCode.AUTH : ExitCode.USAGE,
      });
      findings.push(noCredential());
    }
  }

  // 2. The audience.
  const remarks = audienceRemarks(audience, target);
  steps.push({
    id: 'audience',
    title: 'Audience',
    status: remarks.length > 0 ? 'warn' : 'pass',
    summary: `${audience}, ${audienceReason(ctx.audienceSource)}`,
    details: remarks.map((r) => r.message),
    data: {audience, source: ctx.audienceSource ?? 'url-origin', remarks},
  });

  // 3. An ID token for it.
  let idToken: Token | undefined;
  if (!source || !description) {
    steps.push(skipped('id_token', 'ID token', 'no credential'));
  } else if (!description.canMintIdTokens) {
    steps.push({
      id: 'id_token',
      title: 'ID token',
      status: 'fail',
      summary: `${kindWords(description.kind)} cannot mint an ID token for ${audience}`,
      details: description.note ? [description.note] : [],
      exitCode: ExitCode.USAGE,
    });
    findings.push(cannotMint(description));
  } else {
    const progress = log.progress(`Minting an ID token for ${audience}`);
    try {
      idToken = await cache.get(source, {kind: 'id', audience});
      progress.done(true);
      steps.push({
        id: 'id_token',
        title: 'ID token',
        status: 'pass',
        summary: `minted for audience ${audience}`,
        details: log.verbose ? [`fingerprint ${tokenFingerprint(idToken.value)}`] : [],
        data: {fingerprint: tokenFingerprint(idToken.value)},
      });
    } catch (error) {
      progress.done(false);
      const failure = describeError(error, {doctor: command});
      steps.push({
        id: 'id_token',
        title: 'ID token',
        status: 'fail',
        summary: `could not mint an ID token for ${audience}`,
        details: [failure.message, ...(failure.hint ? [failure.hint] : [])],
        exitCode: failure.exitCode,
        data: {code: (error as {code?: unknown}).code, cause: failure.cause},
      });
      if ((error as {code?: unknown}).code === 'id_token_unsupported')
        findings.push(cannotMint(description));
      else
        findings.push({
          code: 'token_request_failed',
          severity: 'error',
          message: `Google did not issue an ID token: ${failure.message}`,
        });
    }
  }

  // 4. Its claims.
  const claims = idToken ? decodeJwtPayload(idToken.value) : undefined;
  if (!idToken) {
    steps.push(skipped('claims', 'Token claims', 'no ID token'));
  } else if (!claims) {
    steps.push({
      id: 'claims',
      title: 'Token claims',
      status: 'fail',
      summary: 'the ID token is not a JWT',
      details: [],
      exitCode: ExitCode.AUTH,
    });
  } else {
    steps.push(claimsStep(claims, audience));
  }

  // 5. The URL without a token.
  const anonymous = await withProgress(log, `Probing ${target.origin} without a token`, () =>
    probe(target),
  );
  if (!anonymous.reachable) {
    steps.push({
      id: 'probe_anonymous',
      title: 'Without a token',
      status: 'fail',
      summary: `${target.origin} is unreachable (${anonymous.error})`,
      details: [],
      exitCode: ExitCode.REMOTE,
      data: {reachable: false, error: anonymous.error},
    });
    findings.push({
      code: 'unreachable',
      severity: 'error',
      message: `Nothing answered at ${target.origin} (${anonymous.error}). Check the URL (scheme, host, port) and that the service is deployed and running.`,
    });
    steps.push(skipped('probe_id_token', 'With the ID token', 'unreachable'));
    steps.push(skipped('probe_access_token', 'With an access token', 'unreachable'));
    steps.push(skipped('mcp', 'MCP', 'unreachable'));
    return finish();
  }
  steps.push(anonymousStep(anonymous));

  // 6. With the ID token.
  let withId: ProbeResult | undefined;
  if (idToken) {
    const token = idToken.value;
    withId = await withProgress(log, `Probing with the ID token in ${header}`, () =>
      probe(target, {token, header}),
    );
    steps.push(idProbeStep(withId, header, claims));
  } else {
    steps.push(skipped('probe_id_token', 'With the ID token', 'no ID token'));
  }

  // 7. With an access token, to tell the two apart: only where that token cannot be abused.
  let withAccess: ProbeResult | undefined;
  const decision = accessTokenProbeDecision(target, {
    unsafeSendToTarget: ctx.sendAccessTokenToTarget === true,
  });
  if (!source) {
    steps.push(skipped('probe_access_token', 'With an access token', 'no credential'));
  } else if (!decision.send) {
    steps.push(skipped('probe_access_token', 'With an access token', decision.reason));
  } else {
    try {
      const access = await cache.get(source, {kind: 'access', scopes: DOCTOR_ACCESS_TOKEN_SCOPES});
      withAccess = await withProgress(log, 'Probing with an access token', () =>
        probe(target, {token: access.value, header}),
      );
      steps.push({
        id: 'probe_access_token',
        title: 'With an access token',
        status: 'info',
        summary: withAccess.reachable
          ? `${statusWords(withAccess)} (scopes openid, userinfo.email)`
          : `unreachable (${withAccess.error})`,
        details: [],
        data: {...probeData(withAccess), scopes: [...DOCTOR_ACCESS_TOKEN_SCOPES]},
      });
    } catch (error) {
      steps.push({
        id: 'probe_access_token',
        title: 'With an access token',
        status: 'skip',
        summary: `no access token either (${describeError(error).message})`,
        details: [],
      });
    }
  }

  // 8. Does an MCP server answer?
  steps.push(mcpStep(withId, anonymous));

  // 9. If not, an A2A agent (its card, read with the same token)?
  let a2a: A2aRecognition | undefined;
  if (steps.at(-1)?.status !== 'pass') {
    a2a = await withProgress(log, 'Looking for an A2A agent card', () =>
      recogniseA2aAgent(target, {header, ...(idToken ? {token: idToken.value} : {})}),
    );
    if (a2a) {
      reportA2aAgent(a2a, target, steps, findings, withId?.reachable ? withId.status : undefined);
    }
  }

  // Diagnosis of the answers.
  await diagnose({
    a2a,
    target,
    audience,
    header,
    source,
    description,
    anonymous,
    withId,
    withAccess,
    claims,
    findings,
    steps,
    cache,
    log,
  });
  return finish();
}

function claimsStep(claims: Record<string, unknown>, audience: string): DoctorStep {
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  const audOk = claims.aud === audience;
  const email = typeof claims.email === 'string' ? claims.email : undefined;
  const details = [
    `aud: ${JSON.stringify(claims.aud)}${audOk ? '' : ` (asked for ${JSON.stringify(audience)})`}`,
    `email: ${email ?? '(none)'}`,
    `expires: ${exp ? humanExpiry(exp) : '(no exp)'}`,
  ];
  if (typeof claims.iss === 'string') details.push(`iss: ${claims.iss}`);
  return {
    id: 'claims',
    title: 'Token claims',
    status: audOk && email ? 'pass' : 'fail',
    summary: audOk
      ? email
        ? `aud and email present`
        : 'no email claim (the front cannot check roles/run.invoker)'
      : `aud is ${JSON.stringify(claims.aud)}, not the audience asked for`,
    details,
    data: {
      aud: claims.aud,
      email: claims.email,
      email_verified: claims.email_verified,
      iss: claims.iss,
      azp: claims.azp,
      iat: claims.iat,
      exp: claims.exp,
    },
    ...(audOk && email ? {} : {exitCode: ExitCode.USAGE}),
  };
}

function mcpStep(
  withId: ProbeResult | undefined,
  anonymous: ProbeResult & {reachable: true},
): DoctorStep {
  const answered =
    withId?.reachable && withId.status < 300
      ? withId
      : anonymous.status < 300
        ? anonymous
        : undefined;
  if (!answered || !answered.reachable) {
    return skipped('mcp', 'MCP', 'the service did not let the probe through');
  }
  if (answered.mcp) {
    return {
      id: 'mcp',
      title: 'MCP',
      status: 'pass',
      summary: `initialize answered by ${answered.mcp.serverName}${answered.mcp.serverVersion ? ` ${answered.mcp.serverVersion}` : ''} (protocol ${answered.mcp.protocolVersion})`,
      details: [],
      data: answered.mcp,
    };
  }
  return {
    id: 'mcp',
    title: 'MCP',
    status: 'fail',
    summary: `HTTP ${answered.status} but not an MCP initialize result (content-type ${answered.contentType || 'none'})`,
    details: answered.rpcError
      ? [`JSON-RPC error ${answered.rpcError.code}: ${answered.rpcError.message}`]
      : [],
    exitCode: ExitCode.REMOTE,
  };
}

function report(
  target: URL,
  command: string,
  steps: DoctorStep[],
  findings: DoctorFinding[],
): DoctorReport {
  const failed = steps.find((s) => s.status === 'fail');
  const exitCode = failed?.exitCode ?? (failed ? ExitCode.REMOTE : ExitCode.OK);
  if (failed && !findings.some((f) => f.severity === 'error')) {
    findings.push({
      code: 'step_failed',
      severity: 'error',
      message: `${failed.title}: ${failed.summary}.`,
    });
  }
  return {url: target.href, command, ok: !failed, exitCode, steps, findings};
}
