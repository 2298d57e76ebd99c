/**
 * Where gcloud keeps its logins, and the cache identity of a gcloud source derived from
 * them.
 *
 * What is honest here: a gcloud source holds no secret of its own. Its secret is gcloud's
 * credential store (`credentials.db` in gcloud's configuration directory: the refresh tokens
 * and keys of every account logged in, readable only by their owner). The source never parses
 * that file and never keeps its bytes; it hashes them, with the configuration that picks the
 * account, into its `id`. So a token is shared only by sources that stand on the same store
 * with the same account: another configuration directory, another login (or a logout) or
 * another active account gives another `id`, and a custom `TokenSource` cannot claim a
 * gcloud source's `id` without reading the owner's store. What the hash cannot do: any code in
 * the process that may build a gcloud source can also run gcloud itself, so the key keeps
 * tokens apart; it does not guard them from the process's own code.
 */
import {createHash} from 'node:crypto';
import {closeSync, fstatSync, openSync, readSync} from 'node:fs';
import {homedir} from 'node:os';
import {join, resolve} from 'node:path';

/** Largest credential store hashed whole; a larger one is identified by size and mtime. */
const MAX_HASHED_BYTES = 8 * 1024 * 1024;

/** gcloud's configuration directory: `CLOUDSDK_CONFIG`, else `~/.config/gcloud` (`%APPDATA%\gcloud` on Windows). */
export function gcloudConfigDir(env: NodeJS.ProcessEnv): string {
  if (env.CLOUDSDK_CONFIG) return resolve(env.CLOUDSDK_CONFIG);
  if (process.platform === 'win32') return join(env.APPDATA || homedir(), 'gcloud');
  return join(env.HOME || homedir(), '.config', 'gcloud');
}

/** The parts of a gcloud source that decide which token it mints. */
export interface GcloudIdentityParts {
  /** `--account`, when given. */
  readonly account: string | undefined;
  /** The impersonation chain (delegates, then the target), when impersonating. */
  readonly impersonation: readonly string[];
}

/**
 * The cache `id` of a gcloud source: `gcloud:sha256:<SHA-256, base64url>` over the
 * configuration directory, the account, the impersonation chain, the active configuration
 * (`CLOUDSDK_ACTIVE_CONFIG_NAME`, `active_config`, its properties file, `CLOUDSDK_CORE_ACCOUNT`)
 * and the bytes of the credential store, read once here. Full length and one-way, like the
 * holder keys of the other sources, and never shown to a person.
 */
export function gcloudSourceId(parts: GcloudIdentityParts, env: NodeJS.ProcessEnv): string {
  const dir = gcloudConfigDir(env);
  const configName =
    env.CLOUDSDK_ACTIVE_CONFIG_NAME || fileText(join(dir, 'active_config')).trim() || 'default';
  const hash = createHash('sha256');
  for (const part of [
    dir,
    parts.account ?? '',
    parts.impersonation.join(','),
    env.CLOUDSDK_CORE_ACCOUNT ?? '',
    configName,
  ]) {
    hash.update(part).update('\u0000');
  }
  hashFile(hash, join(dir, 'configurations', `config_${configName}`));
  hashFile(hash, join(dir, 'credentials.db'));
  return `gcloud:sha256:${hash.digest('base64url')}`;
}

/** Adds the bytes of `path` (or that it is absent or unreadable) to `hash`. */
function hashFile(hash: ReturnType<typeof createHash>, path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const stat = fstatSync(fd);
    if (stat.size > MAX_HASHED_BYTES) {
      hash.update(`large:${stat.size}:${stat.mtimeMs}:${stat.ino}`);
      return;
    }
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    hash.update('file:').update(buffer.subarray(0, read));
    buffer.fill(0);
  } catch (error) {
    hash.update(`absent:${(error as {code?: unknown}).code ?? 'error'}`);
  } finally {
    hash.update('\u0000');
    if (fd !== undefined) closeSync(fd);
  }
}

function fileText(path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buffer = Buffer.alloc(256);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, n).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
