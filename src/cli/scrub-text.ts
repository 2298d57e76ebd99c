/**
 * The one scrubber for text the command shows to a person: every line the logger writes,
 * every error `runAction` prints, every `doctor` report, and every excerpt of what a server
 * said. A server may reflect the request's `Authorization` header in an error (a framework's
 * debug page, a JSON-RPC error quoting the request), so anything that looks like a credential
 * is replaced by its fingerprint before it reaches a terminal or a CI log.
 *
 * It replaces JWTs (whole, cut short, or with a stripped signature), Google access tokens
 * (`ya29.`), refresh tokens (`1//`), PEM blocks, and whatever follows `Bearer` or `Basic`.
 * It leaves URLs, emails, OAuth client ids and `sha256:` fingerprints alone, so the command's
 * own sentences read the same after it.
 */
import {tokenFingerprint} from '../tokens/fingerprint.js';

/** Longest excerpt of a server's text that {@link quoteServerText} keeps, in characters. */
export const MAX_SERVER_QUOTE = 300;

const SECRET_PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z ]+-----[\s\S]*?(?:-----END [A-Z ]+-----|$)/g,
  // A JWT, or the start of one: the base64url of `{"` is `eyJ`.
  /\beyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}/g,
  /\bya29\.[A-Za-z0-9._-]+/g,
  /\b1\/\/[A-Za-z0-9._-]{16,}/g,
];

/** A credential after an HTTP auth scheme (what is left once the shapes above are replaced). */
const AFTER_SCHEME = /\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/-]{12,}=*)/gi;

/**
 * `text` with every credential-looking piece replaced by `[token sha256:<8 hex>]` (the same
 * fingerprint `--verbose` shows for the tokens the command sent). Nothing else changes.
 *
 * @example
 * scrubText('refused: Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln');
 * // 'refused: Authorization: Bearer [token sha256:0a1b2c3d]'
 */
export function scrubText(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (match) => `[token ${tokenFingerprint(match)}]`);
  }
  return out.replace(AFTER_SCHEME, (match, scheme: string, space: string, credential: string) =>
    // Words ("Basic authentication") stay; anything long or with a digit is a credential.
    credential.length < 24 && !/\d/.test(credential)
      ? match
      : `${scheme}${space}[token ${tokenFingerprint(credential)}]`,
  );
}

/**
 * An excerpt of what a server (or a lower layer) said, fit to quote in one line: scrubbed
 * with {@link scrubText}, whitespace folded, and cut at `maxLength` characters with `…`.
 *
 * @param text - The server's text.
 * @param maxLength - Longest result, in characters. Default is {@link MAX_SERVER_QUOTE} (300).
 * @example
 * quoteServerText('Internal error\n  at handler (Authorization: Bearer eyJ...)');
 */
export function quoteServerText(text: string, maxLength: number = MAX_SERVER_QUOTE): string {
  const oneLine = scrubText(text).replace(/\s+/g, ' ').trim();
  return oneLine.length > maxLength ? `${oneLine.slice(0, maxLength)}…` : oneLine;
}
