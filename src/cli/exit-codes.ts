/**
 * Exit codes of the `mcp-google-auth` command, the same for every subcommand.
 */
export const ExitCode = {
  /** Everything worked. */
  OK: 0,
  /** The remote server or the tool failed (unreachable, 5xx, a tool result with `isError`). */
  REMOTE: 1,
  /** Usage or configuration error (bad option, unreadable key file, credential that cannot do this). */
  USAGE: 2,
  /** Authentication refused: Google or the front answered 401/403. */
  AUTH: 3,
} as const;

/** One of the values of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error the command reports itself: a one-sentence `message`, an optional `hint` (the
 * fix, one more sentence) and the process exit code. Never carries a token.
 *
 * @example
 * throw new CliError('The key file /tmp/k.json is not JSON.', ExitCode.USAGE, {hint: 'Pass the JSON key downloaded from the console.'});
 */
export class CliError extends Error {
  /** The exit code the process ends with. */
  readonly exitCode: ExitCodeValue;
  /** What to do about it, in one sentence. */
  readonly hint: string | undefined;

  constructor(
    message: string,
    exitCode: ExitCodeValue,
    options: {hint?: string; cause?: unknown} = {},
  ) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause});
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}
