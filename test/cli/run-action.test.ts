import {describe, expect, it} from 'vitest';
import {CliError, ExitCode} from '../../src/cli/exit-codes.js';
import {describeError} from '../../src/cli/run-action.js';
import {
  CredentialExchangeError,
  InvalidCredentialError,
  McpGoogleAuthError,
} from '../../src/credentials/errors.js';

describe('describeError', () => {
  it('maps each failure family to its exit code', () => {
    expect(describeError(new CliError('x', ExitCode.AUTH, {hint: 'do y'}))).toEqual({
      exitCode: 3,
      message: 'x',
      hint: 'do y',
    });
    expect(
      describeError(new InvalidCredentialError('serviceAccount.audience', 'is required')).exitCode,
    ).toBe(2);
    expect(
      describeError(new CredentialExchangeError('no', {code: 'id_token_unsupported'})).exitCode,
    ).toBe(2);
    expect(
      describeError(new CredentialExchangeError('refused', {code: 'unauthorized'})).exitCode,
    ).toBe(3);
    expect(describeError(new TypeError('bad option')).exitCode).toBe(2);
    expect(describeError(Object.assign(new Error('HTTP 403'), {status: 403})).exitCode).toBe(3);
    expect(describeError(new McpGoogleAuthError('mcp_error', 'tool failed')).exitCode).toBe(1);
  });

  it('calls an unreachable host a remote failure, also behind a CredentialExchangeError', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
    });
    const network = describeError(new TypeError('fetch failed', {cause: refused}));
    expect(network).toMatchObject({
      exitCode: 1,
      message: 'Could not reach the server (ECONNREFUSED).',
    });
    const exchange = describeError(
      new CredentialExchangeError('Could not get a token', {cause: refused}),
    );
    expect(exchange.exitCode).toBe(1);
    expect(exchange.hint).toContain('ECONNREFUSED');
  });

  it('ends the message as a sentence', () => {
    expect(describeError(new Error('something broke')).message).toBe('something broke.');
  });
});
