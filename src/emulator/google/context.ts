/**
 * The state handlers share: identity, clock, keys and token minting of one emulator.
 */
import type {IapKeyRing} from './iap-keys.js';
import type {IdentityRegistry} from './identities.js';
import type {SigningKeyRing} from './signing-keys.js';

/** Google's issuer for ID tokens. */
export const GOOGLE_ISSUER = 'https://accounts.google.com';

/** What to put in an ID token. */
export interface IdTokenSpec {
  /** The `aud` claim. */
  audience: string;
  /** The principal; its numeric id is the `sub`. */
  email: string;
  /** Include `email` and `email_verified`. Default is true. */
  includeEmail?: boolean;
  /** The `azp` claim. Default is the principal's numeric id. */
  azp?: string;
  /** The `sub` claim. Default is the principal's numeric id. */
  sub?: string;
  /** `iat`, epoch seconds. Default is the emulator's clock. */
  issuedAt?: number;
  /** `exp - iat`, seconds. Default is the emulator's token lifetime. */
  lifetimeSeconds?: number;
  /** Extra claims, applied last (they may override the standard ones). */
  claims?: Record<string, unknown>;
}

/** The shared state of one emulator. */
export interface EmulatorContext {
  /** Project id (`emulator-project` by default). */
  readonly projectId: string;
  /** Numeric project number derived from the project id. */
  readonly projectNumber: string;
  /** The metadata server's default service account. */
  readonly metadataServiceAccount: string;
  /** The emulator's origin, `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The clock, epoch milliseconds. */
  now(): number;
  /** Lifetime of issued access and ID tokens, seconds. */
  tokenLifetimeSeconds(): number;
  /** ID-token signing keys. */
  readonly keys: SigningKeyRing;
  /** IAP's assertion signing keys. */
  readonly iapKeys: IapKeyRing;
  /** Principals and tokens. */
  readonly identities: IdentityRegistry;
}

/** Builds the claims of an ID token as Google issues them and signs them with the current key. */
export function mintIdToken(context: EmulatorContext, spec: IdTokenSpec): string {
  const iat = spec.issuedAt ?? Math.floor(context.now() / 1000);
  const lifetime = spec.lifetimeSeconds ?? context.tokenLifetimeSeconds();
  const numericId = context.identities.numericId(spec.email);
  const claims: Record<string, unknown> = {
    aud: spec.audience,
    azp: spec.azp ?? numericId,
  };
  if (spec.includeEmail ?? true) {
    claims.email = spec.email;
    claims.email_verified = true;
  }
  Object.assign(
    claims,
    {exp: iat + lifetime, iat, iss: GOOGLE_ISSUER, sub: spec.sub ?? numericId},
    spec.claims,
  );
  return context.keys.sign(claims);
}

/** An RFC 3339 UTC timestamp without fractional seconds, as Google's JSON APIs write them. */
export function rfc3339(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
