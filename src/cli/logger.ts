/**
 * The command's diagnostic output. Everything here goes to stderr: stdout carries only
 * results. Colour only when stderr is a terminal and `NO_COLOR` is unset; progress animates
 * only on a terminal (one line per step otherwise, and only with `--verbose`). Every line
 * goes through the one scrubber (`scrub-text.ts`): lines quote what servers said.
 */
import {scrubText} from './scrub-text.js';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Print `debug` lines (token fingerprints, timings, never tokens). Default is false. */
  verbose?: boolean;
  /** Where lines go. Default is `process.stderr`. */
  stream?: NodeJS.WritableStream & {isTTY?: boolean};
  /** The environment read for `NO_COLOR`. Default is `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** A progress indicator for one long step (see {@link Logger.progress}). */
export interface Progress {
  /** Change the text shown next to the spinner. */
  update(text: string): void;
  /** Stop and print a final line: `ok` true for success, false for failure. */
  done(ok: boolean, text?: string): void;
}

/** The logger every subcommand writes diagnostics with. */
export interface Logger {
  /** Whether `debug` lines are printed. */
  readonly verbose: boolean;
  /** Whether colour escapes are used. */
  readonly color: boolean;
  /** A line of information. */
  info(message: string): void;
  /** A warning line (`warning: ...`). */
  warn(message: string): void;
  /** An error line (`error: ...`). */
  error(message: string): void;
  /** A line shown only with `--verbose`. */
  debug(message: string): void;
  /** Start a progress indicator for a long step. */
  progress(text: string): Progress;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Whether colour may be used on `stream`: a terminal, and `NO_COLOR` unset or empty. */
export function colorEnabled(
  stream: {isTTY?: boolean},
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR;
}

/**
 * A logger on stderr.
 *
 * @example
 * const log = createLogger({verbose: true});
 * const step = log.progress('Probing https://svc-abc.a.run.app');
 * step.done(true, 'reachable');
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  const verbose = options.verbose ?? false;
  const color = colorEnabled(stream, env);
  const animate = Boolean(stream.isTTY);
  const paint = (code: string, text: string): string =>
    color ? `\u001b[${code}m${text}\u001b[0m` : text;
  const write = (line: string): void => {
    stream.write(`${scrubText(line)}\n`);
  };

  return {
    verbose,
    color,
    info: write,
    warn: (message) => write(`${paint('33', 'warning:')} ${message}`),
    error: (message) => write(`${paint('31', 'error:')} ${message}`),
    debug: (message) => {
      if (verbose) write(paint('2', message));
    },
    progress(text) {
      let current = text;
      let frame = 0;
      let timer: NodeJS.Timeout | undefined;
      const render = (): void => {
        stream.write(
          `\r\u001b[2K${paint('36', FRAMES[frame % FRAMES.length] ?? '')} ${scrubText(current)}`,
        );
        frame++;
      };
      if (animate) {
        render();
        timer = setInterval(render, 80);
        timer.unref();
      } else if (verbose) {
        write(`… ${current}`);
      }
      return {
        update(next) {
          current = next;
          if (!animate && verbose) write(`… ${current}`);
        },
        done(ok, final) {
          if (timer) clearInterval(timer);
          timer = undefined;
          if (animate) {
            stream.write('\r\u001b[2K');
            if (final !== undefined) write(`${ok ? paint('32', '✔') : paint('31', '✘')} ${final}`);
          } else if (verbose && final !== undefined) {
            write(`${ok ? 'ok' : 'failed'}: ${final}`);
          }
        },
      };
    },
  };
}
