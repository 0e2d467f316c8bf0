import { z } from 'zod';
import { LOCALES } from '../locales.js';
import { lineText, multilineText } from '../text.js';
import { emailSchema, noticeSchema, passwordSchema } from './account.js';
import { LEDGER_KINDS } from './credits.js';
import { CALL_END_REASONS } from './calls.js';
import { profileSchema } from './profile.js';

// ---------------------------------------------------------------------------------------
// Export (GET /api/me/export): one versioned JSON document with everything held (P11).
// ---------------------------------------------------------------------------------------

export const EXPORT_SCHEMA_ID = 'call-santa-export';
export const EXPORT_VERSION = 1;

const iso = z.string();
const isoOrNull = z.string().nullable();

/** A support request or feedback, as its sender sees it (and the export holds it). */
export const supportRequestSchema = z.object({
  id: z.string(),
  kind: z.enum(['support', 'feedback']),
  subject: z.string(),
  message: z.string(),
  status: z.enum(['open', 'closed']),
  createdAt: iso,
  closedAt: isoOrNull,
  /** When the closed request is deleted; null while open. */
  deleteAfter: isoOrNull,
});
export type SupportRequest = z.infer<typeof supportRequestSchema>;

/** One outbox mail, as the admin outbox lists it and the parent's export holds it. */
export const outboxEntrySchema = z.object({
  id: z.string(),
  accountId: z.string().nullable(),
  to: z.string(),
  kind: z.enum(['essential', 'marketing']),
  template: z.string(),
  locale: z.enum(LOCALES),
  subject: z.string(),
  /** null for mail that carries a one-time secret (password reset links are never shown to admins). */
  body: z.string().nullable(),
  createdAt: iso,
  sentAt: isoOrNull,
  attempts: z.number().int(),
});
export type OutboxEntry = z.infer<typeof outboxEntrySchema>;

export const exportPhotoSchema = z.object({
  id: z.string(),
  mime: z.enum(['image/jpeg', 'image/png', 'image/webp']),
  bytes: z.number().int(),
  createdAt: iso,
  /** Temporary uploads expire; saved ones have null. */
  expiresAt: isoOrNull,
  /** The image itself, `data:<mime>;base64,...`; null if the file is already gone. */
  dataUrl: z.string().nullable(),
});

export const exportDocumentSchema = z.object({
  schema: z.literal(EXPORT_SCHEMA_ID),
  version: z.literal(EXPORT_VERSION),
  exportedAt: iso,
  account: z.object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    locale: z.enum(LOCALES),
    status: z.enum(['active', 'closed']),
    restricted: z.boolean(),
    marketingOptIn: z.boolean(),
    createdAt: iso,
    passwordChangedAt: iso,
    closedAt: isoOrNull,
    purgeBy: isoOrNull,
  }),
  consents: z.array(
    z.object({
      policyVersion: z.string(),
      at: iso,
      method: z.string(),
      verifiedAt: isoOrNull,
      verifiedBy: z.string().nullable(),
    }),
  ),
  /** Each child profile as the profiles API shows it, with its timestamps and photo. */
  profiles: z.array(profileSchema.extend({ createdAt: iso, updatedAt: iso, photo: exportPhotoSchema.nullable() })),
  /** Uploads not (yet) saved to a profile; they are deleted 24 h after upload. */
  temporaryPhotos: z.array(exportPhotoSchema),
  ledger: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(LEDGER_KINDS),
      seconds: z.number().int(),
      ref: z.string(),
      callId: z.string().nullable(),
      at: iso,
      note: z.string().nullable(),
    }),
  ),
  payments: z.array(
    z.object({
      id: z.string(),
      provider: z.enum(['stripe', 'dev']),
      packId: z.string(),
      seconds: z.number().int(),
      amount: z.number().int(),
      currency: z.string(),
      status: z.string(),
      amountRefunded: z.number().int(),
      checkoutSessionId: z.string(),
      paymentIntentId: z.string().nullable(),
      createdAt: iso,
      paidAt: isoOrNull,
    }),
  ),
  calls: z.array(
    z.object({
      id: z.string(),
      profileId: z.string().nullable(),
      provider: z.enum(['openai', 'simulated']),
      startedAt: iso,
      endedAt: isoOrNull,
      seconds: z.number().int(),
      reason: z.enum(CALL_END_REASONS).nullable(),
    }),
  ),
  logins: z.array(z.object({ at: iso, success: z.boolean(), browser: z.string() })),
  sessions: z.array(z.object({ createdAt: iso, expiresAt: iso, revokedAt: isoOrNull })),
  notices: z.array(noticeSchema),
  /** Emails queued or sent to the account; bodies that carried a one-time link are withheld. */
  emails: z.array(outboxEntrySchema),
  support: z.array(supportRequestSchema),
  /** Audit entries about the account, its profiles, calls and payments (ids and counts only). */
  audit: z.array(
    z.object({
      seq: z.number().int(),
      at: iso,
      actor: z.string(),
      action: z.string(),
      subject: z.string().nullable(),
      details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    }),
  ),
});
export type ExportDocument = z.infer<typeof exportDocumentSchema>;

// ---------------------------------------------------------------------------------------
// Password reset (public): request always answers 202, confirm needs the emailed token.
// ---------------------------------------------------------------------------------------

export const passwordResetRequestBodySchema = z.strictObject({ email: emailSchema });
export type PasswordResetRequestBody = z.infer<typeof passwordResetRequestBodySchema>;
/**
 * The answer to a reset request: always the same, whether the email is known or not.
 * `delivery` is the server's, not the account's: whether it sends email at all (without SMTP_URL it does not).
 */
export const passwordResetRequestResponseSchema = z.object({
  ok: z.literal(true),
  delivery: z.enum(['email', 'outbox']),
});

export const passwordResetConfirmBodySchema = z.strictObject({
  token: z.string().min(20).max(200),
  newPassword: passwordSchema,
});
export type PasswordResetConfirmBody = z.infer<typeof passwordResetConfirmBodySchema>;

// ---------------------------------------------------------------------------------------
// Support requests and feedback (communication data, kept for a stated period once closed).
// ---------------------------------------------------------------------------------------

export const SUPPORT_LIMITS = { subject: 200, message: 5000 } as const;

export const supportBodySchema = z.strictObject({
  kind: z.enum(['support', 'feedback']).default('support'),
  subject: lineText(SUPPORT_LIMITS.subject, 1),
  message: multilineText(SUPPORT_LIMITS.message).pipe(z.string().min(1)),
});
export type SupportBody = z.infer<typeof supportBodySchema>;

export const supportListSchema = z.object({ requests: z.array(supportRequestSchema) });

/** The admin view adds the account id (no email: look it up through /admin/accounts when needed). */
export const adminSupportRequestSchema = supportRequestSchema.extend({ accountId: z.string().nullable() });
export const adminSupportQuerySchema = z.strictObject({
  status: z.enum(['open', 'closed', 'all']).default('open'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

// ---------------------------------------------------------------------------------------
// Admin responses.
// ---------------------------------------------------------------------------------------

export const adminStatsSchema = z.object({
  accounts: z.object({ active: z.number().int(), closed: z.number().int(), restricted: z.number().int() }),
  calls: z.object({
    today: z.number().int(),
    live: z.number().int(),
    minutesToday: z.number().int(),
    minutesTotal: z.number().int(),
  }),
  creditSold: z.object({
    seconds: z.number().int(),
    payments: z.number().int(),
    amounts: z.array(z.object({ currency: z.string(), amount: z.number().int() })),
  }),
  outbox: z.object({ pending: z.number().int() }),
  support: z.object({ open: z.number().int() }),
});
export type AdminStats = z.infer<typeof adminStatsSchema>;

export const adminAccountSchema = z.object({
  id: z.string(),
  status: z.enum(['active', 'closed']),
  restricted: z.boolean(),
  createdAt: iso,
  purgeBy: isoOrNull,
  consent: z.object({ version: z.string(), verified: z.boolean() }).nullable(),
  profiles: z.number().int(),
  balanceSeconds: z.number().int(),
  availableSeconds: z.number().int(),
});
export type AdminAccount = z.infer<typeof adminAccountSchema>;

export const adminOutboxQuerySchema = z.strictObject({
  status: z.enum(['pending', 'sent', 'all']).default('all'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export const retentionCountsSchema = z.object({
  accountsPurged: z.number().int(),
  photosDeleted: z.number().int(),
  callsDeleted: z.number().int(),
  loginsDeleted: z.number().int(),
  ledgerEntriesCompacted: z.number().int(),
  sessionsDeleted: z.number().int(),
  passwordResetsDeleted: z.number().int(),
  supportDeleted: z.number().int(),
  outboxDeleted: z.number().int(),
});
export type RetentionCounts = z.infer<typeof retentionCountsSchema>;

export const retentionRunSchema = z.object({ startedAt: iso, finishedAt: iso, counts: retentionCountsSchema });

export const noticeEventSchema = noticeSchema;
