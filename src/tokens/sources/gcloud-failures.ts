/**
 * What a failed `gcloud auth print-identity-token` means, in words a developer can act on:
 * not installed, not logged in, `--audiences` on a user account, impersonation refused, or
 * anything else with gcloud's own (scrubbed) words.
 */
import {CredentialExchangeError} from '../../credentials/errors.js';
import {GcloudRunError} from './gcloud-cli.js';

/** What the source was doing, for the message. */
export interface GcloudFailureContext {
  /** `an ID token for audience "…"`. */
  readonly what: string;
  /** `--account`, when given. */
  readonly account: string | undefined;
  /** The impersonated service account, when impersonating. */
  readonly impersonate: string | undefined;
  /** The executable as configured (`gcloud` or a path). */
  readonly command: string;
  /** The timeout, in milliseconds. */
  readonly timeoutMs: number;
}

const INSTALL = 'https://cloud.google.com/sdk/docs/install';

const LOGIN_REQUIRED =
  /gcloud auth login|do not currently have an active account|no credentialed accounts|not have any valid credentials|reauthenticat|problem refreshing your current auth tokens|invalid_grant|credentials? (?:have|has) (?:expired|been revoked)/i;
const AUDIENCES_REFUSED =
  /invalid account type for `?--audiences`?|requires valid service account/i;
const IMPERSONATION_REFUSED =
  /failed to impersonate|iam\.serviceAccounts\.getOpenIdToken|serviceAccountTokenCreator|permission.{0,40}impersonat/i;

/** The {@link CredentialExchangeError} for a failed gcloud run (the run error as `cause`). */
export function gcloudFailure(
  context: GcloudFailureContext,
  error: unknown,
): CredentialExchangeError {
  if (error instanceof CredentialExchangeError) return error;
  const from = `Could not get ${context.what} from the gcloud CLI (${who(context)})`;
  if (!(error instanceof GcloudRunError)) {
    return new CredentialExchangeError(`${from}: gcloud could not be run.`, {
      cause: error,
      code: 'gcloud_failed',
    });
  }
  const said = error.stderr ? ` gcloud said: ${error.stderr}` : '';
  switch (error.reason) {
    case 'not_found':
      return new CredentialExchangeError(notInstalled(from, context, error.spawnCode), {
        cause: error,
        code: 'gcloud_not_installed',
      });
    case 'timeout':
      return new CredentialExchangeError(
        `${from}: gcloud did not finish within ${Math.round(context.timeoutMs / 1000)} s and was stopped.${said} ` +
          'It may be waiting for a prompt or a slow network: run `gcloud auth print-identity-token` in a terminal to see what it asks.',
        {cause: error, code: 'gcloud_failed'},
      );
    case 'output_too_large':
      return new CredentialExchangeError(
        `${from}: gcloud printed far more than an identity token and was stopped. Check that ${JSON.stringify(context.command)} is the Google Cloud CLI.`,
        {cause: error, code: 'gcloud_failed'},
      );
    case 'aborted':
      return new CredentialExchangeError(`${from}: the request was aborted.`, {
        cause: error,
        code: 'gcloud_failed',
      });
    case 'exit':
      break;
  }
  const stderr = error.stderr;
  if (AUDIENCES_REFUSED.test(stderr)) {
    return new CredentialExchangeError(
      `${from}: gcloud refused --audiences because the account is a user account; it works only for service accounts and impersonation.${said} ` +
        `Fix: drop the audience (serviceAccount.audience, or --audience on the command line): a user's identity token is minted for gcloud's own client id, which Cloud Run accepts from a user with roles/run.invoker. ` +
        'Or mint as a service account: set impersonateServiceAccount (--impersonate SA_EMAIL), or gcloudAccount to a service account activated in gcloud.',
      {cause: error, code: 'gcloud_audience_unsupported'},
    );
  }
  if (context.impersonate && IMPERSONATION_REFUSED.test(stderr)) {
    return new CredentialExchangeError(
      `${from}: IAM refused the impersonation of ${context.impersonate}.${said} ` +
        `Fix: the account gcloud is logged in with needs roles/iam.serviceAccountTokenCreator on it: gcloud iam service-accounts add-iam-policy-binding ${context.impersonate} --member=user:YOUR_EMAIL --role=roles/iam.serviceAccountTokenCreator.`,
      {cause: error, code: 'forbidden'},
    );
  }
  if (LOGIN_REQUIRED.test(stderr)) {
    const login = context.account ? `gcloud auth login ${context.account}` : 'gcloud auth login';
    return new CredentialExchangeError(
      `${from}: gcloud has no valid login${context.account ? ` for ${context.account}` : ''} (never logged in, expired, or revoked).${said} ` +
        `Fix: run \`${login}\` in a terminal, then try again.`,
      {cause: error, code: 'gcloud_login_required'},
    );
  }
  return new CredentialExchangeError(
    `${from}: gcloud exited with status ${error.exitCode ?? 'unknown'}.${said || ' It printed nothing on stderr.'} ` +
      'Run `gcloud auth print-identity-token` in a terminal to see the problem.',
    {cause: error, code: 'gcloud_failed'},
  );
}

/** The words for "the executable is not there", naming the fixes and the alternatives. */
function notInstalled(
  from: string,
  context: GcloudFailureContext,
  spawnCode: string | undefined,
): string {
  const where =
    context.command.includes('/') || context.command.includes('\\')
      ? `${JSON.stringify(context.command)} could not be run${spawnCode ? ` (${spawnCode})` : ''}`
      : `no ${JSON.stringify(context.command)} executable was found on PATH${spawnCode && spawnCode !== 'ENOENT' ? ` (${spawnCode})` : ''}`;
  const windows =
    process.platform === 'win32'
      ? ' On Windows gcloud is gcloud.cmd, which Node runs only through a shell, and this package never starts one: use WSL, or one of the alternatives below.'
      : '';
  return (
    `${from}: ${where}.${windows} ` +
    `Install the Google Cloud CLI (${INSTALL}) and run \`gcloud auth login\`; if it is installed, put its bin directory on the PATH of this process ` +
    '(desktop MCP clients often start servers with a short PATH: set PATH in the server entry\'s "env"). ' +
    'Without gcloud: use a service-account key (serviceAccountCredential, or --key-file), or Application Default Credentials ' +
    '(a credential file named by GOOGLE_APPLICATION_CREDENTIALS, or the metadata server) with impersonateServiceAccount (--impersonate SA_EMAIL).'
  );
}

function who(context: GcloudFailureContext): string {
  const account = context.account ? `account ${context.account}` : 'its active account';
  return context.impersonate ? `${account}, impersonating ${context.impersonate}` : account;
}
