/**
 * Runs the installed `gcloud` CLI once: no shell (the arguments reach gcloud as they are,
 * never parsed by a shell), stdin closed (a prompt fails at once instead of waiting), a
 * timeout that kills gcloud and the Python process it starts, and a bound on what it may
 * print. The result is the text it printed, or a {@link GcloudRunError} saying why not.
 */
import {spawn} from 'node:child_process';
import {scrubSecrets} from './redact.js';

/** Why a gcloud run failed. */
export type GcloudRunFailure =
  /** The executable was not found (`ENOENT`) or could not be run (`EACCES`, ...). */
  | 'not_found'
  /** It ran longer than the timeout and was killed. */
  | 'timeout'
  /** It printed more than the bound and was killed. */
  | 'output_too_large'
  /** It exited with a non-zero status (or was killed by a signal). */
  | 'exit'
  /** The caller aborted. */
  | 'aborted';

/**
 * A failed gcloud run. Its text holds only scrubbed, shortened stderr (`[redacted sha256:…]`
 * in place of anything token-like), so it may be kept as a `cause` and logged whole.
 */
export class GcloudRunError extends Error {
  /** Why it failed. */
  readonly reason: GcloudRunFailure;
  /** The exit status, when gcloud exited. */
  readonly exitCode: number | undefined;
  /** The spawn error's code (`ENOENT`, `EACCES`, ...), for `not_found`. */
  readonly spawnCode: string | undefined;
  /** What gcloud printed on stderr, scrubbed and shortened. */
  readonly stderr: string;

  constructor(
    reason: GcloudRunFailure,
    message: string,
    details: {exitCode?: number; spawnCode?: string; stderr?: string} = {},
  ) {
    super(message);
    this.name = 'GcloudRunError';
    this.reason = reason;
    this.exitCode = details.exitCode;
    this.spawnCode = details.spawnCode;
    this.stderr = details.stderr ?? '';
  }
}

/** How to run gcloud. */
export interface GcloudRunOptions {
  /** The executable: a name looked up on `env.PATH`, or a path. */
  readonly command: string;
  /** The environment gcloud runs in (it also decides where `command` is looked up). */
  readonly env: NodeJS.ProcessEnv;
  /** Kill gcloud after this many milliseconds. */
  readonly timeoutMs: number;
  /** Kill gcloud when stdout or stderr exceeds this many bytes. */
  readonly maxOutputBytes: number;
  /** Abort the run (gcloud is killed). */
  readonly signal?: AbortSignal | undefined;
}

/** What a successful run printed. */
export interface GcloudRunResult {
  readonly stdout: string;
  /** Scrubbed and shortened, as in {@link GcloudRunError.stderr}. */
  readonly stderr: string;
}

/** Most characters of stderr kept for messages. */
const STDERR_SHOWN = 600;

/**
 * Runs `command args…` and resolves with what it printed when it exits with status 0;
 * rejects with a {@link GcloudRunError} otherwise.
 */
export function runGcloud(
  args: readonly string[],
  options: GcloudRunOptions,
): Promise<GcloudRunResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new GcloudRunError('aborted', 'the gcloud run was aborted before it started'));
      return;
    }
    // A process group of its own (POSIX): gcloud is a shell wrapper around Python, and a
    // timeout must end both.
    const group = process.platform !== 'win32';
    const child = spawn(options.command, [...args], {
      env: options.env,
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
      detached: group,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let failure: GcloudRunError | undefined;
    let settled = false;

    const kill = () => {
      try {
        if (group && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const stop = (error: GcloudRunError) => {
      failure ??= error;
      kill();
    };
    const timer = setTimeout(
      () =>
        stop(
          new GcloudRunError(
            'timeout',
            `gcloud did not finish within ${options.timeoutMs} ms and was stopped`,
            {stderr: shownStderr(err)},
          ),
        ),
      options.timeoutMs,
    );
    const onAbort = () => stop(new GcloudRunError('aborted', 'the gcloud run was aborted'));
    options.signal?.addEventListener('abort', onAbort, {once: true});

    const size = {stdout: 0, stderr: 0};
    const collect = (chunks: Buffer[], which: 'stdout' | 'stderr') => (chunk: Buffer) => {
      size[which] += chunk.length;
      if (size[which] > options.maxOutputBytes) {
        stop(
          new GcloudRunError(
            'output_too_large',
            `gcloud printed more than ${options.maxOutputBytes} bytes on ${which} and was stopped`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    };
    child.stdout.on('data', collect(out, 'stdout'));
    child.stderr.on('data', collect(err, 'stderr'));

    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      settle();
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish(() => {
        if (failure) {
          reject(failure);
          return;
        }
        const code = typeof error.code === 'string' ? error.code : undefined;
        reject(
          new GcloudRunError(
            'not_found',
            `could not run ${JSON.stringify(options.command)}${code ? ` (${code})` : ''}`,
            code ? {spawnCode: code} : {},
          ),
        );
      });
    });
    child.on('close', (exitCode, signal) => {
      finish(() => {
        if (failure) {
          reject(failure);
          return;
        }
        const stderr = shownStderr(err);
        if (exitCode !== 0) {
          const how =
            exitCode === null
              ? `was killed by ${signal ?? 'a signal'}`
              : `exited with status ${exitCode}`;
          reject(
            new GcloudRunError('exit', `gcloud ${how}${stderr ? `: ${stderr}` : ''}`, {
              ...(exitCode !== null ? {exitCode} : {}),
              stderr,
            }),
          );
          return;
        }
        resolve({stdout: Buffer.concat(out).toString('utf8'), stderr});
      });
    });
  });
}

/** gcloud's stderr as one scrubbed, shortened line per message (blank lines dropped). */
function shownStderr(chunks: readonly Buffer[]): string {
  const text = Buffer.concat(chunks).toString('utf8');
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return scrubSecrets(lines.join(' '), STDERR_SHOWN);
}
