import {createPrivateKey} from 'node:crypto';
import {z} from 'zod';

import {AuthCredentialTypes} from './types.js';

const nonEmpty = z.string().trim().min(1, {message: 'must not be empty'});
const email = nonEmpty.regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, {
  message: 'must be a service-account email (name@project.iam.gserviceaccount.com)',
});

/** A PEM private key; the check never echoes the value. */
const privateKeyPem = z
  .string()
  .superRefine((value, ctx) => {
    if (value.trim() === '') {
      ctx.addIssue({code: 'custom', message: 'must not be empty'});
      return;
    }
    let ok = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value);
    if (ok) {
      try {
        createPrivateKey(value.replace(/\\n/g, '\n'));
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      ctx.addIssue({
        code: 'custom',
        message:
          "is not a PEM-encoded private key; use the private_key field of the service account's JSON key file unchanged (its value is not shown here)",
      });
    }
  })
  .transform((value) => value.replace(/\\n/g, '\n'));

/** A Google service-account key (the JSON key file, after snake_case keys became camelCase). */
export const serviceAccountCredentialSchema = z.object({
  type: z.literal('service_account', {
    message: "must be 'service_account' (a service-account JSON key file)",
  }),
  projectId: nonEmpty.optional(),
  privateKeyId: nonEmpty.optional(),
  privateKey: privateKeyPem,
  clientEmail: email,
  clientId: nonEmpty.optional(),
  authUri: nonEmpty.optional(),
  tokenUri: nonEmpty.optional(),
  authProviderX509CertUrl: nonEmpty.optional(),
  clientX509CertUrl: nonEmpty.optional(),
  universeDomain: nonEmpty.optional(),
});

/** ADK's `ServiceAccount`, plus impersonation. Unknown fields are refused so that typos surface. */
export const serviceAccountSchema = z.strictObject({
  serviceAccountCredential: serviceAccountCredentialSchema.optional(),
  scopes: z
    .array(nonEmpty)
    .min(1, {message: 'must list at least one scope, or be left out'})
    .optional(),
  useDefaultCredential: z.boolean().optional(),
  useGcloudCredential: z.boolean().optional(),
  gcloudAccount: nonEmpty
    .regex(/^[^@\s,=]+@[^@\s,=]+\.[^@\s,=]+$/, {
      message:
        'must be the email of a gcloud account (a user, or a service account activated in gcloud); see `gcloud auth list`',
    })
    .optional(),
  useIdToken: z.boolean().optional(),
  audience: nonEmpty.optional(),
  impersonateServiceAccount: email.optional(),
  delegates: z.array(email).optional(),
});

const httpSchema = z.object({
  scheme: nonEmpty,
  credentials: z.strictObject({
    username: nonEmpty.optional(),
    password: z.string().optional(),
    token: nonEmpty.optional(),
  }),
  additionalHeaders: z.record(z.string(), z.string()).optional(),
  expiresAt: z.number().finite().optional(),
});

const oauth2Schema = z.object({
  clientId: nonEmpty.optional(),
  clientSecret: nonEmpty.optional(),
  authUri: nonEmpty.optional(),
  state: z.string().optional(),
  redirectUri: nonEmpty.optional(),
  authResponseUri: nonEmpty.optional(),
  authCode: nonEmpty.optional(),
  accessToken: nonEmpty.optional(),
  refreshToken: nonEmpty.optional(),
  idToken: nonEmpty.optional(),
  expiresAt: z.number().finite().optional(),
  expiresIn: z.number().finite().optional(),
  audience: nonEmpty.optional(),
});

const authTypes = Object.values(AuthCredentialTypes) as [string, ...string[]];

/** ADK's `AuthCredential`. */
export const authCredentialSchema = z.strictObject({
  authType: z.enum(authTypes, {
    message: `must be one of ${authTypes.map((t) => `'${t}'`).join(', ')}`,
  }),
  resourceRef: nonEmpty.optional(),
  apiKey: nonEmpty.optional(),
  http: httpSchema.optional(),
  oauth2: oauth2Schema.optional(),
  serviceAccount: serviceAccountSchema.optional(),
});
