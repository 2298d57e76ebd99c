import {describe, expect, it} from 'vitest';
import {CliError, ExitCode} from '../../src/cli/exit-codes.js';
import {describeError, FAILURE_CAUSES} from '../../src/cli/run-action.js';
import {
  CredentialExchangeError,
  InvalidCredentialError,
  McpGoogleAuthError,
} from '../../src/credentials/errors.js';

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {code: 'ECONNREFUSED'});

describe('describeError', () => {
  it('passes a CliError through as it says', () => {
    expect(describeError(new CliError('x', ExitCode.AUTH, {hint: 'do y'}))).toEqual({
      exitCode: 3,
      cause: 'reported',
      message: 'x',
      hint: 'do y',
    });
  });

  it('maps one error of each cause to the exit code of the one table', () => {
    const examples: [string, unknown][] = [
      ['invalid_credential', new InvalidCredentialError('serviceAccount.audience', 'is required')],
      ['credential_cannot_mint', new CredentialExchangeError('no', {code: 'id_token_unsupported'})],
      [
        'credential_unsupported',
        new CredentialExchangeError('no', {code: 'unsupported_credential'}),
      ],
      ...(
        [
          'gcloud_not_installed',
          'gcloud_audience_unsupported',
          'gcloud_login_required',
          'gcloud_failed',
        ] as const
      ).map((code): [string, unknown] => [code, new CredentialExchangeError('gcloud', {code})]),
      ['google_unreachable', new CredentialExchangeError('down', {cause: refused()})],
      ['google_refused', new CredentialExchangeError('refused', {code: 'unauthorized'})],
      ['server_refused', Object.assign(new Error('HTTP 403'), {status: 403})],
      ['server_refused', new McpGoogleAuthError('request_refused', 'refused')],
      ['option_misuse', new TypeError('bad option')],
      ['server_unreachable', new TypeError('fetch failed', {cause: refused()})],
      ['remote_failed', new McpGoogleAuthError('mcp_error', 'tool failed')],
      ['remote_failed', 'a string'],
    ];
    const seen = new Set<string>();
    for (const [cause, error] of examples) {
      const report = describeError(error);
      const row = FAILURE_CAUSES.find((r) => r.cause === cause);
      expect(report.cause, cause).toBe(cause);
      expect(report.exitCode, cause).toBe(row?.exitCode);
      seen.add(cause);
    }
    // Every row of the table has an example here.
    expect([...seen].sort()).toEqual(FAILURE_CAUSES.map((r) => r.cause).sort());
  });

  it('finds a library error behind the wrapper a transport put around it', () => {
    const inner = new CredentialExchangeError('Could not get an ID token.', {
      code: 'id_token_unsupported',
    });
    const report = describeError(new Error('Streamable HTTP error', {cause: inner}), {
      doctor: 'mcp-google-auth doctor https://x.a.run.app/mcp --key-file k.json',
    });
    expect(report).toMatchObject({exitCode: 2, cause: 'credential_cannot_mint'});
    expect(report.hint).toContain(
      'mcp-google-auth doctor https://x.a.run.app/mcp --key-file k.json',
    );
  });

  it('keeps the whole message, however long', () => {
    const long = `${'The reason, in many words. '.repeat(30)}Fix: do this.`;
    const report = describeError(new CredentialExchangeError(long, {code: 'id_token_unsupported'}));
    expect(report.message).toBe(long.replace(/\s+/g, ' ').trim());
  });

  it('calls an unreachable host a remote failure, also behind a CredentialExchangeError', () => {
    const network = describeError(new TypeError('fetch failed', {cause: refused()}));
    expect(network).toMatchObject({
      exitCode: 1,
      message: 'Could not reach the server (ECONNREFUSED).',
    });
    const exchange = describeError(
      new CredentialExchangeError('Could not get a token', {cause: refused()}),
    );
    expect(exchange.exitCode).toBe(1);
    expect(exchange.hint).toContain('ECONNREFUSED');
    const timeout = describeError(
      new CredentialExchangeError('Could not get a token', {
        cause: new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      }),
    );
    expect(timeout).toMatchObject({exitCode: 1, cause: 'google_unreachable'});
  });

  it('ends the message as a sentence', () => {
    expect(describeError(new Error('something broke')).message).toBe('something broke.');
  });
});
