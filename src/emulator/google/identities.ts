/**
 * What the emulator remembers about principals: the service-account keys it issued, the
 * authorized users it created, the federated subject tokens it wrote, the access tokens it
 * handed out (opaque strings with an email and an expiry), and the denied impersonations.
 */
import {createHash, randomBytes} from 'node:crypto';
import type {KeyObject} from 'node:crypto';

/** A service-account key the emulator issued. */
export interface ServiceAccountKeyRecord {
  /** The account. */
  email: string;
  /** `private_key_id`. */
  kid: string;
  /** Verifies the account's assertions. */
  publicKey: KeyObject;
}

/** An authorized user (refresh token) the emulator created. */
export interface AuthorizedUserRecord {
  /** The user's email. */
  email: string;
  /** OAuth client id (the `aud` of the user's ID tokens). */
  clientId: string;
  /** OAuth client secret. */
  clientSecret: string;
  /** The refresh token. */
  refreshToken: string;
}

/** A subject token the emulator wrote for an external_account file. */
export interface SubjectTokenRecord {
  /** The workload identity pool provider audience the token is valid for. */
  audience: string;
  /** The federated principal (`principal://iam.googleapis.com/...`). */
  principal: string;
}

/** How an access token was obtained. */
export type AccessTokenKind =
  'service_account' | 'authorized_user' | 'metadata' | 'impersonated' | 'federated';

/** An access token the emulator issued. */
export interface AccessTokenRecord {
  /** The principal the token stands for (email, or federated principal). */
  email: string;
  /** How it was obtained. */
  kind: AccessTokenKind;
  /** Granted scopes. */
  scopes: readonly string[];
  /** Expiry, epoch milliseconds. */
  expiresAt: number;
}

/** The emulator's memory of principals and tokens. */
export class IdentityRegistry {
  #keys = new Map<string, ServiceAccountKeyRecord>();
  #users = new Map<string, AuthorizedUserRecord>();
  /** OAuth clients that ever had a user: a revoked login does not remove its client. */
  #clients = new Set<string>();
  #subjects = new Map<string, SubjectTokenRecord>();
  #tokens = new Map<string, AccessTokenRecord>();
  #denied = new Set<string>();

  /** A stable numeric id (21 digits) for a principal: the `sub` of its ID tokens. */
  numericId(email: string): string {
    const digest = createHash('sha256').update(email.toLowerCase()).digest();
    let digits = '1';
    for (let i = 0; digits.length < 21; i++)
      digits += String((digest[i % digest.length] ?? 0) % 10);
    return digits;
  }

  /** Remembers an issued service-account key. */
  addServiceAccountKey(record: ServiceAccountKeyRecord): void {
    this.#keys.set(record.kid, record);
  }

  /** The issued key `kid`, if any. */
  keyById(kid: string): ServiceAccountKeyRecord | undefined {
    return this.#keys.get(kid);
  }

  /** Every issued key of `email`. */
  keysFor(email: string): ServiceAccountKeyRecord[] {
    return [...this.#keys.values()].filter((key) => key.email === email);
  }

  /** Whether the emulator issued a key for `email`. */
  hasServiceAccount(email: string): boolean {
    return this.keysFor(email).length > 0;
  }

  /** Remembers an authorized user. */
  addUser(record: AuthorizedUserRecord): void {
    this.#users.set(record.refreshToken, record);
    this.#clients.add(record.clientId);
  }

  /** Forgets the user owning `refreshToken` (a revoked login). Returns whether there was one. */
  removeUser(refreshToken: string): boolean {
    return this.#users.delete(refreshToken);
  }

  /** The user owning `refreshToken`, if any. */
  userByRefreshToken(refreshToken: string): AuthorizedUserRecord | undefined {
    return this.#users.get(refreshToken);
  }

  /** Whether `clientId` is the client of some created (possibly since revoked) user. */
  hasClient(clientId: string): boolean {
    return this.#clients.has(clientId);
  }

  /** Remembers a subject token written for an external_account file. */
  addSubjectToken(token: string, record: SubjectTokenRecord): void {
    this.#subjects.set(token, record);
  }

  /** The record of a subject token, if the emulator wrote it. */
  subjectToken(token: string): SubjectTokenRecord | undefined {
    return this.#subjects.get(token);
  }

  /** Issues an opaque access token (`ya29.emu-...`) and remembers it. */
  issueAccessToken(record: AccessTokenRecord): string {
    if (this.#tokens.size > 10_000) this.#prune(record.expiresAt - 86_400_000);
    const token = `ya29.emu-${randomBytes(24).toString('base64url')}`;
    this.#tokens.set(token, record);
    return token;
  }

  /** The record of an access token, unless unknown or expired at `nowMs`. */
  accessToken(token: string, nowMs: number): AccessTokenRecord | undefined {
    const record = this.#tokens.get(token);
    return record && record.expiresAt > nowMs ? record : undefined;
  }

  /** Denies `caller` impersonating `target` (`'*'` matches any principal). */
  deny(caller: string, target: string): void {
    this.#denied.add(`${caller}\n${target}`);
  }

  /** Whether `caller` is denied impersonating `target`. */
  isDenied(caller: string, target: string): boolean {
    return (
      this.#denied.has(`${caller}\n${target}`) ||
      this.#denied.has(`*\n${target}`) ||
      this.#denied.has(`${caller}\n*`)
    );
  }

  #prune(beforeMs: number): void {
    for (const [token, record] of this.#tokens)
      if (record.expiresAt < beforeMs) this.#tokens.delete(token);
  }
}
