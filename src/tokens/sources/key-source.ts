import {JWT} from 'google-auth-library';
import type {ServiceAccountCredential} from '../../credentials/types.js';
import type {CredentialDescription, Token, TokenRequest, TokenSource} from '../token-source.js';
import {exchangeFailure, type FailureContext} from './exchange-failure.js';
import {publicKeyDigest} from './holder-key.js';
import type {GoogleTransport} from './google-auth-transport.js';
import {abortable, clientAccessToken, idToken} from './token-results.js';

/**
 * The `id` of a source for an explicit key: `key:spki-sha256:<hash of its public key>`, which
 * only the holder of the private key can produce. Not the key file's `client_email` or
 * `private_key_id`: a forged file can copy both, and would then share another tenant's
 * cached tokens.
 */
export function keySourceId(key: ServiceAccountCredential): string {
  return `key:${publicKeyDigest(key.privateKey)}`;
}

/**
 * Tokens from an explicit service-account key (the JWT-bearer grant at Google's token
 * endpoint, signed with the key): ID tokens with `target_audience`, access tokens for the
 * requested scopes. One google-auth-library `JWT` client per scope set.
 */
export class KeySource implements TokenSource {
  readonly id: string;
  readonly #key: ServiceAccountCredential;
  readonly #transport: GoogleTransport;
  readonly #clients = new Map<string, JWT>();
  readonly #origin: string;

  /**
   * @param key - The key, camelCase as in ADK.
   * @param transport - How to reach Google.
   * @param origin - Where the key came from, in words. Default is `explicit key`.
   */
  constructor(key: ServiceAccountCredential, transport: GoogleTransport, origin = 'explicit key') {
    this.#key = key;
    this.#transport = transport;
    this.#origin = origin;
    this.id = keySourceId(key);
  }

  async getToken(request: TokenRequest, signal?: AbortSignal): Promise<Token> {
    signal?.throwIfAborted();
    const context = this.#context(request);
    try {
      if (request.kind === 'id') {
        const value = await abortable(this.#client([]).fetchIdToken(request.audience), signal);
        return idToken(value, context);
      }
      return await abortable(clientAccessToken(this.#client(request.scopes), context), signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      throw exchangeFailure(context, error);
    }
  }

  async describe(): Promise<CredentialDescription> {
    return {
      kind: 'service_account_key',
      principal: this.#key.clientEmail,
      origin: this.#origin,
      ...(this.#key.projectId ? {projectId: this.#key.projectId} : {}),
      canMintIdTokens: true,
    };
  }

  #client(scopes: readonly string[]): JWT {
    const key = [...scopes].sort().join(' ');
    let client = this.#clients.get(key);
    if (!client) {
      client = new JWT({
        ...this.#transport.clientOptions(),
        email: this.#key.clientEmail,
        key: this.#key.privateKey,
        ...(this.#key.privateKeyId ? {keyId: this.#key.privateKeyId} : {}),
        ...(scopes.length > 0 ? {scopes: [...scopes]} : {}),
      });
      if (this.#key.projectId) client.projectId = this.#key.projectId;
      this.#clients.set(key, client);
    }
    return client;
  }

  #context(request: TokenRequest): FailureContext {
    const who = `service account ${this.#key.clientEmail} (${this.#origin}, key ${this.#key.privateKeyId || 'without private_key_id'})`;
    return {
      request,
      subject: who,
      fixes: {
        badRequest:
          "Google refused the signed assertion: the key may have been deleted or disabled, the service account deleted, or this machine's clock is off by minutes. Create a new key (gcloud iam service-accounts keys create) or check the clock.",
        unauthorized:
          'Google did not accept the key: it may have been deleted or disabled. Create a new key for the service account.',
        forbidden:
          'Google refused the request: check that the service account is enabled and its project allows key-based sign-in.',
      },
    };
  }
}
