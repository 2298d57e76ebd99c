/**
 * A `fetch`-compatible function: the one network seam of the server side (it loads key sets).
 * Declared here so that `verify/` depends on nothing of the client side.
 *
 * @example
 * const fetchKeys: FetchLike = (input, init) => fetch(input, init);
 */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
