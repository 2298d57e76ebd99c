/**
 * Collects what a piece of code prints: writes to stdout and stderr, `console.*`, process
 * warnings, and every line `@google/adk` logs (through a logger installed with
 * `setLogger`; ADK's default logger prints errors in red to stdout).
 */
import {LogLevel, setLogger} from '@google/adk';
import type {Logger} from '@google/adk';

export interface CapturedOutput {
  /** Raw writes to process.stdout / process.stderr and console calls, in order. */
  readonly printed: string[];
  /** ADK logger lines at WARN or ERROR, as `LEVEL: message`. */
  readonly adkProblems: string[];
  /** Process warnings emitted while capturing, as `code: message`. */
  readonly warnings: string[];
  /** Stops capturing; ADK gets a silent logger back. */
  stop(): void;
}

export function captureOutput(): CapturedOutput {
  const printed: string[] = [];
  const adkProblems: string[] = [];
  const warnings: string[] = [];
  const text = (args: unknown[]) =>
    args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' ');

  const logger: Logger = {
    log: (level, ...args) => {
      if (level >= LogLevel.WARN) adkProblems.push(`${LogLevel[level]}: ${text(args)}`);
    },
    debug: () => undefined,
    info: () => undefined,
    warn: (...args) => adkProblems.push(`WARN: ${text(args)}`),
    error: (...args) => adkProblems.push(`ERROR: ${text(args)}`),
    setLogLevel: () => undefined,
  };
  setLogger(logger);

  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  const capture = (chunk: unknown): boolean => {
    printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  const consoleMethods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const saved = consoleMethods.map((name) => console[name]);
  for (const name of consoleMethods)
    console[name] = (...args: unknown[]) => printed.push(text(args));
  const onWarning = (warning: Error & {code?: string}) =>
    warnings.push(`${warning.code ?? warning.name}: ${warning.message}`);
  process.on('warning', onWarning);

  return {
    printed,
    adkProblems,
    warnings,
    stop() {
      process.stdout.write = stdoutWrite;
      process.stderr.write = stderrWrite;
      consoleMethods.forEach((name, i) => {
        console[name] = saved[i]!;
      });
      process.off('warning', onWarning);
      setLogger(null);
    },
  };
}
