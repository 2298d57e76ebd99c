import {readFileSync, statSync} from 'node:fs';
import {homedir} from 'node:os';
import {join, resolve} from 'node:path';
import {
  BaseExternalAccountClient,
  Compute,
  GoogleAuth,
  Impersonated,
  JWT,
  UserRefreshClient,
  gcpMetadata,
  type AuthClient,
  type GoogleAuthOptions,
} from 'google-auth-library';
import {CredentialExchangeError} from '../../credentials/errors.js';
import {defaultTokenCache, type TokenCache} from '../token-cache.js';
import type {
  CredentialDescription,
  CredentialKind,
  Token,
  TokenRequest,
  TokenSource,
} from '../token-source.js';
import {ClientSource} from './client-source.js';
import {credentialHolderKey} from './holder-key.js';
import {describeRequest, exchangeFailure, type FailureContext} from './exchange-failure.js';
import type {GoogleTransport} from './google-auth-transport.js';
import {CLOUD_PLATFORM_SCOPE, ImpersonatedSource} from './impersonated-source.js';
import {
  FEDERATION_ID_TOKEN_NOTE,
  USER_ID_TOKEN_NOTE,
  idTokenRefusedForFederation,
  idTokenRefusedForUser,
} from './id-token-refusals.js';
import {metadataAccessToken, metadataIdToken} from './metadata-client.js';
import {abortable, accessToken, clientAccessToken, idToken} from './token-results.js';

/**
 * Application Default Credentials, in every form google-auth-library finds them: a key file
 * or any other credential file named by `GOOGLE_APPLICATION_CREDENTIALS` or left by
 * `gcloud auth application-default login`, or the metadata server (Cloud Run, GKE, GCE).
 * google-auth-library resolves and mints; this file picks the way to an ID token for each
 * form and keeps one resolution per process.
 */

/** Largest credential file read to name its holder, in bytes. */
const MAX_CREDENTIAL_FILE_BYTES = 1024 * 1024;

/** Where ADC will look, in words: the file named by the environment, or the default search. */
function adcLocation(env: NodeJS.ProcessEnv): string {
  const file = env.GOOGLE_APPLICATION_CREDENTIALS;
  if (file) return `adc:file:${resolve(file)}`;
  const parts = ['adc:default'];
  if (env.CLOUDSDK_CONFIG) parts.push(`gcloud=${resolve(env.CLOUDSDK_CONFIG)}`);
  const metadata = env.GCE_METADATA_HOST || env.GCE_METADATA_IP;
  if (metadata) parts.push(`metadata=${metadata}`);
  return parts.join(':');
}

/** The JSON object in `path`, or undefined when it cannot be read as one. */
function readCredentialFile(path: string): Record<string, unknown> | undefined {
  try {
    if (statSync(path).size > MAX_CREDENTIAL_FILE_BYTES) return undefined;
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * gcloud's ADC file as google-auth-library finds it (it reads `process.env` itself:
 * `CLOUDSDK_CONFIG`, else `APPDATA` on Windows or `HOME`), when it exists.
 */
function gcloudCredentialFile(): string | undefined {
  const env = process.env;
  const dir =
    env.CLOUDSDK_CONFIG ||
    (process.platform === 'win32'
      ? env.APPDATA && join(env.APPDATA, 'gcloud')
      : join(env.HOME || homedir(), '.config', 'gcloud'));
  if (!dir) return undefined;
  const file = join(dir, 'application_default_credentials.json');
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `id` of an ADC source: the holder key of the credential ADC will use (see
 * {@link credentialHolderKey}), read from the file the environment names (or gcloud's ADC
 * file); the metadata server's host when there is no file. A file that cannot be read is
 * named by its path (resolution will fail on it anyway). Never what a file declares about
 * itself: two files with the same path or the same `client_email` but other keys are
 * different credentials.
 */
export function adcSourceId(env: NodeJS.ProcessEnv): string {
  const file = env.GOOGLE_APPLICATION_CREDENTIALS || gcloudCredentialFile();
  if (file) {
    const json = readCredentialFile(file);
    return json ? `adc:${credentialHolderKey(json)}` : `adc:unreadable:${resolve(file)}`;
  }
  return `adc:metadata:${env.GCE_METADATA_HOST || env.GCE_METADATA_IP || 'default'}`;
}

/** How a resolved credential mints each kind of token, and how it describes itself. */
interface Resolved {
  readonly kind: CredentialKind;
  readonly origin: string;
  id(audience: string, signal: AbortSignal | undefined, cache: TokenCache): Promise<Token>;
  access(
    scopes: readonly string[],
    signal: AbortSignal | undefined,
    cache: TokenCache,
  ): Promise<Token>;
  describe(): Promise<CredentialDescription>;
}

/**
 * What each GoogleAuth is told the project is when the environment does not say. Without a
 * project id, google-auth-library looks one up while it resolves credentials (`getClient`):
 * it runs `gcloud config config-helper` (1 to 3 s) and then asks the metadata server, on
 * every process start, for a value that minting tokens never uses (a proxy started without
 * `GOOGLE_CLOUD_PROJECT`, e.g. by a client that strips `GOOGLE_*` variables, took 2 to 3 s to
 * start). This placeholder is only ever returned by `GoogleAuth.getProjectId`, which this
 * file does not call; `describe()` looks the project up itself.
 */
const PROJECT_LOOKUP_SKIPPED = 'mcp-google-auth-project-not-looked-up';

/** One process-wide resolution of ADC for one environment and one routing. */
class AdcState {
  readonly #id: string;
  readonly #transport: GoogleTransport;
  readonly #auths = new Map<string, GoogleAuth>();
  #resolved: Promise<Resolved> | undefined;
  /** google-auth-library's own project lookup (gcloud, the metadata server), for `describe()` only. */
  #projectLookup: Promise<string | undefined> | undefined;

  constructor(id: string, transport: GoogleTransport) {
    this.#id = id;
    this.#transport = transport;
  }

  get #env(): NodeJS.ProcessEnv {
    return this.#transport.env;
  }

  get #projectId(): string | undefined {
    return this.#env.GOOGLE_CLOUD_PROJECT || this.#env.GCLOUD_PROJECT || undefined;
  }

  /** The project as google-auth-library finds it (may run gcloud); only for `describe()`. */
  #lookUpProject(): Promise<string | undefined> {
    const known = this.#projectId;
    if (known) return Promise.resolve(known);
    const file = this.#env.GOOGLE_APPLICATION_CREDENTIALS;
    this.#projectLookup ??= new GoogleAuth({
      clientOptions: this.#transport.clientOptions(),
      ...(file ? {keyFilename: file} : {}),
    })
      .getProjectId()
      .then(
        (id) => id || undefined,
        () => undefined,
      );
    return this.#projectLookup;
  }

  get #fileOrigin(): string {
    const file = this.#env.GOOGLE_APPLICATION_CREDENTIALS;
    if (file) return `GOOGLE_APPLICATION_CREDENTIALS (${file})`;
    return `gcloud application-default credentials (${wellKnownFile(this.#env)})`;
  }

  get #metadataOrigin(): string {
    // gcp-metadata reads these from process.env itself.
    const host = process.env.GCE_METADATA_IP || process.env.GCE_METADATA_HOST || '169.254.169.254';
    return `metadata server (${host})`;
  }

  /** A GoogleAuth for one scope set (google-auth-library binds scopes at resolution). */
  auth(scopes: readonly string[], credentials?: object): GoogleAuth {
    const key = `${credentials ? 'nested:' : ''}${[...scopes].sort().join(' ')}`;
    let auth = credentials ? undefined : this.#auths.get(key);
    if (!auth) {
      const file = this.#env.GOOGLE_APPLICATION_CREDENTIALS;
      auth = new GoogleAuth({
        scopes: [...scopes],
        clientOptions: this.#transport.clientOptions(),
        projectId: this.#projectId ?? PROJECT_LOOKUP_SKIPPED,
        ...(credentials
          ? {credentials: credentials as GoogleAuthOptions['credentials']}
          : file
            ? {keyFilename: file}
            : {}),
      });
      if (!credentials) this.#auths.set(key, auth);
    }
    return auth;
  }

  /** The client for a scope set, with STS routed like everything else. */
  async client(scopes: readonly string[], credentials?: object): Promise<AuthClient> {
    const client = await this.auth(scopes, credentials).getClient();
    routeSts(client, this.#transport);
    return client;
  }

  resolve(): Promise<Resolved> {
    if (!this.#resolved) {
      const pending = this.#resolve();
      this.#resolved = pending;
      // A failed resolution is not kept: the file may appear, the metadata server may come up.
      pending.catch(() => {
        if (this.#resolved !== pending) return;
        this.#resolved = undefined;
        this.#auths.clear();
      });
    }
    return this.#resolved;
  }

  async #resolve(): Promise<Resolved> {
    const auth = this.auth([CLOUD_PLATFORM_SCOPE]);
    const client = await auth.getClient();
    routeSts(client, this.#transport);
    const json = (auth.jsonContent ?? {}) as Record<string, unknown>;
    if (client instanceof Compute) return this.#metadataServer(client);
    if (client instanceof JWT) return this.#serviceAccountKey(client);
    if (client instanceof UserRefreshClient) return this.#authorizedUser();
    if (client instanceof Impersonated) return this.#impersonatedFile(client, json);
    if (client instanceof BaseExternalAccountClient) return this.#externalAccount(client, json);
    return this.#other(client, json);
  }

  #accessVia(kind: CredentialKind, subject: string) {
    return async (scopes: readonly string[], signal: AbortSignal | undefined): Promise<Token> => {
      const context: FailureContext = {request: {kind: 'access', scopes}, subject};
      try {
        return await abortable(
          this.client(scopes).then((client) => clientAccessToken(client, context)),
          signal,
        );
      } catch (error) {
        if (signal?.aborted) throw error;
        throw exchangeFailure({...context, fixes: fixesFor(kind)}, error);
      }
    };
  }

  #serviceAccountKey(client: JWT): Resolved {
    const origin = this.#fileOrigin;
    const email = client.email ?? 'unknown';
    const subject = `service account ${email} (key file from ${origin})`;
    return {
      kind: 'service_account_key',
      origin,
      access: this.#accessVia('service_account_key', subject),
      id: async (audience, signal) => {
        const context: FailureContext = {
          request: {kind: 'id', audience},
          subject,
          fixes: fixesFor('service_account_key'),
        };
        try {
          return idToken(await abortable(client.fetchIdToken(audience), signal), context);
        } catch (error) {
          if (signal?.aborted) throw error;
          throw exchangeFailure(context, error);
        }
      },
      describe: async () => ({
        kind: 'service_account_key',
        ...(client.email ? {principal: client.email} : {}),
        origin,
        ...optionalProject(this.#projectId ?? client.projectId ?? undefined),
        canMintIdTokens: true,
      }),
    };
  }

  #metadataServer(client: Compute): Resolved {
    const origin = this.#metadataOrigin;
    const account = client.serviceAccountEmail || 'default';
    const subject = `the ${account} service account of the ${origin}`;
    let principal: Promise<string | undefined> | undefined;
    const email = () =>
      (principal ??= gcpMetadata
        .instance<unknown>(`service-accounts/${account}/email`)
        .then((value) => (typeof value === 'string' && value.includes('@') ? value : undefined))
        .catch(() => {
          principal = undefined;
          return undefined;
        }));
    const transporter = this.#transport.transporter;
    return {
      kind: 'metadata_server',
      origin,
      access: async (scopes, signal) => {
        const context: FailureContext = {
          request: {kind: 'access', scopes},
          subject,
          fixes: fixesFor('metadata_server'),
        };
        try {
          const answer = await metadataAccessToken(transporter, account, scopes, signal);
          return accessToken(answer.accessToken, answer.expiresAt, context);
        } catch (error) {
          if (signal?.aborted) throw error;
          throw exchangeFailure(context, error);
        }
      },
      id: async (audience, signal) => {
        const context: FailureContext = {
          request: {kind: 'id', audience},
          subject,
          fixes: fixesFor('metadata_server'),
        };
        try {
          return idToken(await metadataIdToken(transporter, account, audience, signal), context);
        } catch (error) {
          if (signal?.aborted) throw error;
          throw exchangeFailure(context, error);
        }
      },
      describe: async () => {
        const [who, project] = await Promise.all([
          email(),
          this.#projectId
            ? Promise.resolve(this.#projectId)
            : gcpMetadata.project<unknown>('project-id').then(
                (value) =>
                  typeof value === 'string' || typeof value === 'number'
                    ? String(value)
                    : undefined,
                () => undefined,
              ),
        ]);
        return {
          kind: 'metadata_server',
          ...(who ? {principal: who} : {}),
          origin,
          ...optionalProject(project),
          canMintIdTokens: true,
        };
      },
    };
  }

  #authorizedUser(): Resolved {
    const origin = this.#fileOrigin;
    const subject = `user credentials (authorized_user) from ${origin}`;
    return {
      kind: 'authorized_user',
      origin,
      access: this.#accessVia('authorized_user', subject),
      id: async (audience) => {
        throw idTokenRefusedForUser(audience, subject);
      },
      describe: async () => ({
        kind: 'authorized_user',
        origin,
        ...optionalProject(await this.#lookUpProject()),
        canMintIdTokens: false,
        note: USER_ID_TOKEN_NOTE,
      }),
    };
  }

  #impersonatedFile(client: Impersonated, json: Record<string, unknown>): Resolved {
    const origin = this.#fileOrigin;
    const target = client.getTargetPrincipal();
    const source = json.source_credentials;
    const sourceType =
      typeof source === 'object' && source !== null
        ? String((source as {type?: unknown}).type ?? 'unknown')
        : 'unknown';
    const caller = new ClientSource(
      `${this.#id}#source`,
      once(() => this.client([CLOUD_PLATFORM_SCOPE], source as object)),
      {
        kind:
          sourceType === 'service_account'
            ? 'service_account_key'
            : sourceType === 'authorized_user'
              ? 'authorized_user'
              : 'unknown',
        ...(typeof (source as {client_email?: unknown})?.client_email === 'string'
          ? {principal: (source as {client_email: string}).client_email}
          : {}),
        origin: `the source_credentials (${sourceType}) of ${origin}`,
        canMintIdTokens: false,
      },
    );
    const impersonated = perCache(
      (cache) =>
        new ImpersonatedSource(caller, {
          target,
          delegates: stringArray(json.delegates),
          transport: this.#transport,
          cache,
          origin,
        }),
    );
    return {
      kind: 'impersonated_service_account',
      origin,
      id: (audience, signal, cache) => impersonated(cache).getToken({kind: 'id', audience}, signal),
      access: (scopes, signal, cache) =>
        impersonated(cache).getToken({kind: 'access', scopes}, signal),
      describe: async () => ({
        ...(await impersonated(defaultTokenCache()).describe()),
        ...optionalProject(await this.#lookUpProject()),
      }),
    };
  }

  #externalAccount(client: BaseExternalAccountClient, json: Record<string, unknown>): Resolved {
    const origin = this.#fileOrigin;
    const target = client.getServiceAccountEmail() ?? undefined;
    const subject = target
      ? `workload identity federation (external_account from ${origin}) as ${target}`
      : `workload identity federation (external_account from ${origin})`;
    const federatedJson: Record<string, unknown> = {...json};
    delete federatedJson.service_account_impersonation_url;
    delete federatedJson.service_account_impersonation;
    const federated = new ClientSource(
      `${this.#id}#federated`,
      once(() => this.client([CLOUD_PLATFORM_SCOPE], federatedJson)),
      {
        kind: 'external_account',
        origin: `the federated token of ${origin}`,
        canMintIdTokens: false,
      },
    );
    const impersonated = target
      ? perCache(
          (cache) =>
            new ImpersonatedSource(federated, {
              target,
              transport: this.#transport,
              cache,
              origin,
              kind: 'external_account',
            }),
        )
      : undefined;
    return {
      kind: 'external_account',
      origin,
      access: this.#accessVia('external_account', subject),
      id: async (audience, signal, cache) => {
        if (!impersonated) throw idTokenRefusedForFederation(audience, subject);
        return impersonated(cache).getToken({kind: 'id', audience}, signal);
      },
      describe: async () => ({
        kind: 'external_account',
        ...(target ? {principal: target} : {}),
        origin,
        ...optionalProject(this.#projectId ?? client.projectId ?? undefined),
        canMintIdTokens: target !== undefined,
        note: target
          ? `Federated token exchanged at STS, then IAM Credentials mints tokens for ${target}.`
          : FEDERATION_ID_TOKEN_NOTE,
      }),
    };
  }

  #other(client: AuthClient, json: Record<string, unknown>): Resolved {
    const origin = this.#fileOrigin;
    const type = typeof json.type === 'string' ? json.type : client.constructor.name;
    const subject = `${type} credentials from ${origin}`;
    return {
      kind: 'unknown',
      origin,
      access: this.#accessVia('unknown', subject),
      id: async (audience) => {
        throw new CredentialExchangeError(
          `Could not get ${describeRequest({kind: 'id', audience})} from ${subject}: this credential type cannot mint ID tokens. ` +
            'Set serviceAccount.impersonateServiceAccount to a service account it may impersonate.',
          {
            cause: new Error(`${type} credentials cannot mint ID tokens`),
            code: 'id_token_unsupported',
          },
        );
      },
      describe: async () => ({
        kind: 'unknown',
        origin,
        ...optionalProject(await this.#lookUpProject()),
        canMintIdTokens: false,
        note: `${type} credentials cannot mint ID tokens; use impersonateServiceAccount.`,
      }),
    };
  }

  /** Why resolution failed, as a CredentialExchangeError. */
  resolutionFailure(request: TokenRequest, error: unknown): CredentialExchangeError {
    if (error instanceof CredentialExchangeError) return error;
    const file = this.#env.GOOGLE_APPLICATION_CREDENTIALS;
    const message = error instanceof Error ? error.message : String(error);
    if (!file && /Could not load the default credentials/i.test(message)) {
      return new CredentialExchangeError(
        `Could not get ${describeRequest(request)} from Application Default Credentials: none were found ` +
          `(GOOGLE_APPLICATION_CREDENTIALS is not set, there is no ${wellKnownFile(this.#env)}, and no metadata server answered). ` +
          'Run `gcloud auth application-default login --impersonate-service-account=SA_EMAIL`, set GOOGLE_APPLICATION_CREDENTIALS to a credential file, ' +
          'run on Cloud Run/GKE/GCE, or give serviceAccountCredential explicitly.',
        {cause: error, code: 'unsupported_credential'},
      );
    }
    return exchangeFailure(
      {
        request,
        subject: `Application Default Credentials (${file ? this.#fileOrigin : 'default'})`,
        fixes: {
          default: file
            ? 'GOOGLE_APPLICATION_CREDENTIALS must name a readable JSON credential file (service_account, authorized_user, impersonated_service_account or external_account).'
            : 'Check the gcloud application-default credentials file (`gcloud auth application-default login`) or the metadata server.',
        },
      },
      error,
    );
  }
}

/** One value per cache (impersonation keeps its caller tokens in the caller's cache). */
function perCache<T extends object>(factory: (cache: TokenCache) => T): (cache: TokenCache) => T {
  const values = new WeakMap<TokenCache, T>();
  return (cache) => {
    let value = values.get(cache);
    if (!value) {
      value = factory(cache);
      values.set(cache, value);
    }
    return value;
  };
}

/** Memoizes an async factory; a failure is not kept. */
function once<T>(factory: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      const started = factory();
      pending = started;
      started.catch(() => {
        if (pending === started) pending = undefined;
      });
    }
    return pending;
  };
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string' && item !== '')
    : [];
}

function optionalProject(projectId: string | null | undefined): {projectId?: string} {
  return projectId ? {projectId} : {};
}

function wellKnownFile(env: NodeJS.ProcessEnv): string {
  const dir =
    env.CLOUDSDK_CONFIG ||
    (process.platform === 'win32'
      ? join(env.APPDATA ?? '', 'gcloud')
      : join(env.HOME || homedir(), '.config', 'gcloud'));
  return join(dir, 'application_default_credentials.json');
}

/**
 * google-auth-library builds the STS client of an `external_account` with a transporter of
 * its own; point it at ours so the token exchange is routed like every other request.
 */
function routeSts(client: AuthClient, transport: GoogleTransport): void {
  if (!(client instanceof BaseExternalAccountClient)) return;
  const sts = (client as unknown as {stsCredential?: {transporter?: unknown}}).stsCredential;
  if (sts && typeof sts === 'object') sts.transporter = transport.transporter;
}

function fixesFor(kind: CredentialKind): FailureContext['fixes'] {
  switch (kind) {
    case 'service_account_key':
      return {
        badRequest:
          'Google refused the signed assertion: the key may have been deleted or disabled, or the clock is off. Create a new key file.',
        unauthorized:
          'Google did not accept the key file: it may have been deleted or disabled. Create a new key.',
      };
    case 'metadata_server':
      return {
        notFound:
          'The metadata server has no such service account or endpoint: check the service account attached to the workload.',
        forbidden:
          'The metadata server refused: the request must carry Metadata-Flavor: Google, and on GCE the instance needs the cloud-platform access scope.',
      };
    case 'authorized_user':
      return {
        badRequest:
          'Google refused the refresh token (invalid_grant usually means it expired or was revoked): run `gcloud auth application-default login` again.',
        unauthorized:
          'Google refused the OAuth client of the user credentials: run `gcloud auth application-default login` again.',
      };
    case 'external_account':
      return {
        badRequest:
          'STS refused the subject token: check the credential_source, the audience (workload identity provider) and the token type.',
        forbidden:
          'Google refused the exchange or the impersonation: the federated principal needs roles/iam.workloadIdentityUser on the service account.',
      };
    default:
      return {};
  }
}

/** Process-wide ADC states, per fetch (a WeakMap key) and then per id and emulator host. */
const DEFAULT_FETCH_KEY = {};
const states = new WeakMap<object, Map<string, AdcState>>();

/** Options of {@link AdcSource}. */
export interface AdcSourceOptions {
  /** How to reach Google. */
  readonly transport: GoogleTransport;
  /** Where impersonation keeps its caller tokens. */
  readonly cache: TokenCache;
  /** The fetch the transport was built with, for sharing resolutions; undefined = global fetch. */
  readonly fetchKey?: object;
}

/**
 * Tokens from Application Default Credentials. Every source for the same environment (and
 * routing) shares one resolution and one set of google-auth-library clients.
 */
export class AdcSource implements TokenSource {
  readonly id: string;
  readonly #state: AdcState;
  readonly #cache: TokenCache;

  constructor(options: AdcSourceOptions) {
    this.#cache = options.cache;
    this.id = adcSourceId(options.transport.env);
    const fetchKey = options.fetchKey ?? DEFAULT_FETCH_KEY;
    let byId = states.get(fetchKey);
    if (!byId) {
      byId = new Map();
      states.set(fetchKey, byId);
    }
    // One resolution per credential and per place it is found (the environment differs).
    const key = `${this.id}\u0000${adcLocation(options.transport.env)}\u0000${options.transport.emulatorHost ?? ''}`;
    let state = byId.get(key);
    if (!state) {
      state = new AdcState(this.id, options.transport);
      byId.set(key, state);
    }
    this.#state = state;
  }

  async getToken(request: TokenRequest, signal?: AbortSignal): Promise<Token> {
    signal?.throwIfAborted();
    let resolved: Resolved;
    try {
      resolved = await abortable(this.#state.resolve(), signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      throw this.#state.resolutionFailure(request, error);
    }
    return request.kind === 'id'
      ? resolved.id(request.audience, signal, this.#cache)
      : resolved.access(request.scopes, signal, this.#cache);
  }

  async describe(): Promise<CredentialDescription> {
    let resolved: Resolved;
    try {
      resolved = await this.#state.resolve();
    } catch (error) {
      const failure = this.#state.resolutionFailure(
        {kind: 'access', scopes: [CLOUD_PLATFORM_SCOPE]},
        error,
      );
      return {
        kind: 'unknown',
        origin: 'Application Default Credentials (not usable)',
        canMintIdTokens: false,
        note: failure.message,
      };
    }
    return resolved.describe();
  }
}
