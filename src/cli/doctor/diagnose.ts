/**
 * The judging half of `doctor`: from what the probes saw, the findings that name the cause
 * and the fix. A server that verifies tokens itself with this package (its
 * `WWW-Authenticate` carries one of the verification codes) is explained as that server's
 * policy, not as Cloud Run's.
 */
import {
  explainVerifierRefusal,
  verifierRefusal,
  type VerifierRefusal,
} from '../../http/explain-auth-failure.js';
import type {TokenCache} from '../../tokens/token-cache.js';
import type {CredentialDescription, Token, TokenSource} from '../../tokens/token-source.js';
import {a2aLetThrough, type A2aRecognition} from '../commands/a2a-doctor.js';
import type {Logger} from '../logger.js';
import {isOAuthClientId} from './audience-checks.js';
import {probe, type ProbeResult} from './probe.js';
import type {DoctorFinding, DoctorStep} from './report.js';
import {kindWords, statusWords} from './step-words.js';

/** Where the token goes. */
export type DoctorHeader = 'authorization' | 'x-serverless-authorization' | 'proxy-authorization';

/** What {@link diagnose} judges. */
export interface DiagnoseInput {
  /** The A2A agent found at the URL, when it is one (then no MCP server is expected). */
  a2a?: A2aRecognition | undefined;
  target: URL;
  audience: string;
  header: DoctorHeader;
  source: TokenSource | undefined;
  description: CredentialDescription | undefined;
  anonymous: ProbeResult & {reachable: true};
  withId: ProbeResult | undefined;
  withAccess: ProbeResult | undefined;
  claims: Record<string, unknown> | undefined;
  findings: DoctorFinding[];
  steps: DoctorStep[];
  cache: TokenCache;
  log: Logger;
}

/** Adds the findings for what the probes saw (may probe again with other audiences). */
export async function diagnose(input: DiagnoseInput): Promise<void> {
  const {target, audience, header, anonymous, withId, withAccess, claims, findings, steps} = input;
  const email = typeof claims?.email === 'string' ? claims.email : undefined;
  const iap = anonymous.iap || (withId?.reachable === true && withId.iap);
  const verifier = withId?.reachable === true ? verifierRefusal(withId.wwwAuthenticate) : undefined;

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
          message: `An access token for the same principal gets 401 where the ID token passes: if your client gets 401, it is sending an access token (ADK's default without useIdToken). Set serviceAccount.useIdToken: true${audienceAdvice(target, audience, iap)}.`,
        });
      }
    } else if (verifier && (status === 401 || status === 403)) {
      findings.push(
        (verifier.code === 'bad_audience' && (await tryOtherAudiences(input, verifier))) ||
          verifierFinding(input, verifier, email),
      );
    } else if (status === 401 && header !== 'authorization' && bareChallenge(withId)) {
      // RFC 6750: a bare `Bearer` challenge answers a request that carried no token at all.
      findings.push({
        code: 'header_not_read',
        severity: 'error',
        message: `The server answered as if no token had been sent (401 with a bare WWW-Authenticate: Bearer challenge): it does not read ${header}. Use --header authorization${header === 'proxy-authorization' ? ' (Proxy-Authorization is read by IAP only)' : ''}.`,
      });
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
  const letThrough =
    withId?.reachable === true &&
    (withId.status < 300 || (input.a2a !== undefined && a2aLetThrough(withId.status)));
  if (!failed && input.source && letThrough) {
    findings.unshift({
      code: 'ok',
      severity: 'ok',
      message: `Everything works: ${email ?? 'the credential'} gets an ID token for ${audience} and the ${input.a2a ? 'A2A agent' : 'MCP server'} answers. Use the same settings in your client: serviceAccount.useIdToken: true${
        audience !== target.origin ? `, audience: ${JSON.stringify(audience)}` : ''
      }${header !== 'authorization' ? `, and the token in ${header} (googleAuthFetch's header option)` : ''}.`,
    });
  }
}

/** Whether a probe's answer challenges with a bare `Bearer` (no error, no params). */
function bareChallenge(result: ProbeResult & {reachable: true}): boolean {
  return /^\s*bearer\s*$/i.test(result.wwwAuthenticate ?? '');
}

/** How the client should set the audience, after `useIdToken: true`. */
function audienceAdvice(target: URL, audience: string, iap: boolean): string {
  if (audience === target.origin) return " (the audience defaults to the URL's origin)";
  if (iap || isOAuthClientId(audience)) {
    return ` with audience: ${JSON.stringify(audience)} (IAP wants its OAuth client id, not the URL's origin)`;
  }
  return ` with audience: ${JSON.stringify(audience)}`;
}

/** The finding for a refusal by a server that verifies tokens with this package. */
function verifierFinding(
  input: DiagnoseInput,
  verifier: VerifierRefusal,
  email: string | undefined,
): DoctorFinding {
  return {
    code: `verifier_${verifier.code}`,
    severity: 'error',
    message: explainVerifierRefusal(verifier, {
      url: input.target.href,
      credentialSent: true,
      tokenKind: 'id',
      audience: input.audience,
      header: input.header,
      ...(email ? {principal: email} : {}),
    }),
  };
}

/**
 * After a 401 with the chosen audience, tries the audiences the server named (a server that
 * verifies tokens itself may say which it wants) and those a front usually wants (the URL's
 * origin, the full URL), and reports the one that passes.
 */
async function tryOtherAudiences(
  input: DiagnoseInput,
  verifier?: VerifierRefusal,
): Promise<DoctorFinding | undefined> {
  const {target, audience, header, source, cache, log, steps} = input;
  if (!source) return undefined;
  const full = `${target.origin}${target.pathname}`;
  const named = verifier?.audiences ?? [];
  const candidates = [...named, target.origin, full].filter(
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
      const refuser = verifier ? 'the server' : 'the front';
      if (named.includes(candidate)) {
        return {
          code: 'wrong_audience',
          severity: 'error',
          message: `Wrong audience: ${refuser} refused an ID token for ${audience} (401, bad_audience) and accepted one for ${candidate}, the audience it says it wants. Pass --audience ${candidate}.`,
        };
      }
      const functions = candidate === full && candidate !== target.origin;
      return {
        code: 'wrong_audience',
        severity: 'error',
        message: `Wrong audience: ${refuser} refused an ID token for ${audience} (401) and accepted one for ${candidate}. ${
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

/** The finding for a credential that cannot mint ID tokens. */
export function cannotMint(description: CredentialDescription): DoctorFinding {
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

/** The finding when no credential is found. */
export function noCredential(): DoctorFinding {
  return {
    code: 'no_credential',
    severity: 'error',
    message:
      'No usable Google credential was found. Pass --key-file, set GOOGLE_APPLICATION_CREDENTIALS, run `gcloud auth application-default login --impersonate-service-account=SA_EMAIL`, or run on Google Cloud (metadata server).',
  };
}

/** Runs `fn` with a progress line on stderr. */
export async function withProgress<T>(log: Logger, text: string, fn: () => Promise<T>): Promise<T> {
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
