import type {z} from 'zod';

import {InvalidCredentialError} from './errors.js';
import {
  GCLOUD_OAUTH_CLIENT_ID,
  gcloudMintsForAudience,
  gcloudUserAudience,
} from './gcloud-identity.js';
import {authCredentialSchema, serviceAccountSchema} from './schema.js';
import type {AuthCredential, ServiceAccount} from './types.js';

/** Options of {@link parseAuthCredential}. */
export interface ParseAuthCredentialOptions {
  /**
   * Whether `serviceAccount.useIdToken` needs an explicit `audience`. The exchanger needs
   * one (ADK semantics); `googleAuthFetch` and `McpToolset` default it to the target URL's
   * origin and parse with `false`. A gcloud user credential (`useGcloudCredential` without a
   * service account to mint as) never needs one: its audience is gcloud's client id.
   * Default is `true`.
   */
  requireAudience?: boolean;
}

/** Fields whose values are maps of names chosen by the user; their keys are kept as they are. */
const OPAQUE_MAPS = new Set(['additionalHeaders']);

/**
 * Reads an {@link AuthCredential} from camelCase (adk-js) or snake_case (ADK Python JSON)
 * input, or a JSON string of either. A raw Google key file is accepted as
 * `serviceAccountCredential`. Throws {@link InvalidCredentialError} naming the field path
 * and the fix; key material is never echoed.
 *
 * @example
 * const credential = parseAuthCredential({
 *   auth_type: 'serviceAccount',
 *   service_account: {use_default_credential: true, use_id_token: true, audience: 'https://svc-abc.a.run.app'},
 * });
 */
export function parseAuthCredential(
  input: unknown,
  options: ParseAuthCredentialOptions = {},
): AuthCredential {
  let value = input;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch (error) {
      throw new InvalidCredentialError(
        '',
        'is not valid JSON; pass an AuthCredential object or its JSON text',
        {cause: error},
      );
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidCredentialError(
      '',
      `an AuthCredential must be an object with an authType, got ${describeType(value)}`,
    );
  }
  const normalized = camelizeKeys(value, '');
  const parsed = authCredentialSchema.safeParse(normalized);
  if (!parsed.success) throw fromZodError(parsed.error);
  const credential = parsed.data as AuthCredential;
  checkShape(credential, options);
  return credential;
}

/**
 * Validates a {@link ServiceAccount} on its own (same rules and messages as
 * {@link parseAuthCredential}, paths start at `serviceAccount`).
 */
export function parseServiceAccount(
  input: unknown,
  options: ParseAuthCredentialOptions = {},
): ServiceAccount {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidCredentialError(
      'serviceAccount',
      `must be an object, got ${describeType(input)}`,
    );
  }
  const parsed = serviceAccountSchema.safeParse(camelizeKeys(input, 'serviceAccount'));
  if (!parsed.success) throw fromZodError(parsed.error, 'serviceAccount');
  const serviceAccount = parsed.data as ServiceAccount;
  checkServiceAccount(serviceAccount, options);
  return serviceAccount;
}

function checkShape(credential: AuthCredential, options: ParseAuthCredentialOptions): void {
  switch (credential.authType) {
    case 'serviceAccount':
      if (!credential.serviceAccount) {
        throw new InvalidCredentialError(
          'serviceAccount',
          "is required when authType is 'serviceAccount'; give {useDefaultCredential: true} or a serviceAccountCredential",
        );
      }
      checkServiceAccount(credential.serviceAccount, options);
      return;
    case 'apiKey':
      if (!credential.apiKey)
        throw new InvalidCredentialError('apiKey', "is required when authType is 'apiKey'");
      return;
    case 'http': {
      const http = credential.http;
      if (!http)
        throw new InvalidCredentialError(
          'http',
          "is required when authType is 'http'; give {scheme: 'bearer', credentials: {token}}",
        );
      const scheme = http.scheme.toLowerCase();
      if (scheme === 'bearer' && !http.credentials.token) {
        throw new InvalidCredentialError(
          'http.credentials.token',
          "is required for the 'bearer' scheme",
        );
      }
      if (
        scheme === 'basic' &&
        (!http.credentials.username || http.credentials.password === undefined)
      ) {
        throw new InvalidCredentialError(
          'http.credentials',
          "needs username and password for the 'basic' scheme",
        );
      }
      return;
    }
    case 'oauth2':
    case 'openIdConnect':
      if (!credential.oauth2)
        throw new InvalidCredentialError(
          'oauth2',
          `is required when authType is '${credential.authType}'`,
        );
      return;
  }
}

/**
 * The rules on where a {@link ServiceAccount}'s tokens come from, shared by parsing and by
 * `createTokenSource` (which also takes unparsed input): exactly one of a key,
 * `useDefaultCredential` and `useGcloudCredential`; `gcloudAccount` only with
 * `useGcloudCredential`; and `delegates` only with `impersonateServiceAccount`. Throws
 * {@link InvalidCredentialError}.
 */
export function checkServiceAccountSource(sa: ServiceAccount): void {
  const path = 'serviceAccount';
  const chosen = [
    sa.serviceAccountCredential ? 'serviceAccountCredential' : undefined,
    sa.useDefaultCredential ? 'useDefaultCredential' : undefined,
    sa.useGcloudCredential ? 'useGcloudCredential' : undefined,
  ].filter((name): name is string => name !== undefined);
  if (chosen.length === 0) {
    throw new InvalidCredentialError(
      path,
      'has neither a key nor default credentials; set serviceAccountCredential to the JSON key, useDefaultCredential: true to use Application Default Credentials, or useGcloudCredential: true to run as the account the gcloud CLI is logged in with',
    );
  }
  if (chosen.length > 1) {
    const [first, second] = chosen;
    throw new InvalidCredentialError(
      `${path}.${second}`,
      `is true while ${first} is also given; keep one of them`,
    );
  }
  if (sa.gcloudAccount !== undefined && !sa.useGcloudCredential) {
    throw new InvalidCredentialError(
      `${path}.gcloudAccount`,
      'applies only with useGcloudCredential: true; set it or remove gcloudAccount',
    );
  }
  if (sa.delegates !== undefined && !sa.impersonateServiceAccount) {
    throw new InvalidCredentialError(
      `${path}.delegates`,
      'apply only with impersonateServiceAccount; set it or remove delegates',
    );
  }
}

function checkServiceAccount(sa: ServiceAccount, options: ParseAuthCredentialOptions): void {
  const path = 'serviceAccount';
  checkServiceAccountSource(sa);
  if (sa.useGcloudCredential) checkGcloud(sa);
  const audienceRequired =
    (options.requireAudience ?? true) && gcloudUserAudience(sa) === undefined;
  if (sa.useIdToken && sa.audience === undefined && audienceRequired) {
    throw new InvalidCredentialError(
      `${path}.audience`,
      "is required when useIdToken is true; set it to the service URL's origin (Cloud Run), the full function URL (Cloud Run functions 1st gen) or the OAuth client id (IAP)",
    );
  }
  if (sa.audience !== undefined && !sa.useIdToken) {
    throw new InvalidCredentialError(
      `${path}.useIdToken`,
      'must be true when audience is set; an audience only applies to ID tokens (access tokens use scopes)',
    );
  }
  if (sa.useIdToken && sa.scopes) {
    throw new InvalidCredentialError(
      `${path}.scopes`,
      'apply only to access tokens; remove them or set useIdToken: false',
    );
  }
}

/** The rules of `useGcloudCredential`: ID tokens only, and an audience only where gcloud honours one. */
function checkGcloud(sa: ServiceAccount): void {
  const path = 'serviceAccount';
  if (!sa.useIdToken) {
    throw new InvalidCredentialError(
      `${path}.useIdToken`,
      'must be true with useGcloudCredential: the gcloud CLI is used for identity tokens (gcloud auth print-identity-token) only, never for access tokens',
    );
  }
  if (sa.audience !== undefined && !gcloudMintsForAudience(sa)) {
    throw new InvalidCredentialError(
      `${path}.audience`,
      `does not apply to a gcloud user account: gcloud mints a user's identity token for its own OAuth client id (${GCLOUD_OAUTH_CLIENT_ID}), which Cloud Run accepts from a user with roles/run.invoker, and refuses --audiences for users. ` +
        'Remove audience, or set gcloudAccount to a service account or impersonateServiceAccount to mint for this audience',
    );
  }
}

function fromZodError(error: z.ZodError, prefix = ''): InvalidCredentialError {
  const issue = error.issues[0];
  const segments = [prefix, ...(issue?.path ?? []).map(String)].filter((s) => s !== '');
  const path = segments.join('.');
  let message = issue?.message ?? 'is invalid';
  if (issue?.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
    message = `has unknown field${issue.keys.length > 1 ? 's' : ''} ${keys}; check the spelling (camelCase or snake_case of the ADK names)`;
  } else if (issue?.code === 'invalid_type') {
    message = `must be ${issue.expected}`;
  }
  return new InvalidCredentialError(path, message, {cause: error});
}

function camelizeKeys(value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((item, i) => camelizeKeys(item, `${path}.${i}`));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const camel = toCamel(key);
    const innerPath = path ? `${path}.${camel}` : camel;
    if (Object.hasOwn(out, camel) && !sameValue(out[camel], inner)) {
      throw new InvalidCredentialError(
        innerPath,
        `is given twice with different values (as ${JSON.stringify(key)} and its camelCase form); keep one`,
      );
    }
    out[camel] = OPAQUE_MAPS.has(camel) ? inner : camelizeKeys(inner, innerPath);
  }
  return out;
}

function toCamel(key: string): string {
  return key.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
