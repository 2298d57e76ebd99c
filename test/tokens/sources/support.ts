/**
 * Helpers for the token-source tests: emulator key files in ADK's camelCase, a fetch that
 * records every secret on the wire, a leak check, and scoped process.env changes.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {inspect} from 'node:util';
import type {ServiceAccountCredential} from '../../../src/credentials/types.js';
import type {FetchLike} from '../../../src/tokens/google-routing.js';

/** A key file's JSON (snake_case) as ADK's camelCase `ServiceAccountCredential`. */
export function keyCredential(json: Record<string, string>): ServiceAccountCredential {
  return {
    type: 'service_account',
    clientEmail: json.client_email as string,
    privateKey: json.private_key as string,
    ...(json.private_key_id ? {privateKeyId: json.private_key_id} : {}),
    ...(json.project_id ? {projectId: json.project_id} : {}),
  };
}

/** A fetch over the global one that remembers every credential that crossed it, both ways. */
export function recordingFetch(): {fetch: FetchLike; secrets: Set<string>; urls: string[]} {
  const secrets = new Set<string>();
  const urls: string[] = [];
  const add = (value: unknown) => {
    if (typeof value === 'string' && value.length >= 8) secrets.add(value);
  };
  const fetchImpl: FetchLike = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    urls.push(url);
    const headers = new Headers(init?.headers);
    const auth = headers.get('authorization');
    if (auth?.startsWith('Bearer ')) add(auth.slice(7));
    const body = init?.body;
    if (body instanceof URLSearchParams || typeof body === 'string') {
      const text = String(body);
      const form = new URLSearchParams(text);
      for (const name of ['assertion', 'refresh_token', 'client_secret', 'subject_token'])
        add(form.get(name));
    }
    const response = await fetch(input, init);
    try {
      const json = (await response.clone().json()) as Record<string, unknown>;
      for (const name of ['access_token', 'id_token', 'token', 'accessToken', 'refresh_token'])
        add(json[name]);
    } catch {
      const text = await response.clone().text();
      if (/^eyJ/.test(text)) add(text.trim());
    }
    return response;
  };
  return {fetch: fetchImpl, secrets, urls};
}

/** Every piece of text an error shows when logged: message, stack, causes, inspected whole. */
export function errorText(error: unknown): string {
  const parts: string[] = [inspect(error, {depth: 8, showHidden: false})];
  let current: unknown = error;
  for (let i = 0; i < 8 && current; i++) {
    if (current instanceof Error) parts.push(current.message, current.stack ?? '');
    current = (current as {cause?: unknown}).cause;
  }
  try {
    parts.push(JSON.stringify(error));
  } catch {
    // circular
  }
  return parts.join('\n');
}

/**
 * The pieces of `secret` that must not appear in any text: 20-character windows (step 10),
 * each line of a PEM body, or the whole secret when short.
 */
export function secretPieces(secret: string): string[] {
  const pieces = new Set<string>();
  if (secret.includes('-----BEGIN')) {
    for (const line of secret.split('\n')) {
      if (line.length >= 20 && !line.startsWith('-----')) pieces.add(line);
    }
  }
  if (secret.length <= 20) pieces.add(secret);
  for (let i = 0; i + 20 <= secret.length; i += 10) {
    const piece = secret.slice(i, i + 20);
    if (!piece.startsWith('-----') && !/^[A-Za-z]+$/.test(piece)) pieces.add(piece);
  }
  return [...pieces];
}

/** The secrets (by position) that leak into `text`. */
export function leakedSecrets(text: string, secrets: Iterable<string>): string[] {
  const leaks: string[] = [];
  for (const secret of secrets) {
    if (secretPieces(secret).some((piece) => text.includes(piece)))
      leaks.push(`${secret.slice(0, 6)}…`);
  }
  return leaks;
}

/** An empty temporary directory for CLOUDSDK_CONFIG, so no real gcloud file is ever read. */
export function emptyGcloudDir(): {path: string; remove(): void} {
  const path = mkdtempSync(join(tmpdir(), 'mga-gcloud-'));
  return {path, remove: () => rmSync(path, {recursive: true, force: true})};
}

/** Sets environment variables (undefined deletes) and returns the function that restores them. */
export function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(vars)) {
    saved.set(name, process.env[name]);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** The variables every ADC test starts from: nothing found unless the test sets it. */
export const CLEAN_ADC_ENV: Record<string, undefined> = {
  GOOGLE_APPLICATION_CREDENTIALS: undefined,
  GOOGLE_AUTH_EMULATOR_HOST: undefined,
  GCE_METADATA_HOST: undefined,
  GCE_METADATA_IP: undefined,
  METADATA_SERVER_DETECTION: undefined,
  GOOGLE_CLOUD_PROJECT: undefined,
  GCLOUD_PROJECT: undefined,
  GOOGLE_CLOUD_QUOTA_PROJECT: undefined,
};
