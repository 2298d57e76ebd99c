/**
 * What `mcp-google-auth token` does: prints a Google token for the configured credential.
 * This is the one place the command prints a token, because the user asked for it.
 */
import type {ServiceAccount} from '../../credentials/types.js';
import {DEFAULT_SCOPES} from '../../exchange/service-account-exchanger.js';
import {createTokenSource} from '../../tokens/create-token-source.js';
import {tokenFingerprint} from '../../tokens/fingerprint.js';
import {decodeJwtHeader, decodeJwtPayload} from '../../tokens/jwt-claims.js';
import {defaultTokenCache} from '../../tokens/token-cache.js';
import type {TokenRequest} from '../../tokens/token-source.js';
import {authFromOptions, CliError, createLogger, ExitCode, type CommonOptions} from '../common.js';
import {humanExpiry, printJson, printLines} from '../format.js';

/** Options of the `token` subcommand. */
export interface TokenCommandOptions extends CommonOptions {
  /** `--scopes a,b`: access-token scopes (short names get the `https://www.googleapis.com/auth/` prefix). */
  scopes?: string;
  /** `--decode`: print the header and claims instead of the token. */
  decode?: boolean;
}

/** Expands `cloud-platform` to `https://www.googleapis.com/auth/cloud-platform`; full URLs and `openid`-style names stay. */
export function expandScopes(list: string): string[] {
  const scopes = list
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (scopes.length === 0) {
    throw new CliError('--scopes is empty.', ExitCode.USAGE, {
      hint: 'Give a comma-separated list, e.g. --scopes cloud-platform,userinfo.email.',
    });
  }
  return scopes.map((s) =>
    s.includes('://') || ['openid', 'email', 'profile'].includes(s)
      ? s
      : `https://www.googleapis.com/auth/${s}`,
  );
}

/** Runs `token` with its parsed options. */
export async function tokenAction(opts: TokenCommandOptions): Promise<void> {
  const log = createLogger({verbose: opts.verbose === true});
  const scopes = opts.scopes !== undefined ? expandScopes(opts.scopes) : undefined;
  const auth = authFromOptions(opts, undefined, scopes ? {scopes} : {});
  const serviceAccount = auth.authCredential.serviceAccount as ServiceAccount;
  const source = createTokenSource(serviceAccount);
  const request: TokenRequest =
    auth.audience !== undefined
      ? {kind: 'id', audience: auth.audience}
      : {kind: 'access', scopes: serviceAccount.scopes ?? DEFAULT_SCOPES};
  if (log.verbose) {
    const description = await source.describe();
    log.debug(
      `credential: ${description.kind}${description.principal ? ` ${description.principal}` : ''} (${description.origin})`,
    );
  }
  const token = await defaultTokenCache().get(source, request);
  log.debug(`token ${tokenFingerprint(token.value)}, expires ${humanExpiry(token.expiresAt)}`);

  const kind = request.kind === 'id' ? 'id_token' : 'access_token';
  const expiresAt = new Date(token.expiresAt).toISOString();
  if (opts.decode) {
    const header = decodeJwtHeader(token.value);
    const claims = decodeJwtPayload(token.value);
    const isJwt = header !== undefined && claims !== undefined;
    if (opts.json) {
      printJson({
        kind,
        fingerprint: tokenFingerprint(token.value),
        expiresAt,
        ...(isJwt ? {header, claims} : {opaque: true}),
      });
      return;
    }
    const lines: string[] = [];
    if (isJwt) {
      lines.push(
        'header:',
        indent(JSON.stringify(header, null, 2)),
        'claims:',
        indent(JSON.stringify(claims, null, 2)),
      );
      lines.push('signature: (not shown)');
    } else {
      lines.push(
        `${kind === 'access_token' ? 'access token' : 'token'} (opaque, not a JWT): ${tokenFingerprint(token.value)}`,
      );
    }
    const issued =
      typeof claims?.iat === 'number' ? `; issued ${humanExpiry(claims.iat * 1000)}` : '';
    lines.push(`expires ${humanExpiry(token.expiresAt)}${issued}`);
    printLines(...lines);
    return;
  }
  if (opts.json) {
    printJson({
      kind,
      token: token.value,
      expiresAt,
      ...(request.kind === 'id' ? {audience: request.audience} : {scopes: request.scopes}),
    });
    return;
  }
  printLines(token.value);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
