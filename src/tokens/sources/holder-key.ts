/**
 * What a token source is keyed by in the shared {@link TokenCache}: material only the holder
 * of the credential has, hashed. A key file is named by its public key (derived from the
 * private key), user credentials by their refresh token, a federation config by its content.
 * Never by `client_email` or `private_key_id`: anyone can type those into a forged key file.
 *
 * The digests are one-way (SHA-256, full length, so collisions cannot be searched for) and
 * never shown to a person: error texts describe a credential by its origin, not its key.
 */
import {createHash, createPublicKey} from 'node:crypto';

/** Most memoized key digests (deriving a public key costs a PEM parse, ~0.1-0.3 ms). */
const MEMO_MAX = 256;
const memo = new Map<string, string>();

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('base64url');
}

/**
 * `spki-sha256:<SHA-256 of the DER public key>` for a PEM private key: the same for every
 * encoding of the same key (PKCS#1 or PKCS#8, any line breaks). A text node cannot read as a
 * key (it will fail when used) is named by the hash of the text itself.
 *
 * @example
 * publicKeyDigest(key.privateKey) // 'spki-sha256:3q2-7w...'
 */
export function publicKeyDigest(privateKeyPem: string): string {
  // The memo is keyed by a hash of the key text, so it never holds key material.
  const textHash = sha256(privateKeyPem);
  let digest = memo.get(textHash);
  if (digest !== undefined) {
    memo.delete(textHash);
    memo.set(textHash, digest);
    return digest;
  }
  try {
    const spki = createPublicKey(privateKeyPem).export({type: 'spki', format: 'der'});
    digest = `spki-sha256:${sha256(spki)}`;
  } catch {
    digest = `pem-sha256:${textHash}`;
  }
  memo.set(textHash, digest);
  if (memo.size > MEMO_MAX) {
    const oldest = memo.keys().next();
    if (!oldest.done) memo.delete(oldest.value);
  }
  return digest;
}

/** JSON with object keys sorted at every level, so equal content hashes equally. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map(
        (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** `sha256:` and the SHA-256 of `value`'s canonical JSON. */
export function contentDigest(value: unknown): string {
  return `sha256:${sha256(canonicalJson(value))}`;
}

/**
 * The holder key of a Google credential file's content (what `GOOGLE_APPLICATION_CREDENTIALS`
 * or gcloud's ADC file holds):
 * - `service_account`: its public key ({@link publicKeyDigest});
 * - `authorized_user`: its OAuth client and refresh token;
 * - `impersonated_service_account`: the holder key of its source credentials, with the target
 *   and delegates it asks for;
 * - `external_account` and anything else: the whole configuration.
 */
export function credentialHolderKey(json: Record<string, unknown>): string {
  const type = typeof json.type === 'string' ? json.type : 'unknown';
  switch (type) {
    case 'service_account':
      if (typeof json.private_key === 'string') {
        return `service_account:${publicKeyDigest(json.private_key)}`;
      }
      break;
    case 'authorized_user':
      if (typeof json.refresh_token === 'string') {
        return `authorized_user:${contentDigest([json.client_id, json.refresh_token])}`;
      }
      break;
    case 'impersonated_service_account': {
      const source = json.source_credentials;
      const base =
        source !== null && typeof source === 'object' && !Array.isArray(source)
          ? credentialHolderKey(source as Record<string, unknown>)
          : 'none';
      return `impersonated:${contentDigest([json.service_account_impersonation_url, json.delegates ?? [], base])}`;
    }
  }
  return `${type}:${contentDigest(json)}`;
}
