/**
 * Which request header carries the Google token. Cloud Run reads `Authorization` or, when
 * present, `X-Serverless-Authorization` (so that the caller's own `Authorization` reaches the
 * container untouched); IAP also reads `Proxy-Authorization`.
 */
export type AuthHeaderMode = 'authorization' | 'x-serverless-authorization' | 'proxy-authorization';

const MODES: readonly AuthHeaderMode[] = [
  'authorization',
  'x-serverless-authorization',
  'proxy-authorization',
];

/**
 * Checks an {@link AuthHeaderMode} option once, when an object is built. Throws a TypeError
 * naming `option` when the value is not one of the three modes.
 */
export function checkAuthHeaderMode(value: unknown, option: string): AuthHeaderMode {
  if (value === undefined) return 'authorization';
  if (typeof value === 'string' && (MODES as readonly string[]).includes(value.toLowerCase())) {
    return value.toLowerCase() as AuthHeaderMode;
  }
  throw new TypeError(
    `${option} must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(value)}`,
  );
}
