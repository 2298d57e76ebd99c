/**
 * How `doctor` words what it saw: probe answers as steps, statuses and credential kinds in
 * words, the machine-readable facts of a probe.
 */
import type {CredentialDescription} from '../../tokens/token-source.js';
import {ExitCode, type ExitCodeValue} from '../exit-codes.js';
import type {ProbeResult} from './probe.js';
import type {DoctorStep} from './report.js';

/** The step for the probe without a token. */
export function anonymousStep(result: ProbeResult & {reachable: true}): DoctorStep {
  const status = result.status;
  const protectedAnswer = status === 401 || status === 403 || (status >= 300 && status < 400);
  return {
    id: 'probe_anonymous',
    title: 'Without a token',
    status: protectedAnswer ? 'pass' : status < 300 ? 'warn' : 'info',
    summary: `${statusWords(result)}${
      status === 403 || status === 401
        ? ' (the service requires authentication, as expected)'
        : status < 300
          ? ' (the service does not require authentication)'
          : ''
    }`,
    details: [],
    data: probeData(result),
  };
}

/** The step for the probe with the ID token. */
export function idProbeStep(
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
    details: result.wwwAuthenticate ? [`WWW-Authenticate: ${result.wwwAuthenticate}`] : [],
    data: probeData(result),
    ...(exitCode === undefined ? {} : {exitCode}),
  };
}

/** `HTTP 403 Forbidden`, `HTTP 302 Found -> https://...`. */
export function statusWords(result: ProbeResult & {reachable: true}): string {
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

/** The facts of a probe for `--json` (never a token). */
export function probeData(result: ProbeResult): Record<string, unknown> {
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

/** A credential kind in words. */
export function kindWords(kind: CredentialDescription['kind']): string {
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

/** A step that did not run, and why. */
export function skipped(id: string, title: string, why: string): DoctorStep {
  return {id, title, status: 'skip', summary: `skipped (${why})`, details: []};
}
