import {CredentialExchangeError} from '../../credentials/errors.js';
import {describeRequest} from './exchange-failure.js';

/**
 * The credentials that cannot mint an ID token Cloud Run accepts, refused with the reason
 * and the fix instead of a token whose `aud` is wrong.
 */

/** Why user credentials cannot mint ID tokens, and the fix (for `describe()`). */
export const USER_ID_TOKEN_NOTE =
  "User credentials (authorized_user) cannot mint ID tokens for an audience: Google's ID token for them has the OAuth client id as `aud`, which Cloud Run, IAP and Cloud Run functions reject. " +
  "To call Cloud Run as yourself, use the gcloud CLI's identity instead (useGcloudCredential: true, or --gcloud), which Cloud Run accepts from a user with roles/run.invoker. " +
  'Otherwise set impersonateServiceAccount, or run `gcloud auth application-default login --impersonate-service-account=SA_EMAIL`.';

/** Why federation without impersonation cannot mint ID tokens, and the fix (for `describe()`). */
export const FEDERATION_ID_TOKEN_NOTE =
  'This external_account has no service_account_impersonation_url, so there is no service account to mint ID tokens for. ' +
  'Create the credential configuration with --service-account=SA_EMAIL, or set impersonateServiceAccount.';

/** The refusal for an ID token from user credentials: why, and what to do. */
export function idTokenRefusedForUser(audience: string, subject: string): CredentialExchangeError {
  return new CredentialExchangeError(
    `Could not get ${describeRequest({kind: 'id', audience})} from ${subject}: ` +
      `Google mints ID tokens for user credentials with the OAuth client id as \`aud\`, not ${JSON.stringify(audience)}, ` +
      'and Cloud Run, IAP and Cloud Run functions reject such a token. ' +
      'Fix: to call Cloud Run as yourself, use the gcloud CLI instead of ADC (serviceAccount: {useGcloudCredential: true, useIdToken: true}, or --gcloud on the command line): its identity token is accepted from a user with roles/run.invoker. ' +
      'Or set serviceAccount.impersonateServiceAccount to a service account you may impersonate (you need roles/iam.serviceAccountTokenCreator on it), ' +
      'or run `gcloud auth application-default login --impersonate-service-account=SA_EMAIL` so that ADC mints as that service account.',
    {
      cause: new Error('authorized_user credentials cannot mint ID tokens for an audience'),
      code: 'id_token_unsupported',
    },
  );
}

/** The refusal for an ID token from an external_account without a service account to impersonate. */
export function idTokenRefusedForFederation(
  audience: string,
  subject: string,
): CredentialExchangeError {
  return new CredentialExchangeError(
    `Could not get ${describeRequest({kind: 'id', audience})} from ${subject}: ` +
      'a federated principal has no service account email, so Google cannot mint an ID token for it. ' +
      'Fix: create the credential configuration with a service account to impersonate ' +
      '(`gcloud iam workload-identity-pools create-cred-config ... --service-account=SA_EMAIL`, which sets service_account_impersonation_url), ' +
      'or set serviceAccount.impersonateServiceAccount.',
    {
      cause: new Error('external_account without service_account_impersonation_url'),
      code: 'id_token_unsupported',
    },
  );
}
