/**
 * The facts about gcloud's identity tokens that the credential rules, the token source and
 * the emulator share. Cloud Run accepts an ID token whose `aud` is gcloud's own OAuth client
 * id from a user who holds `roles/run.invoker` (Google documents
 * `gcloud auth print-identity-token` for developers); it refuses the ID token of
 * Application Default Credentials' user login, whose `aud` is another client id.
 */
import type {ServiceAccount} from './types.js';

/** gcloud's OAuth client id: the `aud` of `gcloud auth print-identity-token` for a user account. */
export const GCLOUD_OAUTH_CLIENT_ID = '32555940559.apps.googleusercontent.com';

/**
 * The OAuth client id of `gcloud auth application-default login`: the `aud` of the ID tokens of
 * ADC user credentials (`authorized_user`), which Cloud Run refuses.
 */
export const ADC_OAUTH_CLIENT_ID =
  '764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com';

/** Whether `email` names a service account (`…@….gserviceaccount.com`); users cannot have such an address. */
export function isServiceAccountEmail(email: string): boolean {
  return /@[^@\s]+\.gserviceaccount\.com$/i.test(email);
}

/**
 * The IAM member for a principal's email, as `gcloud ... add-iam-policy-binding --member`
 * wants it: `serviceAccount:EMAIL` for a service account, `user:EMAIL` for anyone else (a
 * developer running as themselves through gcloud).
 */
export function iamMember(email: string): string {
  return `${isServiceAccountEmail(email) ? 'serviceAccount' : 'user'}:${email}`;
}

/**
 * Whether gcloud mints this credential's ID token for the requested audience
 * (`--audiences`): only for a service account (`gcloudAccount` naming one) or through
 * impersonation. Otherwise the principal is a user (or gcloud's active account) and the
 * token's `aud` is {@link GCLOUD_OAUTH_CLIENT_ID} whatever was asked for.
 */
export function gcloudMintsForAudience(sa: ServiceAccount): boolean {
  return (
    sa.impersonateServiceAccount !== undefined ||
    (typeof sa.gcloudAccount === 'string' && isServiceAccountEmail(sa.gcloudAccount))
  );
}

/**
 * The audience a request must ask for with a gcloud user credential
 * ({@link GCLOUD_OAUTH_CLIENT_ID}), or `undefined` when the credential is not one (then the
 * requested audience is the one the token will carry).
 */
export function gcloudUserAudience(sa: ServiceAccount): string | undefined {
  return sa.useGcloudCredential === true && !gcloudMintsForAudience(sa)
    ? GCLOUD_OAUTH_CLIENT_ID
    : undefined;
}
