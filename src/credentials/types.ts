/**
 * The credential data model, in the names and shapes of the Agent Development Kit
 * (adk-js `AuthCredential`, ADK Python `auth_credential.py`), plus the fields this package
 * adds (`impersonateServiceAccount`, `delegates`, `HttpAuth.expiresAt`).
 */

/** The kinds of {@link AuthCredential}, as in ADK. */
export const AuthCredentialTypes = {
  API_KEY: 'apiKey',
  HTTP: 'http',
  OAUTH2: 'oauth2',
  OPEN_ID_CONNECT: 'openIdConnect',
  SERVICE_ACCOUNT: 'serviceAccount',
} as const;

/** One of the values of {@link AuthCredentialTypes}. */
export type AuthCredentialType = (typeof AuthCredentialTypes)[keyof typeof AuthCredentialTypes];

/** The secret part of an HTTP credential: a bearer token, or a user name and password. */
export interface HttpCredentials {
  username?: string;
  password?: string;
  token?: string;
}

/** An HTTP credential: an RFC 7235 scheme (`bearer`, `basic`) and its secret. */
export interface HttpAuth {
  /** The scheme, e.g. `bearer` or `basic` (case-insensitive). */
  scheme: string;
  credentials: HttpCredentials;
  /** Extra headers to send with the credential. */
  additionalHeaders?: Record<string, string>;
  /** When the token stops being valid, in epoch seconds (set by exchangers). */
  expiresAt?: number;
}

/** An OAuth2 credential, as in ADK. Only `accessToken` is used to authenticate requests. */
export interface OAuth2Auth {
  clientId?: string;
  clientSecret?: string;
  authUri?: string;
  state?: string;
  redirectUri?: string;
  authResponseUri?: string;
  authCode?: string;
  accessToken?: string;
  refreshToken?: string;
  idToken?: string;
  /** Epoch seconds. */
  expiresAt?: number;
  /** Seconds. */
  expiresIn?: number;
  audience?: string;
}

/** A Google service-account key, the JSON key file in camelCase. */
export interface ServiceAccountCredential {
  type: 'service_account';
  projectId?: string;
  privateKeyId?: string;
  privateKey: string;
  clientEmail: string;
  clientId?: string;
  authUri?: string;
  tokenUri?: string;
  authProviderX509CertUrl?: string;
  clientX509CertUrl?: string;
  universeDomain?: string;
}

/**
 * Google service-account settings, as in ADK, plus impersonation and the gcloud CLI's
 * developer identity.
 *
 * @example
 * const sa: ServiceAccount = {useDefaultCredential: true, useIdToken: true, audience: 'https://svc-abc.a.run.app'};
 * // Run as yourself (a developer with `gcloud auth login` done and roles/run.invoker):
 * const me: ServiceAccount = {useGcloudCredential: true, useIdToken: true};
 */
export interface ServiceAccount {
  /** An explicit key. Exactly one of this, `useDefaultCredential` and `useGcloudCredential` must be given. */
  serviceAccountCredential?: ServiceAccountCredential;
  /** OAuth scopes for access tokens. Default is `['https://www.googleapis.com/auth/cloud-platform']`. */
  scopes?: string[];
  /** Use Application Default Credentials (key file, metadata server, federation, ...). */
  useDefaultCredential?: boolean;
  /**
   * Mint ID tokens with the installed gcloud CLI (`gcloud auth print-identity-token`), as the
   * account gcloud is logged in with: a developer's own identity, no key. For a user account
   * the token's `aud` is gcloud's OAuth client id, which Cloud Run accepts from a user with
   * `roles/run.invoker` (not IAP, not custom audiences); for a service account
   * (`gcloudAccount`) or with `impersonateServiceAccount` it is the requested audience.
   * Needs `useIdToken: true`. Never chosen implicitly. Default is false.
   */
  useGcloudCredential?: boolean;
  /**
   * The gcloud account to mint as (`--account`), with `useGcloudCredential`. A
   * service-account email (`…@….gserviceaccount.com`) makes gcloud mint for the requested
   * audience. Default is gcloud's active account.
   */
  gcloudAccount?: string;
  /** Fetch an OIDC ID token (for Cloud Run, Cloud Run functions, IAP) instead of an access token. */
  useIdToken?: boolean;
  /**
   * The ID token's `aud`: the service URL's origin for Cloud Run, the full function URL for
   * Cloud Run functions (1st gen), the OAuth client id for IAP. Required with `useIdToken`
   * by the exchanger; `googleAuthFetch` and `McpToolset` default it to the target URL's origin.
   */
  audience?: string;
  /**
   * Impersonate this service account (by email) through IAM Credentials, on top of the base
   * credential (with `useGcloudCredential`, gcloud's `--impersonate-service-account`).
   */
  impersonateServiceAccount?: string;
  /** Delegation chain for impersonation (service-account emails), as IAM Credentials takes it. */
  delegates?: string[];
}

/**
 * A credential, in one of several shapes selected by `authType`, as in ADK.
 *
 * @example
 * const credential: AuthCredential = {
 *   authType: AuthCredentialTypes.SERVICE_ACCOUNT,
 *   serviceAccount: {useDefaultCredential: true, useIdToken: true, audience: 'https://svc-abc.a.run.app'},
 * };
 */
export interface AuthCredential {
  authType: AuthCredentialType;
  resourceRef?: string;
  apiKey?: string;
  http?: HttpAuth;
  oauth2?: OAuth2Auth;
  serviceAccount?: ServiceAccount;
}

/**
 * An OpenAPI 3 security scheme, as ADK's `AuthScheme`. Only the fields this package reads
 * are typed; others pass through.
 */
export type AuthScheme =
  | {type: 'http'; scheme: string; bearerFormat?: string; description?: string}
  | {type: 'apiKey'; name: string; in: 'header' | 'query' | 'cookie'; description?: string}
  | {type: 'oauth2'; flows?: Record<string, unknown>; description?: string}
  | {type: 'openIdConnect'; openIdConnectUrl?: string; description?: string};
