/**
 * The shape of a `doctor` report and how it is shown to a person.
 */
import type {ExitCodeValue} from '../exit-codes.js';
import type {Marks} from '../format.js';

/** How one step ended. `info` is a fact that neither passes nor fails; `skip` did not run. */
export type StepStatus = 'pass' | 'fail' | 'warn' | 'info' | 'skip';

/** One step of the report. */
export interface DoctorStep {
  /** Stable id: `credential`, `audience`, `id_token`, `claims`, `probe_anonymous`, `probe_id_token`, `probe_access_token`, `mcp`. */
  id: string;
  /** Short title, e.g. `Credential`. */
  title: string;
  status: StepStatus;
  /** One line: what was found. */
  summary: string;
  /** More lines: reasons, warnings, fixes. */
  details: string[];
  /** Machine-readable facts (never a token). */
  data?: Record<string, unknown>;
  /** For a failed step, the exit code it stands for. */
  exitCode?: ExitCodeValue;
}

/** One conclusion of the diagnosis. */
export interface DoctorFinding {
  /**
   * Stable code: `ok`, `unreachable`, `user_credentials`, `federation_without_impersonation`,
   * `cannot_mint_id_token`, `wrong_audience`, `iap_audience`, `id_token_refused`,
   * `access_token_refused`, `access_token_only`, `missing_invoker`, `header_not_read`,
   * `not_mcp`, `server_error`, `no_auth_required`, `redirected`, `no_credential`,
   * `token_request_failed`, `step_failed`; and `verifier_<code>` (e.g.
   * `verifier_forbidden_principal`, `verifier_bad_audience`) when a server that verifies
   * tokens itself with this package refused the token with that verification code.
   */
  code: string;
  /** `error` explains a failure, `warning` a likely problem, `info` is advice, `ok` says it works. */
  severity: 'error' | 'warning' | 'info' | 'ok';
  /** Plain words, with the fix. */
  message: string;
}

/** The whole report (`--json` prints it as it is). */
export interface DoctorReport {
  url: string;
  /** The command line that reproduces this report (the URL and the credential flags). */
  command: string;
  ok: boolean;
  exitCode: ExitCodeValue;
  steps: DoctorStep[];
  findings: DoctorFinding[];
}

/** The report as lines for a person: the command line that made it, the steps, the diagnosis. */
export function renderReport(report: DoctorReport, marks: Marks): string[] {
  const lines: string[] = [report.command, ''];
  for (const step of report.steps) {
    const mark =
      step.status === 'pass'
        ? marks.ok
        : step.status === 'fail'
          ? marks.fail
          : step.status === 'warn'
            ? marks.warn
            : step.status === 'skip'
              ? marks.skip
              : marks.info;
    lines.push(`${mark} ${step.title}: ${step.summary}`);
    for (const detail of step.details) lines.push(`    ${detail}`);
  }
  lines.push('', 'Diagnosis:');
  for (const finding of report.findings) {
    const mark =
      finding.severity === 'error'
        ? marks.fail
        : finding.severity === 'warning'
          ? marks.warn
          : finding.severity === 'ok'
            ? marks.ok
            : marks.info;
    lines.push(`${mark} ${finding.message}`);
  }
  return lines;
}
