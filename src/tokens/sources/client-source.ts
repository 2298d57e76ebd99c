import type {AuthClient} from 'google-auth-library';
import {CredentialExchangeError} from '../../credentials/errors.js';
import type {CredentialDescription, Token, TokenRequest, TokenSource} from '../token-source.js';
import {describeRequest, exchangeFailure} from './exchange-failure.js';
import {abortable, clientAccessToken} from './token-results.js';

/**
 * Access tokens from one google-auth-library client for a fixed scope set: the caller side
 * of an impersonation (the source credentials of an `impersonated_service_account` file,
 * the federated token of an `external_account`). It mints no ID tokens.
 */
export class ClientSource implements TokenSource {
  readonly id: string;
  readonly #client: () => Promise<AuthClient>;
  readonly #description: CredentialDescription;

  /**
   * @param id - Stable, secret-free identity (see {@link TokenSource.id}).
   * @param client - Resolves the client (called per token; memoize inside).
   * @param description - What `describe()` answers.
   */
  constructor(id: string, client: () => Promise<AuthClient>, description: CredentialDescription) {
    this.id = id;
    this.#client = client;
    this.#description = description;
  }

  async getToken(request: TokenRequest, signal?: AbortSignal): Promise<Token> {
    signal?.throwIfAborted();
    const context = {request, subject: `${this.#description.origin}`};
    if (request.kind === 'id') {
      throw new CredentialExchangeError(
        `Could not get ${describeRequest(request)} from ${this.#description.origin}: this credential only stands in as the caller of an impersonation and mints access tokens only.`,
        {
          cause: new Error('ID tokens are not minted by a caller-only source'),
          code: 'id_token_unsupported',
        },
      );
    }
    try {
      return await abortable(
        this.#client().then((client) => clientAccessToken(client, context)),
        signal,
      );
    } catch (error) {
      if (signal?.aborted) throw error;
      throw exchangeFailure(context, error);
    }
  }

  async describe(): Promise<CredentialDescription> {
    return this.#description;
  }
}
