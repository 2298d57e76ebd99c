import type {Logger} from '../logger.js';

/**
 * Where the proxy writes its diagnostics: the command's stderr logger, or a test double.
 * Never stdout (in stdio mode stdout is the MCP channel). No line ever carries a token.
 */
export type ProxyLogger = Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;

/** A logger that drops everything (the default of the proxy functions). */
export const silentLogger: ProxyLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};
