/**
 * Errors of the A2A client helpers: they name the agent's URL, the HTTP status and the fix,
 * never a token. The lower error (from the network, the token layer or `@a2a-js/sdk`) is kept
 * as `cause`.
 */
import {McpGoogleAuthError} from '../credentials/errors.js';

/**
 * Codes of {@link A2aClientError}:
 * - `a2a_card_unavailable`: the agent card could not be fetched (an HTTP error status, a
 *   body that is not JSON, too large, or not an agent card).
 * - `a2a_origin_refused`: the agent card names endpoints only on other origins than the one
 *   the credential is for, so the client refuses to talk to them.
 */
export type A2aClientErrorCode = 'a2a_card_unavailable' | 'a2a_origin_refused';

/**
 * The A2A client could not be built: see {@link A2aClientErrorCode}. `url` is the agent card's
 * URL (or the refused endpoint), `status` the HTTP status when the server answered one.
 *
 * @example
 * try {
 *   await factory.createClient();
 * } catch (error) {
 *   if (error instanceof A2aClientError && error.status === 403) {
 *     // the caller lacks roles/run.invoker on the agent's service
 *   }
 * }
 */
export class A2aClientError extends McpGoogleAuthError {
  declare readonly code: A2aClientErrorCode;
  /** The agent card URL, or the endpoint that was refused; without query or credentials. */
  readonly url: string;
  /** The HTTP status the server answered, when there was one. */
  readonly status: number | undefined;

  constructor(
    code: A2aClientErrorCode,
    message: string,
    details: {url: string; status?: number; cause?: unknown},
  ) {
    super(code, message, details.cause === undefined ? undefined : {cause: details.cause});
    this.url = details.url;
    this.status = details.status;
  }
}
