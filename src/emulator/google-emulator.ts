/**
 * An offline emulator of Google's auth endpoints on 127.0.0.1: the OAuth token endpoint
 * (JWT-bearer and refresh-token grants), the metadata server, IAM credentials, STS, and the
 * published ID-token keys. It speaks the wire protocols google-auth-library speaks, so the
 * code under test runs unchanged; point it here with {@link GoogleEmulator.env}.
 */
import {randomBytes} from 'node:crypto';
import {mkdtemp, rm} from 'node:fs/promises';
import {createServer} from 'node:http';
import type {IncomingMessage, Server, ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {createHash} from 'node:crypto';
import {mintIdToken} from './google/context.js';
import type {EmulatorContext} from './google/context.js';
import {
  CredentialFileWriter,
  authorizedUserJson,
  impersonationUrl,
  serviceAccountKeyJson,
  subjectTokenFor,
  workloadProviderAudience,
} from './google/credential-files.js';
import {emptyRequestCounts, resetRequestCounts} from './google/endpoints.js';
import type {EmulatorEndpoint, EmulatorRequestCounts} from './google/endpoints.js';
import {FaultInjector, faultReply, validateLatency} from './google/faults.js';
import type {EmulatorFault} from './google/faults.js';
import {googleApiError} from './google/http.js';
import type {EmulatorReply, EmulatorRequest} from './google/http.js';
import {classifyIamPath, handleIam} from './google/iam-credentials.js';
import {IdentityRegistry} from './google/identities.js';
import {IAP_ISSUER, IapKeyRing, generateIapKeyPair} from './google/iap-keys.js';
import {
  handleIapJwks,
  handleJwks,
  handleOpenIdConfiguration,
  handlePemCerts,
} from './google/jwks.js';
import {METADATA_PREFIX, classifyMetadataPath, handleMetadata} from './google/metadata-server.js';
import {RsaKeyPool, generateRsaKeyPair} from './google/rsa-keys.js';
import {SigningKeyRing} from './google/signing-keys.js';
import {handleSts} from './google/sts.js';
import {handleToken} from './google/token-endpoint.js';

export type {EmulatorEndpoint, EmulatorRequestCounts} from './google/endpoints.js';
export type {EmulatorFault} from './google/faults.js';

/** Options of {@link startGoogleEmulator}. */
export interface GoogleEmulatorOptions {
  /** TCP port on 127.0.0.1. Default is 0 (an ephemeral port). */
  port?: number;
  /** The project id the emulator stands for. Default is `'emulator-project'`. */
  projectId?: string;
  /** Lifetime of issued access and ID tokens, seconds (positive integer). Default is 3600 (1 hour). */
  tokenLifetimeSeconds?: number;
  /** Delay added to every answer, milliseconds. Default is 0. */
  latencyMs?: number;
  /** The clock for `iat`/`exp` and for every validity check, epoch milliseconds. Default is `Date.now`. */
  now?: () => number;
  /** The metadata server's default service account. Default is `default@<projectId>.iam.gserviceaccount.com`. */
  metadataServiceAccount?: string;
}

/** A service-account key file written by the emulator. */
export interface EmulatorServiceAccountKey {
  /** The account. */
  email: string;
  /** Path of the key file (JSON, mode 0600). */
  path: string;
  /** The key file's content (snake_case, as Google writes it; `private_key` is PKCS#8 PEM). */
  json: Record<string, string>;
}

/** An authorized_user (gcloud ADC) file written by the emulator. */
export interface EmulatorAuthorizedUser {
  /** Path of the file. */
  path: string;
  /** Its content. */
  json: Record<string, string>;
  /** The OAuth client id: the `aud` of every ID token this user gets. */
  clientId: string;
  /** The user's email. */
  email: string;
}

/** Options of {@link GoogleEmulator.createImpersonatedServiceAccountFile}. */
export interface ImpersonatedServiceAccountFileOptions {
  /** The service account to impersonate. */
  targetEmail: string;
  /** The delegation chain (emails). Default is none. */
  delegates?: string[];
  /** The kind of source credentials embedded in the file. Default is `'service_account'` (a fresh key). */
  source?: 'service_account' | 'authorized_user';
}

/** An impersonated_service_account file written by the emulator. */
export interface EmulatorImpersonatedFile {
  /** Path of the file. */
  path: string;
  /** Its content. */
  json: Record<string, unknown>;
  /** The principal of the embedded source credentials. */
  sourceEmail: string;
}

/** Options of {@link GoogleEmulator.createExternalAccountFile}. */
export interface ExternalAccountFileOptions {
  /** The service account impersonated through `service_account_impersonation_url`. Default is `workload@<projectId>.iam.gserviceaccount.com`. */
  serviceAccountEmail?: string;
}

/** An external_account (workload identity federation, file-sourced) file written by the emulator. */
export interface EmulatorExternalAccountFile {
  /** Path of the file. */
  path: string;
  /** Its content. */
  json: Record<string, unknown>;
  /** Path of the subject token file named in `credential_source.file`. */
  subjectTokenPath: string;
  /** The federated principal STS tokens stand for. */
  principal: string;
  /** The impersonated service account. */
  serviceAccountEmail: string;
}

/** Options of {@link GoogleEmulator.mintIdToken}. */
export interface MintIdTokenOptions {
  /** The `aud` claim. */
  audience: string;
  /** The `email` claim (its numeric id is the `sub`). Default is the metadata service account. */
  email?: string;
  /** `exp - iat`, seconds. Default is the emulator's token lifetime. */
  lifetimeSeconds?: number;
  /** `iat`, epoch seconds. Default is the emulator's clock. */
  issuedAt?: number;
  /** Extra claims, applied last (they may override the standard ones). */
  claims?: Record<string, unknown>;
}

/** Options of {@link GoogleEmulator.mintIapAssertion}. */
export interface MintIapAssertionOptions {
  /** The `email` claim: the user IAP let in. Default: none (then `sub` is required). */
  email?: string;
  /** The `sub` claim. Default is `accounts.google.com:` and the email's numeric id. */
  sub?: string;
  /** The `aud` claim. Default is the emulator's {@link GoogleEmulator.iapAudience}. */
  audience?: string;
  /** `exp - iat`, seconds. Default is 600 (10 minutes, as IAP). */
  lifetimeSeconds?: number;
  /** `iat`, epoch seconds. Default is the emulator's clock. */
  issuedAt?: number;
  /** Extra claims, applied last (they may override the standard ones). */
  claims?: Record<string, unknown>;
}

/**
 * What signs IAP's `x-goog-iap-jwt-assertion`: a {@link GoogleEmulator} (give it to
 * `startCloudRunGateway({mode: 'iap', iapIssuer: emulator})`).
 */
export interface IapAssertionIssuer {
  /** The audience of the assertions (the backend's `/projects/.../backendServices/...`). */
  readonly iapAudience: string;
  /** An assertion signed with the current IAP key. */
  mintIapAssertion(options: MintIapAssertionOptions): Promise<string>;
}

/** A running emulator. */
export interface GoogleEmulator extends IapAssertionIssuer {
  /** Origin, `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `127.0.0.1:PORT`: the value for `GOOGLE_AUTH_EMULATOR_HOST` and `GCE_METADATA_HOST`. */
  readonly host: string;
  /** `url + '/oauth2/v3/certs'`: the ID-token keys (pass it as a verifier's `jwksUrl`). */
  readonly jwksUrl: string;
  /**
   * `url + '/iap/verify/public_key-jwk'`: IAP's ES256 keys (pass it as `verifyIapJwt`'s
   * `jwksUrl`); Google publishes them at `https://www.gstatic.com/iap/verify/public_key-jwk`.
   */
  readonly iapJwksUrl: string;
  /**
   * The audience of the IAP assertions it signs by default:
   * `/projects/<projectNumber>/global/backendServices/<id>`, as for a backend behind a load
   * balancer with IAP.
   */
  readonly iapAudience: string;
  /** The project id. */
  readonly projectId: string;
  /** The metadata server's default service account. */
  readonly metadataServiceAccount: string;
  /** Directory holding the credential files (removed by `close`). */
  readonly directory: string;
  /** Live request counts (mutated in place). */
  readonly requests: EmulatorRequestCounts;
  /**
   * The environment that routes google-auth-library here: `GOOGLE_AUTH_EMULATOR_HOST`,
   * `GCE_METADATA_HOST`, `METADATA_SERVER_DETECTION=assume-present`, `GOOGLE_CLOUD_PROJECT`.
   */
  env(): Record<string, string>;
  /** Writes a key file with a fresh RSA key for `email` (default: a new `sa-N@<project>.iam.gserviceaccount.com`). */
  createServiceAccountKey(email?: string): Promise<EmulatorServiceAccountKey>;
  /** Writes an authorized_user file for a new user of the emulator's OAuth client. */
  createAuthorizedUserFile(): Promise<EmulatorAuthorizedUser>;
  /** Writes an impersonated_service_account file (with fresh source credentials). */
  createImpersonatedServiceAccountFile(
    options: ImpersonatedServiceAccountFileOptions,
  ): Promise<EmulatorImpersonatedFile>;
  /** Writes an external_account file and its subject token file. */
  createExternalAccountFile(
    options?: ExternalAccountFileOptions,
  ): Promise<EmulatorExternalAccountFile>;
  /** An ID token signed with the current key, as Google would issue it. */
  mintIdToken(options: MintIdTokenOptions): Promise<string>;
  /** Generates a new current signing key; the previous stays published. */
  rotateSigningKey(): Promise<{kid: string}>;
  /** Generates a new current IAP signing key; the previous stays published. */
  rotateIapSigningKey(): Promise<{kid: string}>;
  /** Stops publishing `kid`. Throws a TypeError for the current key. */
  retireSigningKey(kid: string): void;
  /** The `kid` of the current signing key. */
  currentSigningKeyId(): string;
  /** Sets the lifetime of tokens issued from now on, seconds (positive integer). */
  setTokenLifetime(seconds: number): void;
  /** Sets the delay added to every answer, milliseconds. */
  setLatency(ms: number): void;
  /** Injects a fault into the next `count` matching requests. */
  fault(fault: EmulatorFault): void;
  /** Removes pending faults. */
  clearFaults(): void;
  /** IAM answers 403 PERMISSION_DENIED when `callerEmail` impersonates `targetEmail` (`'*'` matches anyone). */
  denyImpersonation(callerEmail: string, targetEmail: string): void;
  /** Sets every request count to zero. */
  resetCounts(): void;
  /** Stops the server, drops its connections and removes the credential files. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
/** Where IAP's keys are published (www.gstatic.com's path). */
const IAP_JWKS_PATH = '/iap/verify/public_key-jwk';
/** Lifetime of an IAP assertion, seconds. */
const IAP_ASSERTION_LIFETIME_SECONDS = 600;

function checkPositiveInteger(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new TypeError(
      `${option} must be a positive integer number of seconds, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function checkEmail(value: unknown, option: string): string {
  if (typeof value !== 'string' || !/^[^@\s/]+@[^@\s/]+$/.test(value)) {
    throw new TypeError(`${option} must be an email address, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A stable number of `length` digits (no leading zero) derived from `seed`. */
function digitsOf(seed: string, length: number): string {
  const digest = createHash('sha256').update(seed).digest();
  let digits = String(((digest[0] ?? 0) % 9) + 1);
  for (let i = 1; digits.length < length; i++) digits += String((digest[i] ?? 0) % 10);
  return digits;
}

function projectNumberOf(projectId: string): string {
  return digitsOf(`project:${projectId}`, 12);
}

/** The endpoint a request counts under, or `undefined` for an unknown path. */
function classify(path: string): EmulatorEndpoint | undefined {
  if (path === '/token') return 'token';
  if (path === '/v1/token') return 'sts';
  if (path === '/oauth2/v3/certs' || path === '/oauth2/v1/certs') return 'jwks';
  if (path === '/.well-known/openid-configuration') return 'openid-configuration';
  if (path === IAP_JWKS_PATH) return 'iap.jwks';
  if (path === METADATA_PREFIX || path.startsWith(`${METADATA_PREFIX}/`))
    return classifyMetadataPath(path.slice(METADATA_PREFIX.length));
  return classifyIamPath(path);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function send(res: ServerResponse, reply: EmulatorReply): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(reply.status, {...reply.headers, 'content-length': Buffer.byteLength(reply.body)});
  res.end(reply.body);
}

class RunningGoogleEmulator implements GoogleEmulator, EmulatorContext {
  readonly url: string;
  readonly host: string;
  readonly jwksUrl: string;
  readonly iapJwksUrl: string;
  readonly iapAudience: string;
  readonly projectId: string;
  readonly projectNumber: string;
  readonly metadataServiceAccount: string;
  readonly directory: string;
  readonly requests: EmulatorRequestCounts = emptyRequestCounts();
  readonly keys: SigningKeyRing;
  readonly iapKeys: IapKeyRing;
  readonly identities = new IdentityRegistry();
  readonly now: () => number;

  readonly #server: Server;
  readonly #pool: RsaKeyPool;
  readonly #files: CredentialFileWriter;
  readonly #faults: FaultInjector;
  readonly #oauthClientId: string;
  readonly #oauthClientSecret: string;
  #lifetime: number;
  #closed: Promise<void> | undefined;

  constructor(init: {
    server: Server;
    port: number;
    projectId: string;
    metadataServiceAccount: string;
    directory: string;
    keys: SigningKeyRing;
    iapKeys: IapKeyRing;
    pool: RsaKeyPool;
    now: () => number;
    lifetime: number;
    latencyMs: number;
  }) {
    this.#server = init.server;
    this.host = `127.0.0.1:${init.port}`;
    this.url = `http://${this.host}`;
    this.jwksUrl = `${this.url}/oauth2/v3/certs`;
    this.iapJwksUrl = `${this.url}${IAP_JWKS_PATH}`;
    this.projectId = init.projectId;
    this.projectNumber = projectNumberOf(init.projectId);
    this.iapAudience = `/projects/${this.projectNumber}/global/backendServices/${digitsOf(`backend:${init.projectId}`, 19)}`;
    this.iapKeys = init.iapKeys;
    this.metadataServiceAccount = init.metadataServiceAccount;
    this.directory = init.directory;
    this.keys = init.keys;
    this.#pool = init.pool;
    this.now = init.now;
    this.#lifetime = init.lifetime;
    this.#faults = new FaultInjector(init.latencyMs);
    this.#files = new CredentialFileWriter(init.directory);
    this.#oauthClientId = `${this.projectNumber}-emulator.apps.googleusercontent.com`;
    this.#oauthClientSecret = `emu-secret-${randomBytes(12).toString('base64url')}`;
  }

  tokenLifetimeSeconds(): number {
    return this.#lifetime;
  }

  env(): Record<string, string> {
    return {
      GOOGLE_AUTH_EMULATOR_HOST: this.host,
      GCE_METADATA_HOST: this.host,
      METADATA_SERVER_DETECTION: 'assume-present',
      GOOGLE_CLOUD_PROJECT: this.projectId,
    };
  }

  async createServiceAccountKey(email?: string): Promise<EmulatorServiceAccountKey> {
    const account =
      email === undefined
        ? `sa-${this.#files.next()}@${this.projectId}.iam.gserviceaccount.com`
        : checkEmail(email, 'createServiceAccountKey(email)');
    const pair = await this.#pool.take();
    this.identities.addServiceAccountKey({
      email: account,
      kid: pair.kid,
      publicKey: pair.publicKey,
    });
    const json = serviceAccountKeyJson(this, account, pair);
    const path = await this.#files.write('service-account', json);
    return {email: account, path, json};
  }

  async createAuthorizedUserFile(): Promise<EmulatorAuthorizedUser> {
    const email = `user-${this.#files.next()}@example.com`;
    const {json, refreshToken} = authorizedUserJson(
      this.#oauthClientId,
      this.#oauthClientSecret,
      this.projectId,
    );
    this.identities.addUser({
      email,
      clientId: this.#oauthClientId,
      clientSecret: this.#oauthClientSecret,
      refreshToken,
    });
    const path = await this.#files.write('authorized-user', json);
    return {path, json, clientId: this.#oauthClientId, email};
  }

  async createImpersonatedServiceAccountFile(
    options: ImpersonatedServiceAccountFileOptions,
  ): Promise<EmulatorImpersonatedFile> {
    if (options === null || typeof options !== 'object')
      throw new TypeError('createImpersonatedServiceAccountFile: options must be an object');
    const targetEmail = checkEmail(options.targetEmail, 'targetEmail');
    const delegates = options.delegates ?? [];
    if (!Array.isArray(delegates)) throw new TypeError('delegates must be an array of emails');
    delegates.forEach((d, i) => checkEmail(d, `delegates[${i}]`));
    const sourceKind = options.source ?? 'service_account';
    if (sourceKind !== 'service_account' && sourceKind !== 'authorized_user') {
      throw new TypeError(
        `source must be 'service_account' or 'authorized_user', got ${JSON.stringify(sourceKind)}`,
      );
    }
    const source =
      sourceKind === 'service_account'
        ? await this.createServiceAccountKey()
        : await this.createAuthorizedUserFile();
    const json = {
      type: 'impersonated_service_account',
      service_account_impersonation_url: impersonationUrl(targetEmail),
      delegates: delegates.map((d) => `projects/-/serviceAccounts/${d}`),
      source_credentials: source.json,
    };
    const path = await this.#files.write('impersonated-service-account', json);
    return {path, json, sourceEmail: source.email};
  }

  async createExternalAccountFile(
    options: ExternalAccountFileOptions = {},
  ): Promise<EmulatorExternalAccountFile> {
    const serviceAccountEmail =
      options.serviceAccountEmail === undefined
        ? `workload@${this.projectId}.iam.gserviceaccount.com`
        : checkEmail(options.serviceAccountEmail, 'serviceAccountEmail');
    const audience = workloadProviderAudience(this);
    const subject = `workload-${this.#files.next()}`;
    const principal = `principal://iam.googleapis.com/projects/${this.projectNumber}/locations/global/workloadIdentityPools/emulator-pool/subject/${subject}`;
    const subjectToken = subjectTokenFor(this, subject, audience);
    this.identities.addSubjectToken(subjectToken, {audience, principal});
    const subjectTokenPath = await this.#files.writeText('subject-token', subjectToken);
    const json = {
      type: 'external_account',
      audience,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: 'https://sts.googleapis.com/v1/token',
      service_account_impersonation_url: impersonationUrl(serviceAccountEmail),
      credential_source: {file: subjectTokenPath, format: {type: 'text'}},
      universe_domain: 'googleapis.com',
    };
    const path = await this.#files.write('external-account', json);
    return {path, json, subjectTokenPath, principal, serviceAccountEmail};
  }

  async mintIdToken(options: MintIdTokenOptions): Promise<string> {
    if (
      options === null ||
      typeof options !== 'object' ||
      typeof options.audience !== 'string' ||
      options.audience === ''
    ) {
      throw new TypeError('mintIdToken: audience must be a non-empty string');
    }
    if (options.lifetimeSeconds !== undefined)
      checkPositiveInteger(options.lifetimeSeconds, 'lifetimeSeconds');
    if (
      options.issuedAt !== undefined &&
      (typeof options.issuedAt !== 'number' || !Number.isFinite(options.issuedAt))
    ) {
      throw new TypeError(
        `issuedAt must be epoch seconds, got ${JSON.stringify(options.issuedAt)}`,
      );
    }
    return mintIdToken(this, {
      audience: options.audience,
      email:
        options.email === undefined
          ? this.metadataServiceAccount
          : checkEmail(options.email, 'email'),
      ...(options.lifetimeSeconds === undefined ? {} : {lifetimeSeconds: options.lifetimeSeconds}),
      ...(options.issuedAt === undefined ? {} : {issuedAt: options.issuedAt}),
      ...(options.claims === undefined ? {} : {claims: options.claims}),
    });
  }

  async mintIapAssertion(options: MintIapAssertionOptions): Promise<string> {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('mintIapAssertion: options must be an object with email or sub');
    }
    const email = options.email === undefined ? undefined : checkEmail(options.email, 'email');
    if (options.sub !== undefined && (typeof options.sub !== 'string' || options.sub === '')) {
      throw new TypeError('mintIapAssertion: sub must be a non-empty string');
    }
    if (email === undefined && options.sub === undefined) {
      throw new TypeError('mintIapAssertion: give email or sub (the user IAP let in)');
    }
    if (
      options.audience !== undefined &&
      (typeof options.audience !== 'string' || options.audience === '')
    ) {
      throw new TypeError('mintIapAssertion: audience must be a non-empty string');
    }
    const lifetime =
      options.lifetimeSeconds === undefined
        ? IAP_ASSERTION_LIFETIME_SECONDS
        : checkPositiveInteger(options.lifetimeSeconds, 'lifetimeSeconds');
    if (
      options.issuedAt !== undefined &&
      (typeof options.issuedAt !== 'number' || !Number.isFinite(options.issuedAt))
    ) {
      throw new TypeError(
        `issuedAt must be epoch seconds, got ${JSON.stringify(options.issuedAt)}`,
      );
    }
    const iat = options.issuedAt ?? Math.floor(this.now() / 1000);
    const sub = options.sub ?? `accounts.google.com:${this.identities.numericId(email as string)}`;
    return this.iapKeys.sign({
      aud: options.audience ?? this.iapAudience,
      ...(email === undefined ? {} : {email}),
      exp: iat + lifetime,
      iat,
      iss: IAP_ISSUER,
      sub,
      identity_source: 'GOOGLE',
      ...options.claims,
    });
  }

  async rotateIapSigningKey(): Promise<{kid: string}> {
    const pair = await generateIapKeyPair();
    this.iapKeys.add(pair);
    return {kid: pair.kid};
  }

  async rotateSigningKey(): Promise<{kid: string}> {
    const pair = await this.#pool.take();
    this.keys.add(pair);
    return {kid: pair.kid};
  }

  retireSigningKey(kid: string): void {
    if (typeof kid !== 'string')
      throw new TypeError(`retireSigningKey: kid must be a string, got ${JSON.stringify(kid)}`);
    this.keys.retire(kid);
  }

  currentSigningKeyId(): string {
    return this.keys.current.kid;
  }

  setTokenLifetime(seconds: number): void {
    this.#lifetime = checkPositiveInteger(seconds, 'setTokenLifetime(seconds)');
  }

  setLatency(ms: number): void {
    this.#faults.latencyMs = validateLatency(ms, 'setLatency(ms)');
  }

  fault(fault: EmulatorFault): void {
    this.#faults.add(fault);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  denyImpersonation(callerEmail: string, targetEmail: string): void {
    if (typeof callerEmail !== 'string' || callerEmail === '')
      throw new TypeError('denyImpersonation: callerEmail must be a non-empty string');
    if (typeof targetEmail !== 'string' || targetEmail === '')
      throw new TypeError('denyImpersonation: targetEmail must be a non-empty string');
    this.identities.deny(callerEmail, targetEmail);
  }

  resetCounts(): void {
    resetRequestCounts(this.requests);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#pool.close();
      await new Promise<void>((resolve) => {
        this.#server.close(() => resolve());
        this.#server.closeAllConnections();
      });
      await rm(this.directory, {recursive: true, force: true});
    })();
    return this.#closed;
  }

  /** Serves one request. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const endpoint = classify(url.pathname);
    this.requests.total += 1;
    if (endpoint) this.requests.byEndpoint[endpoint] += 1;
    const body = await readBody(req);
    const fault = this.#faults.take(endpoint);
    await delay(this.#faults.latencyMs + (fault?.latencyMs ?? 0));
    if (fault?.reset) {
      req.socket.destroy();
      return;
    }
    if (fault?.stall) {
      // Silent until the client gives up or the emulator closes its connections.
      if (!res.destroyed) await new Promise<void>((resolve) => res.once('close', resolve));
      return;
    }
    if (body === undefined) return send(res, googleApiError(413, 'Request body too large.'));
    const injected = fault && faultReply(fault, endpoint);
    if (injected) return send(res, injected);
    const request: EmulatorRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      url,
      headers: req.headers,
      body,
    };
    send(res, this.#route(endpoint, request));
  }

  #route(endpoint: EmulatorEndpoint | undefined, request: EmulatorRequest): EmulatorReply {
    const method = request.method;
    switch (endpoint) {
      case undefined:
        return googleApiError(404, `No emulated endpoint at ${request.url.pathname.slice(0, 200)}`);
      case 'token':
        return method === 'POST'
          ? handleToken(this, request)
          : googleApiError(405, 'POST required.');
      case 'sts':
        return method === 'POST' ? handleSts(this, request) : googleApiError(405, 'POST required.');
      case 'jwks':
        if (method !== 'GET') return googleApiError(405, 'GET required.');
        return request.url.pathname === '/oauth2/v1/certs'
          ? handlePemCerts(this)
          : handleJwks(this);
      case 'openid-configuration':
        return method === 'GET'
          ? handleOpenIdConfiguration(this)
          : googleApiError(405, 'GET required.');
      case 'iap.jwks':
        return method === 'GET' ? handleIapJwks(this) : googleApiError(405, 'GET required.');
      case 'iam.generateIdToken':
      case 'iam.generateAccessToken':
        return handleIam(this, request);
      default:
        return handleMetadata(this, request);
    }
  }
}

/**
 * Starts an emulator of Google's auth endpoints on 127.0.0.1.
 *
 * @example
 * const emu = await startGoogleEmulator();
 * const key = await emu.createServiceAccountKey();
 * // give google-auth-library a transporter whose fetch is createGoogleFetch({emulatorHost: emu.host})
 * await emu.close();
 */
export async function startGoogleEmulator(
  options: GoogleEmulatorOptions = {},
): Promise<GoogleEmulator> {
  if (options === null || typeof options !== 'object')
    throw new TypeError('options must be an object');
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError(`port must be an integer 0-65535, got ${JSON.stringify(port)}`);
  const projectId = options.projectId ?? 'emulator-project';
  if (typeof projectId !== 'string' || !/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(projectId)) {
    throw new TypeError(
      `projectId must be a Google project id (6-30 lower-case letters, digits, hyphens), got ${JSON.stringify(projectId)}`,
    );
  }
  const lifetime = checkPositiveInteger(
    options.tokenLifetimeSeconds ?? 3600,
    'tokenLifetimeSeconds',
  );
  const latencyMs = validateLatency(options.latencyMs ?? 0, 'latencyMs');
  const now = options.now ?? Date.now;
  if (typeof now !== 'function')
    throw new TypeError('now must be a function returning epoch milliseconds');
  const metadataServiceAccount = checkEmail(
    options.metadataServiceAccount ?? `default@${projectId}.iam.gserviceaccount.com`,
    'metadataServiceAccount',
  );

  const pool = new RsaKeyPool();
  pool.prefill();
  const [signingKey, iapKey, directory] = await Promise.all([
    generateRsaKeyPair(),
    generateIapKeyPair(),
    mkdtemp(join(tmpdir(), 'mcp-google-auth-emulator-')),
  ]);
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    pool.close();
    await rm(directory, {recursive: true, force: true});
    throw error;
  }
  const address = server.address() as AddressInfo;
  const emulator = new RunningGoogleEmulator({
    server,
    port: address.port,
    projectId,
    metadataServiceAccount,
    directory,
    keys: new SigningKeyRing(signingKey, now),
    iapKeys: new IapKeyRing(iapKey),
    pool,
    now,
    lifetime,
    latencyMs,
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    emulator.handle(req, res).catch(() => send(res, googleApiError(500, 'Emulator failure.')));
  });
  return emulator;
}
