/**
 * Credential files the emulator writes, in the formats Google's tools write and
 * google-auth-library reads: service_account keys, authorized_user (gcloud ADC),
 * impersonated_service_account, and external_account (workload identity federation, file
 * source). Every file lands in the emulator's temporary directory.
 */
import {randomBytes} from 'node:crypto';
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import type {EmulatorContext} from './context.js';
import type {RsaKeyPair} from './rsa-keys.js';
import {signRs256} from './jwt.js';

/** The iamcredentials URL that a credential file names for impersonating `email`. */
export function impersonationUrl(email: string): string {
  return `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${email}:generateAccessToken`;
}

/** Writes credential files into one directory. */
export class CredentialFileWriter {
  readonly #dir: string;
  #counter = 0;

  /** `dir`: an existing directory owned by the emulator. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** A fresh sequence number (1, 2, ...). */
  next(): number {
    this.#counter += 1;
    return this.#counter;
  }

  /** Writes `json` as `<name>-<n>.json` (mode 0600) and returns the path. */
  async write(name: string, json: unknown): Promise<string> {
    const path = join(this.#dir, `${name}-${this.next()}.json`);
    await writeFile(path, `${JSON.stringify(json, null, 2)}\n`, {mode: 0o600});
    return path;
  }

  /** Writes a text file (mode 0600) and returns the path. */
  async writeText(name: string, text: string): Promise<string> {
    const path = join(this.#dir, `${name}-${this.next()}`);
    await writeFile(path, text, {mode: 0o600});
    return path;
  }
}

/** The JSON of a service-account key file for `email`, holding `pair`. */
export function serviceAccountKeyJson(
  context: EmulatorContext,
  email: string,
  pair: RsaKeyPair,
): Record<string, string> {
  return {
    type: 'service_account',
    project_id: context.projectId,
    private_key_id: pair.kid,
    private_key: String(pair.privateKey.export({type: 'pkcs8', format: 'pem'})),
    client_email: email,
    client_id: context.identities.numericId(email),
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
    universe_domain: 'googleapis.com',
  };
}

/** A fresh authorized user of `clientId` and the JSON of its ADC file. */
export function authorizedUserJson(
  clientId: string,
  clientSecret: string,
  quotaProject: string,
): {json: Record<string, string>; refreshToken: string} {
  const refreshToken = `1//emu-${randomBytes(24).toString('base64url')}`;
  return {
    refreshToken,
    json: {
      type: 'authorized_user',
      client_id: clientId,
      client_secret: clientSecret,
      refresh_token: refreshToken,
      quota_project_id: quotaProject,
      universe_domain: 'googleapis.com',
    },
  };
}

/** The workload identity pool provider audience of the emulator's project. */
export function workloadProviderAudience(context: EmulatorContext): string {
  return `//iam.googleapis.com/projects/${context.projectNumber}/locations/global/workloadIdentityPools/emulator-pool/providers/emulator-provider`;
}

/** A subject token (a JWT from a fictitious OIDC provider) for `subject`, signed by the emulator. */
export function subjectTokenFor(
  context: EmulatorContext,
  subject: string,
  audience: string,
): string {
  const iat = Math.floor(context.now() / 1000);
  return signRs256(
    {iss: 'https://oidc.emulator.invalid', sub: subject, aud: audience, iat, exp: iat + 3600},
    context.keys.current.privateKey,
    context.keys.current.kid,
  );
}
