/**
 * What `mcp-google-auth doctor <url>` does: runs the steps of `doctor/run-doctor.ts` with
 * the command's options and prints the report (scrubbed: the probes quote what servers said).
 */
import type {ServiceAccount} from '../../credentials/types.js';
import {
  authFromOptions,
  CliError,
  createLogger,
  ExitCode,
  parseTargetUrl,
  type CommonOptions,
} from '../common.js';
import {isLoopback, UNSAFE_ACCESS_TOKEN_FLAG} from '../doctor/access-token-policy.js';
import {renderReport} from '../doctor/report.js';
import {runDoctor} from '../doctor/run-doctor.js';
import {marksFor, printLines} from '../format.js';
import {scrubText} from '../scrub-text.js';

/** Options of the `doctor` subcommand. */
export interface DoctorCommandOptions extends CommonOptions {
  /** `--unsafe-send-access-token`: the comparison access token may go beyond this machine (https only). */
  unsafeSendAccessToken?: boolean;
}

/** Runs `doctor` with its parsed arguments; resolves with the report's exit code. */
export async function doctorAction(url: string, opts: DoctorCommandOptions): Promise<number> {
  const log = createLogger({verbose: opts.verbose === true});
  const target = parseTargetUrl(url);
  if (
    opts.unsafeSendAccessToken === true &&
    target.protocol !== 'https:' &&
    !isLoopback(target.hostname)
  ) {
    throw new CliError(
      `${UNSAFE_ACCESS_TOKEN_FLAG} sends an access token only over https, and ${target.origin} is plain http.`,
      ExitCode.USAGE,
      {hint: `Use the https URL of the service, or drop ${UNSAFE_ACCESS_TOKEN_FLAG}.`},
    );
  }
  const auth = authFromOptions(opts, url);
  const report = await runDoctor(target, auth.authCredential.serviceAccount as ServiceAccount, {
    audience: auth.audience ?? target.origin,
    audienceSource: auth.audienceSource,
    header: auth.header,
    log,
    sendAccessTokenToTarget: opts.unsafeSendAccessToken === true,
    credentialFlags: auth.credentialFlags ?? [],
  });
  if (opts.json) process.stdout.write(`${scrubText(JSON.stringify(report, null, 2))}\n`);
  else printLines(...renderReport(report, marksFor(process.stdout)).map(scrubText));
  return report.exitCode;
}
