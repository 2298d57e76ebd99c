/**
 * What the token layer promises to the layers above it: a {@link TokenSource} turns one
 * credential into tokens; the {@link TokenCache} decides when to ask it.
 */

/** What to mint: an OIDC ID token for an audience, or an OAuth2 access token for scopes. */
export type TokenRequest =
  | {readonly kind: 'id'; readonly audience: string}
  | {readonly kind: 'access'; readonly scopes: readonly string[]};

/** A minted token and when it stops being valid. */
export interface Token {
  /** The token text. Never log it; use {@link tokenFingerprint}. */
  readonly value: string;
  /** Expiry in epoch milliseconds (from the JWT `exp` for ID tokens, `expires_in` for access tokens). */
  readonly expiresAt: number;
}

/** The kinds of Google credential a source can stand on. */
export type CredentialKind =
  | 'service_account_key'
  | 'metadata_server'
  | 'impersonated_service_account'
  | 'external_account'
  | 'authorized_user'
  | 'unknown';

/** A secret-free description of the credential behind a source (for `doctor` and errors). */
export interface CredentialDescription {
  /** What kind of credential it is. */
  readonly kind: CredentialKind;
  /** The principal tokens are minted for (service-account email), when known. */
  readonly principal?: string;
  /** Where it was found, in words: `explicit key`, `GOOGLE_APPLICATION_CREDENTIALS (/path/key.json)`, `metadata server`. */
  readonly origin: string;
  /** The project id, when known. */
  readonly projectId?: string;
  /** Whether this credential can mint ID tokens whose `aud` is the requested audience. */
  readonly canMintIdTokens: boolean;
  /** Why not, and what to do, when `canMintIdTokens` is false; or a caveat. */
  readonly note?: string;
}

/**
 * One credential that can mint tokens. Sources do no caching of their own; the
 * {@link TokenCache} is the only place that decides when to fetch.
 */
export interface TokenSource {
  /**
   * Stable identity of the credential behind this source, used as its {@link TokenCache} key.
   * It must derive from material only the holder has (a hash of the public key derived from
   * the private key, of the refresh token, of the federation config), never from ids the
   * credential declares about itself (`client_email`, `private_key_id`), which anyone can
   * copy into a forged key file. It holds no secret, but it is not for display either. Two
   * sources with the same `id` must mint interchangeable tokens.
   */
  readonly id: string;
  /** Mint a fresh token. Throws `CredentialExchangeError` with the lower error as `cause`. */
  getToken(request: TokenRequest, signal?: AbortSignal): Promise<Token>;
  /** Describe the credential without secrets (may resolve ADC). */
  describe(): Promise<CredentialDescription>;
}
