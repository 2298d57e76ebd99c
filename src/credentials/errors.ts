/**
 * The error family of mcp-google-auth. Every error the library throws on purpose is an
 * {@link McpGoogleAuthError} with a stable string `code`; each family is a subclass.
 * Messages name the field, the claim or the endpoint, never a token, key or assertion.
 */

/** Codes of {@link InvalidCredentialError}. */
export type InvalidCredentialCode = 'invalid_credential';

/** Codes of {@link CredentialExchangeError}. */
export type CredentialExchangeCode =
  | 'exchange_failed'
  | 'unsupported_credential'
  | 'id_token_unsupported'
  | 'unauthorized'
  | 'forbidden';

/** Codes of `IdTokenVerificationError` (see its documentation for what each means). */
export type IdTokenVerificationCode =
  | 'missing'
  | 'malformed'
  | 'too_large'
  | 'bad_signature'
  | 'unknown_key'
  | 'expired'
  | 'not_yet_valid'
  | 'lifetime_too_long'
  | 'bad_audience'
  | 'bad_issuer'
  | 'forbidden_principal'
  | 'keys_unavailable';

/** Every code an {@link McpGoogleAuthError} can carry. */
export type McpGoogleAuthErrorCode =
  | InvalidCredentialCode
  | CredentialExchangeCode
  | IdTokenVerificationCode
  | 'request_refused'
  | 'http_error'
  | 'mcp_error'
  | 'a2a_card_unavailable'
  | 'a2a_origin_refused';

/** Base class of every error this package throws on purpose. */
export class McpGoogleAuthError extends Error {
  /** A stable, machine-readable code; see the subclass for its values. */
  readonly code: string;

  constructor(code: string, message: string, options?: {cause?: unknown}) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * An {@link AuthCredential} (or one of its parts) is malformed. `path` names the field in
 * the input (`serviceAccount.audience`), the message names the fix. Key material is never
 * echoed.
 */
export class InvalidCredentialError extends McpGoogleAuthError {
  /** Dotted path of the offending field in the input, e.g. `serviceAccount.audience`. */
  readonly path: string;
  declare readonly code: InvalidCredentialCode;

  constructor(path: string, message: string, options?: {cause?: unknown}) {
    super('invalid_credential', path ? `${path}: ${message}` : message, options);
    this.path = path;
  }
}

/**
 * Turning a credential into a token failed. `cause` keeps the lower error (from
 * google-auth-library or the network); the message says what to do.
 */
export class CredentialExchangeError extends McpGoogleAuthError {
  declare readonly code: CredentialExchangeCode;

  constructor(message: string, options?: {cause?: unknown; code?: CredentialExchangeCode}) {
    super(options?.code ?? 'exchange_failed', message, options);
  }
}
