/**
 * `mcp-google-auth doctor <url>`: a step-by-step report of why a call to a service behind
 * Google's front works or not: the credential, the audience, the token's claims, what the
 * URL answers without a token, with the ID token and with an access token, and a diagnosis.
 */
import type {Command} from 'commander';
import type {ServiceAccount} from '../../credentials/types.js';
import {DEFAULT_SCOPES} from '../../exchange/service-account-exchanger.js';
import {createTokenSource} from '../../tokens/create-token-source.js';
import {tokenFingerprint} from '../../tokens/fingerprint.js';
import {decodeJwtPayload} from '../../tokens/jwt-claims.js';
import {defaultTokenCache} from '../../tokens/token-cache.js';
import type {CredentialDescription, Token, TokenSource} from '../../tokens/token-source.js';
import {
  addCommonOptions,
  authFromOptions,
  createLogger,
  describeError,
  ExitCode,
  parseTargetUrl,
  runAction,
  type CommonOptions,
  type ExitCodeValue,
  type Logger,
} from '../common.js';
import {
  audienceReason,
  audienceRemarks,
  isOAuthClientId,
  mayProbeWithAccessToken,
} from '../doctor/audience-checks.js';
import {probe, type ProbeResult} from '../doctor/probe.js';
import {
  renderReport,
  type DoctorFinding,
  type DoctorReport,
  type DoctorStep,
} from '../doctor/report.js';
import {humanExpiry, marksFor, printJson, printLines} from '../format.js';
import {a2aForeignFinding, a2aStep, recogniseA2aAgent, type A2aRecognition} from './a2a-doctor.js';

/** Registers `doctor` on the program. */
export function registerDoctorCommand(program: Command): void {
  const cmd = program
    .command('doctor')
    .description(
      'Explain step by step whether the credential can call the URL: credential, audience, token claims, probes, diagnosis',
    )
    .argument('<url>', 'the MCP endpoint, e.g. https://svc-abc.a.run.app/mcp');
  addCommonOptions(cmd).action(runAction(doctorAction));
}

async function doctorAction(url: string, opts: CommonOptions): Promise<number> {
  const log = createLogger({verbose: opts.verbose === true});
  const target = parseTargetUrl(url);
  const auth = authFromOptions(opts, url);
  const report = await runDoctor(target, auth.authCredential.serviceAccount as ServiceAccount, {
    audience: auth.audience ?? target.origin,
    audienceSource: auth.audienceSource,
    header: auth.header,
    log,
  });
  if (opts.json) printJson(report);
  else printLines(...renderReport(report, marksFor(process.stdout)));
  return report.exitCode;
}

interface DoctorContext {
  audience: string;
  audienceSource: 'option' | 'url-origin' | undefined;
  header: 'authorization' | 'x-serverless-authorization' | 'proxy-authorization';
  log: Logger;
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
      const report = describeError(error);
      source = undefined;
      steps.push({
        id: 'credential',
        title: 'Credential',
        status: 'fail',
        summary: 'no usable Google credential',
        details: [report.message, ...(report.hint ? [report.hint] : [])],
        exitCode: report.exitCode === ExitCode.AUTH ? ExitCode.AUTH : ExitCode.USAGE,
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
      const report = describeError(error);
      steps.push({
        id: 'id_token',
        title: 'ID token',
        status: 'fail',
        summary: `could not mint an ID token for ${audience}`,
        details: [report.message, ...(report.hint ? [report.hint] : [])],
        exitCode: report.exitCode,
        data: {code: (error as {code?: unknown}).code},
      });
      if ((error as {code?: unknown}).code === 'id_token_unsupported')
        findings.push(cannotMint(description));
      else
        findings.push({
          code: 'token_request_failed',
          severity: 'error',
          message: `Google did not issue an ID token: ${report.message}`,
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
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
    const audOk = claims.aud === audience;
    const email = typeof claims.email === 'string' ? claims.email : undefined;
    const details = [
      `aud: ${JSON.stringify(claims.aud)}${audOk ? '' : ` (asked for ${JSON.stringify(audience)})`}`,
      `email: ${email ?? '(none)'}`,
      `expires: ${exp ? humanExpiry(exp) : '(no exp)'}`,
    ];
    if (typeof claims.iss === 'string') details.push(`iss: ${claims.iss}`);
    steps.push({
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
    });
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
    return finish(target, steps, findings);
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

  // 7. With an access token, to tell the two apart.
  let withAccess: ProbeResult | undefined;
  if (!source) {
    steps.push(skipped('probe_access_token', 'With an access token', 'no credential'));
  } else if (!mayProbeWithAccessToken(target)) {
    steps.push(
      skipped(
        'probe_access_token',
        'With an access token',
        `not sent to ${target.hostname}: an access token is good for every Google API, so doctor sends one only to *.run.app, *.cloudfunctions.net and this machine`,
      ),
    );
  } else {
    try {
      const access = await cache.get(source, {kind: 'access', scopes: DEFAULT_SCOPES});
      withAccess = await withProgress(log, 'Probing with an access token', () =>
        probe(target, {token: access.value, header}),
      );
      steps.push({
        id: 'probe_access_token',
        title: 'With an access token',
        status: 'info',
        summary: withAccess.reachable
          ? statusWords(withAccess)
          : `unreachable (${withAccess.error})`,
        details: [],
        data: probeData(withAccess),
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
  const answered =
    withId?.reachable && withId.status < 300
      ? withId
      : anonymous.status < 300
        ? anonymous
        : undefined;
  if (!answered || !answered.reachable) {
    steps.push(skipped('mcp', 'MCP', 'the service did not let the probe through'));
  } else if (answered.mcp) {
    steps.push({
      id: 'mcp',
      title: 'MCP',
      status: 'pass',
      summary: `initialize answered by ${answered.mcp.serverName}${answered.mcp.serverVersion ? ` ${answered.mcp.serverVersion}` : ''} (protocol ${answered.mcp.protocolVersion})`,
      details: [],
      data: answered.mcp,
    });
  } else {
    steps.push({
      id: 'mcp',
      title: 'MCP',
      status: 'fail',
      summary: `HTTP ${answered.status} but not an MCP initialize result (content-type ${answered.contentType || 'none'})`,
      details: answered.rpcError
        ? [`JSON-RPC error ${answered.rpcError.code}: ${answered.rpcError.message}`]
        : [],
      exitCode: ExitCode.REMOTE,
    });
  }

  // 9. Not MCP: an A2A agent (its card, read with the same token)?
  let a2a: A2aRecognition | undefined;
  const mcp = steps.find((s) => s.id === 'mcp');
  if (mcp && mcp.status !== 'pass') {
    a2a = await withProgress(log, 'Looking for an A2A agent card', () =>
      recogniseA2aAgent(target, {header, ...(idToken ? {token: idToken.value} : {})}),
    );
    if (a2a) {
      Object.assign(mcp, {status: 'skip', summary: 'skipped (an A2A agent answers here)'});
      delete mcp.exitCode;
      steps.push(a2aStep(a2a));
      // The front let the token through; the 4xx was A2A's answer to an MCP request.
      const idStep = steps.find((s) => s.id === 'probe_id_token');
      if (idStep && withId?.reachable && a2aLetThrough(withId.status)) {
        Object.assign(idStep, {status: 'pass'});
        delete idStep.exitCode;
        idStep.details.push('let through: the service answers A2A, not an MCP initialize request');
      }
      if (a2a.foreignOrigins.length > 0) findings.push(a2aForeignFinding(a2a, target));
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
  return finish(target, steps, findings);
}

interface DiagnoseInput {
  /** The A2A agent found at the URL, when it is one. */
  a2a: A2aRecognition | undefined;
  target: URL;
  audience: string;
  header: DoctorContext['header'];
  source: TokenSource | undefined;
  description: CredentialDescription | undefined;
  anonymous: ProbeResult & {reachable: true};
  withId: ProbeResult | undefined;
  withAccess: ProbeResult | undefined;
  claims: Record<string, unknown> | undefined;
  findings: DoctorFinding[];
  steps: DoctorStep[];
  cache: ReturnType<typeof defaultTokenCache>;
  log: Logger;
}

async function diagnose(input: DiagnoseInput): Promise<void> {
  const {target, audience, header, source, anonymous, withId, withAccess, claims, findings, steps} =
    input;
  const email = typeof claims?.email === 'string' ? claims.email : undefined;
  const iap = anonymous.iap || (withId?.reachable === true && withId.iap);

  if (anonymous.status >= 200 && anonymous.status < 300) {
    findings.push({
      code: 'no_auth_required',
      severity: 'info',
      message: `${target.origin} answers without a token: the service allows unauthenticated invocations (allUsers has roles/run.invoker), so no token is needed, and any token sent is passed through unchecked.`,
    });
  }

  if (withId?.reachable) {
    const status = withId.status;
    if (status >= 200 && status < 300) {
      if (withAccess?.reachable && withAccess.status === 401) {
        findings.push({
          code: 'access_token_refused',
          severity: 'info',
          message: `An access token for the same principal gets 401 where the ID token passes: if your client gets 401, it is sending an access token (ADK's default without useIdToken). Set serviceAccount.useIdToken: true (the audience defaults to the URL's origin).`,
        });
      }
    } else if (status === 401) {
      const wrong = await tryOtherAudiences(input);
      if (wrong) {
        findings.push(wrong);
      } else if (iap && !isOAuthClientId(audience)) {
        findings.push({
          code: 'iap_audience',
          severity: 'error',
          message: `This service is behind IAP, which wants an ID token whose audience is the OAuth client id of the IAP application (NNN-xxx.apps.googleusercontent.com), not ${audience}. Pass --audience CLIENT_ID.apps.googleusercontent.com (Security > Identity-Aware Proxy, or the backend service's iap.oauth2ClientId).`,
        });
      } else {
        findings.push({
          code: 'id_token_refused',
          severity: 'error',
          message: `The front refused the ID token for ${audience} (401). It checks the audience: Cloud Run wants the service's *.run.app URL or a custom audience set on the service (a custom domain's origin is not enough), Cloud Run functions (1st gen) want the full function URL, IAP wants its OAuth client id. Otherwise the token expired, was revoked, or was not signed by Google.`,
        });
      }
    } else if (status === 403) {
      if (header === 'proxy-authorization' && !iap) {
        findings.push({
          code: 'header_not_read',
          severity: 'error',
          message:
            'The token went in Proxy-Authorization, which only IAP reads; Cloud Run answered 403 as if no token had been sent. Use --header authorization (or x-serverless-authorization).',
        });
      } else {
        const member = email ? `serviceAccount:${email}` : 'serviceAccount:EMAIL';
        findings.push({
          code: 'missing_invoker',
          severity: 'error',
          message: `The front accepted the token but refused ${email ?? 'its principal'} (403): the account lacks ${iap ? 'roles/iap.httpsResourceAccessor' : 'roles/run.invoker'} on the service. Fix: gcloud run services add-iam-policy-binding SERVICE --region=REGION --member=${member} --role=roles/run.invoker${iap ? ' (behind IAP: gcloud iap web add-iam-policy-binding --member=' + member + ' --role=roles/iap.httpsResourceAccessor)' : ''}.`,
        });
      }
    } else if (status >= 300 && status < 400) {
      findings.push({
        code: 'redirected',
        severity: 'error',
        message: `The service redirected to ${withId.location ?? 'another URL'} (${status}); a token never follows a redirect. ${/accounts\.google\.com/.test(withId.location ?? '') ? 'A redirect to a Google sign-in page means IAP wants a token whose audience is its OAuth client id.' : 'Use the final URL directly.'}`,
      });
    } else if (
      !input.a2a &&
      (status === 404 || status === 405 || status === 406 || status === 415)
    ) {
      findings.push({
        code: 'not_mcp',
        severity: 'error',
        message: `The front let the token through, but the service answered HTTP ${status} to an MCP initialize request: it is reachable but there is no MCP endpoint at ${target.pathname}. MCP servers usually listen on /mcp.`,
      });
    } else if (status >= 500) {
      findings.push({
        code: 'server_error',
        severity: 'error',
        message: `The service answered HTTP ${status}: authentication passed and the server itself failed; see its logs.`,
      });
    }
  } else if (!withId && withAccess?.reachable && withAccess.status === 401) {
    findings.push({
      code: 'access_token_only',
      severity: 'error',
      message:
        'Only an access token could be sent, and the front refused it (401): Cloud Run, Cloud Run functions and IAP accept only OIDC ID tokens. Fix the credential so it can mint ID tokens (see above).',
    });
  }

  const mcpStep = steps.find((s) => s.id === 'mcp');
  if (mcpStep?.status === 'fail' && !findings.some((f) => f.code === 'not_mcp')) {
    findings.push({
      code: 'not_mcp',
      severity: 'error',
      message: `The service is reachable and let the request in, but did not answer an MCP initialize request: ${target.href} is not an MCP endpoint (MCP servers usually listen on /mcp).`,
    });
  }

  const failed =
    findings.some((f) => f.severity === 'error') || steps.some((st) => st.status === 'fail');
  if (
    !failed &&
    source &&
    withId?.reachable &&
    (withId.status < 300 || (input.a2a !== undefined && a2aLetThrough(withId.status)))
  ) {
    findings.unshift({
      code: 'ok',
      severity: 'ok',
      message: `Everything works: ${email ?? 'the credential'} gets an ID token for ${audience} and the ${input.a2a ? 'A2A agent' : 'MCP server'} answers. Use the same settings in your client (serviceAccount.useIdToken: true${input.audience !== target.origin ? `, audience: ${JSON.stringify(audience)}` : ''}).`,
    });
  }
}

/**
 * After a 401 with the chosen audience, tries the audiences a front usually wants (the URL's
 * origin, the full URL) and reports the one that passes.
 */
async function tryOtherAudiences(input: DiagnoseInput): Promise<DoctorFinding | undefined> {
  const {target, audience, header, source, cache, log, steps} = input;
  if (!source) return undefined;
  const full = `${target.origin}${target.pathname}`;
  const candidates = [target.origin, full].filter(
    (c, i, all) => c !== audience && all.indexOf(c) === i,
  );
  for (const candidate of candidates) {
    let token: Token;
    try {
      token = await cache.get(source, {kind: 'id', audience: candidate});
    } catch {
      return undefined;
    }
    const result = await withProgress(log, `Probing with an ID token for ${candidate}`, () =>
      probe(target, {token: token.value, header}),
    );
    const step = steps.find((s) => s.id === 'probe_id_token');
    if (step && result.reachable)
      step.details.push(`an ID token for ${candidate} instead: ${statusWords(result)}`);
    if (result.reachable && result.status < 300) {
      const functions = candidate === full && candidate !== target.origin;
      return {
        code: 'wrong_audience',
        severity: 'error',
        message: `Wrong audience: the front refused an ID token for ${audience} (401) and accepted one for ${candidate}. ${
          functions
            ? 'This service wants the full URL (Cloud Run functions 1st gen): pass --audience ' +
              candidate +
              '.'
            : "Drop --audience (the default is the URL's origin) or pass --audience " +
              candidate +
              '.'
        }`,
      };
    }
  }
  return undefined;
}

/** A 4xx other than 401/403: the front let the request through and the service answered. */
function a2aLetThrough(status: number): boolean {
  return status >= 400 && status < 500 && status !== 401 && status !== 403;
}

function anonymousStep(result: ProbeResult & {reachable: true}): DoctorStep {
  const status = result.status;
  const protectedAnswer = status === 401 || status === 403 || (status >= 300 && status < 400);
  return {
    id: 'probe_anonymous',
    title: 'Without a token',
    status: protectedAnswer ? 'pass' : status < 300 ? 'warn' : 'info',
    summary: `${statusWords(result)}${
      status === 403 || status === 401
        ? ' (the front requires authentication, as expected)'
        : status < 300
          ? ' (the service does not require authentication)'
          : ''
    }`,
    details: [],
    data: probeData(result),
  };
}

function idProbeStep(
  result: ProbeResult,
  header: string,
  claims: Record<string, unknown> | undefined,
): DoctorStep {
  if (!result.reachable) {
    return {
      id: 'probe_id_token',
      title: 'With the ID token',
      status: 'fail',
      summary: `unreachable (${result.error})`,
      details: [],
      exitCode: ExitCode.REMOTE,
    };
  }
  const status = result.status;
  const exitCode: ExitCodeValue | undefined =
    status < 300
      ? undefined
      : status === 401 || status === 403 || (status >= 300 && status < 400)
        ? ExitCode.AUTH
        : ExitCode.REMOTE;
  const who = typeof claims?.email === 'string' ? ` for ${claims.email}` : '';
  return {
    id: 'probe_id_token',
    title: 'With the ID token',
    status: exitCode === undefined ? 'pass' : 'fail',
    summary: `${statusWords(result)} (token${who} in ${header})`,
    details: result.wwwAuthenticate
      ? [`WWW-Authenticate: ${result.wwwAuthenticate.slice(0, 200)}`]
      : [],
    data: probeData(result),
    ...(exitCode === undefined ? {} : {exitCode}),
  };
}

function statusWords(result: ProbeResult & {reachable: true}): string {
  const words: Record<number, string> = {
    200: 'OK',
    202: 'Accepted',
    301: 'Moved Permanently',
    302: 'Found',
    307: 'Temporary Redirect',
    308: 'Permanent Redirect',
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    406: 'Not Acceptable',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
  };
  const word = words[result.status];
  return `HTTP ${result.status}${word ? ` ${word}` : ''}${result.location ? ` -> ${result.location}` : ''}`;
}

function probeData(result: ProbeResult): Record<string, unknown> {
  if (!result.reachable) return {reachable: false, error: result.error};
  return {
    reachable: true,
    status: result.status,
    contentType: result.contentType,
    iap: result.iap,
    ...(result.location ? {location: result.location} : {}),
    ...(result.mcp ? {mcp: result.mcp} : {}),
  };
}

function cannotMint(description: CredentialDescription): DoctorFinding {
  if (description.kind === 'authorized_user') {
    return {
      code: 'user_credentials',
      severity: 'error',
      message:
        "User credentials (gcloud auth application-default login) cannot call Cloud Run: Google gives them ID tokens whose audience is gcloud's OAuth client id, never the service URL. Fix: impersonate a service account that has roles/run.invoker, with --impersonate SA_EMAIL or gcloud auth application-default login --impersonate-service-account=SA_EMAIL (you need roles/iam.serviceAccountTokenCreator on it).",
    };
  }
  if (description.kind === 'external_account') {
    return {
      code: 'federation_without_impersonation',
      severity: 'error',
      message:
        'Workload identity federation without service-account impersonation yields only federated access tokens, which Cloud Run refuses. Fix: create the credential configuration with --service-account=SA_EMAIL (gcloud iam workload-identity-pools create-cred-config), or pass --impersonate SA_EMAIL.',
    };
  }
  return {
    code: 'cannot_mint_id_token',
    severity: 'error',
    message: `This credential (${kindWords(description.kind)}) cannot mint ID tokens${description.note ? `: ${description.note.replace(/\.+$/, '')}` : ''}. Use a service-account credential or --impersonate SA_EMAIL.`,
  };
}

function noCredential(): DoctorFinding {
  return {
    code: 'no_credential',
    severity: 'error',
    message:
      'No usable Google credential was found. Pass --key-file, set GOOGLE_APPLICATION_CREDENTIALS, run `gcloud auth application-default login --impersonate-service-account=SA_EMAIL`, or run on Google Cloud (metadata server).',
  };
}

function kindWords(kind: CredentialDescription['kind']): string {
  switch (kind) {
    case 'service_account_key':
      return 'service-account key';
    case 'metadata_server':
      return 'metadata server (attached service account)';
    case 'impersonated_service_account':
      return 'impersonated service account';
    case 'external_account':
      return 'workload identity federation (external_account)';
    case 'authorized_user':
      return 'user credentials (authorized_user)';
    default:
      return 'unknown credential';
  }
}

function skipped(id: string, title: string, why: string): DoctorStep {
  return {id, title, status: 'skip', summary: `skipped (${why})`, details: []};
}

async function withProgress<T>(log: Logger, text: string, fn: () => Promise<T>): Promise<T> {
  const progress = log.progress(text);
  try {
    const value = await fn();
    progress.done(true);
    return value;
  } catch (error) {
    progress.done(false);
    throw error;
  }
}

function finish(target: URL, steps: DoctorStep[], findings: DoctorFinding[]): DoctorReport {
  const failed = steps.find((s) => s.status === 'fail');
  const exitCode = failed?.exitCode ?? (failed ? ExitCode.REMOTE : ExitCode.OK);
  if (failed && !findings.some((f) => f.severity === 'error')) {
    findings.push({
      code: 'step_failed',
      severity: 'error',
      message: `${failed.title}: ${failed.summary}.`,
    });
  }
  return {url: target.href, ok: !failed, exitCode, steps, findings};
}
