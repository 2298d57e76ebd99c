/**
 * The `doctor` command line a hint tells a person to run, and the one `doctor` prints at the
 * top of its report: the same URL and the same credential flags that made the request, so
 * that doctor checks what failed (a hint without `--audience` sends doctor to another
 * audience, which may well work).
 */
import type {CommonOptions} from '../options.js';

/**
 * The flags that chose the credential and where the token goes, as the user typed them:
 * `--key-file`, `--impersonate`, `--audience`, `--header` (when not the default) and
 * `--emulator`. Output flags (`--json`, `--verbose`) are left out.
 *
 * @example
 * credentialFlags({audience: 'https://x.a.run.app', header: 'authorization'}); // ['--audience', 'https://x.a.run.app']
 */
export function credentialFlags(opts: CommonOptions): string[] {
  const flags: string[] = [];
  if (opts.keyFile !== undefined) flags.push('--key-file', opts.keyFile);
  if (opts.impersonate !== undefined) flags.push('--impersonate', opts.impersonate);
  if (opts.audience !== undefined) flags.push('--audience', opts.audience);
  if (opts.header !== undefined && opts.header !== 'authorization')
    flags.push('--header', opts.header);
  if (opts.emulator !== undefined) flags.push('--emulator', opts.emulator);
  return flags;
}

/**
 * `mcp-google-auth doctor URL [flags]`, each word quoted for a POSIX shell when it needs it.
 *
 * @example
 * doctorCommandLine('https://x.a.run.app/mcp', ['--header', 'proxy-authorization']);
 * // 'mcp-google-auth doctor https://x.a.run.app/mcp --header proxy-authorization'
 */
export function doctorCommandLine(url: URL | string, flags: readonly string[] = []): string {
  const href = typeof url === 'string' ? url : url.href;
  return ['mcp-google-auth', 'doctor', href, ...flags].map(shellWord).join(' ');
}

/** A word as a POSIX shell reads it back: bare when safe, else single-quoted. */
function shellWord(word: string): string {
  if (word !== '' && /^[A-Za-z0-9@%+=:,./_-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
