import { z } from 'zod';
import { LOCALES } from '../locales.js';
import { lineText } from '../text.js';

export const localeSchema = z.enum(LOCALES);
export const emailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email());
/** OWASP: at least 8, allow long passphrases, cap to bound hashing cost. */
export const passwordSchema = z.string().min(8).max(128);
export const personNameSchema = lineText(80, 1);

export const signupBodySchema = z.strictObject({
  email: emailSchema,
  password: passwordSchema,
  name: personNameSchema,
  locale: localeSchema,
});
export type SignupBody = z.infer<typeof signupBodySchema>;

export const loginBodySchema = z.strictObject({
  email: emailSchema,
  password: z.string().min(1).max(128),
});
export type LoginBody = z.infer<typeof loginBodySchema>;

export const consentStateSchema = z.object({
  version: z.string(),
  at: z.string(),
  verified: z.boolean(),
});

export const noticeSchema = z.object({
  id: z.string(),
  kind: z.string(),
  policyVersion: z.string().nullable(),
  effectiveAt: z.string().nullable(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});
export type Notice = z.infer<typeof noticeSchema>;

export const accountSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  locale: localeSchema,
  restricted: z.boolean(),
  marketingOptIn: z.boolean(),
  consent: consentStateSchema.nullable(),
  balanceSeconds: z.number().int(),
  availableSeconds: z.number().int(),
  deletion: z.object({ purgeBy: z.string() }).nullable(),
  /** Extra fields are additive; clients must ignore what they do not know. */
  owesSeconds: z.number().int().optional(),
  notices: z.array(noticeSchema).optional(),
  createdAt: z.string().optional(),
});
export type Account = z.infer<typeof accountSchema>;

export const authResponseSchema = z.object({ token: z.string(), account: accountSchema });
export type AuthResponse = z.infer<typeof authResponseSchema>;

/** PATCH /api/me: rectify fields, opt out, change password or email (both re-check the password). */
export const patchMeBodySchema = z
  .strictObject({
    name: personNameSchema.optional(),
    locale: localeSchema.optional(),
    marketingOptIn: z.boolean().optional(),
    email: emailSchema.optional(),
    newPassword: passwordSchema.optional(),
    currentPassword: z.string().min(1).max(128).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'Nothing to change' })
  .refine((b) => (b.email === undefined && b.newPassword === undefined) || b.currentPassword !== undefined, {
    message: 'currentPassword is required to change email or password',
    path: ['currentPassword'],
  });
export type PatchMeBody = z.infer<typeof patchMeBodySchema>;

/**
 * DELETE /api/me: the bearer token alone closes the account (DESIGN §8 names no body; the route
 * reads no body as `{}`). A password, when sent, is still checked: a wrong one changes nothing.
 */
export const deleteMeBodySchema = z.strictObject({ password: z.string().min(1).max(128).optional() });
export type DeleteMeBody = z.infer<typeof deleteMeBodySchema>;

/** 202: the account as GET /api/me shows it (now with `deletion`), plus the purge date at the top. */
export const deleteMeResponseSchema = accountSchema.extend({
  deletion: z.object({ purgeBy: z.string() }),
  purgeBy: z.string(),
});
export type DeleteMeResponse = z.infer<typeof deleteMeResponseSchema>;

export const restrictBodySchema = z.strictObject({ restricted: z.boolean() });
export type RestrictBody = z.infer<typeof restrictBodySchema>;
