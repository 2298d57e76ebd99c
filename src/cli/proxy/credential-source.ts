import {existsSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';

/** What the proxy command was given to find its credential. */
export interface CredentialSourceInput {
  /** `--key-file PATH`, as given. */
  keyFile?: string | undefined;
  /** The `type` of that file (`service_account`, `authorized_user`, ...). */
  keyFileType?: string | undefined;
  /** `--impersonate EMAIL`. */
  impersonate?: string | undefined;
  /** `--gcloud [ACCOUNT]`: `true` for gcloud's active account. */
  gcloud?: string | true | undefined;
}

/**
 * Where the proxy's Google identity comes from, in words for its start-up line: the gcloud
 * CLI (`--gcloud`), the key file it was given, or which Application Default Credentials source google-auth-library takes
 * (in its order: `GOOGLE_APPLICATION_CREDENTIALS`, the gcloud ADC file, the metadata server).
 * No file is read and nothing is asked over the network: the principal comes from the token.
 *
 * @example
 * describeCredentialSource({keyFile: './key.json', keyFileType: 'service_account'}, process.env)
 * // 'key file ./key.json'
 */
export function describeCredentialSource(
  input: CredentialSourceInput,
  env: NodeJS.ProcessEnv = process.env,
): string {
  let base: string;
  if (input.gcloud !== undefined) {
    base =
      input.gcloud === true ? "gcloud CLI's active account" : `gcloud CLI account ${input.gcloud}`;
  } else if (input.keyFile !== undefined) {
    base =
      input.keyFileType === undefined || input.keyFileType === 'service_account'
        ? `key file ${input.keyFile}`
        : `${input.keyFileType} file ${input.keyFile}`;
  } else if (env.GOOGLE_APPLICATION_CREDENTIALS) {
    base = `GOOGLE_APPLICATION_CREDENTIALS=${env.GOOGLE_APPLICATION_CREDENTIALS}`;
  } else {
    const gcloudFile = join(
      env.CLOUDSDK_CONFIG ||
        (process.platform === 'win32'
          ? join(env.APPDATA ?? '', 'gcloud')
          : join(env.HOME || homedir(), '.config', 'gcloud')),
      'application_default_credentials.json',
    );
    base = existsSync(gcloudFile)
      ? `gcloud application-default credentials ${gcloudFile}`
      : `metadata server ${env.GCE_METADATA_HOST || env.GCE_METADATA_IP || '169.254.169.254'}`;
  }
  return input.impersonate === undefined ? base : `impersonating ${input.impersonate} with ${base}`;
}
