import { z } from 'zod';

/** `reinstate` gives back credit a refund or dispute took, when the refund failed or the dispute was won. */
export const LEDGER_KINDS = [
  'purchase',
  'grant',
  'hold',
  'capture',
  'release',
  'refund',
  'reversal',
  'reinstate',
] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

export const priceSchema = z.object({
  amount: z.number().int().nonnegative(),
  currency: z.string().regex(/^[a-z]{3}$/),
});
export type Price = z.infer<typeof priceSchema>;

export const packSchema = z.object({ id: z.string(), seconds: z.number().int().positive(), price: priceSchema });
export type Pack = z.infer<typeof packSchema>;

export const ledgerEntryViewSchema = z.object({
  id: z.string(),
  kind: z.enum(LEDGER_KINDS),
  seconds: z.number().int(),
  ref: z.string(),
  at: z.string(),
});
export type LedgerEntryView = z.infer<typeof ledgerEntryViewSchema>;

export const creditsSchema = z.object({
  balanceSeconds: z.number().int(),
  availableSeconds: z.number().int(),
  owesSeconds: z.number().int().optional(),
  packs: z.array(packSchema),
  history: z.array(ledgerEntryViewSchema),
  nextCursor: z.string().nullable().optional(),
  simulatedPayments: z.boolean().optional(),
});
export type Credits = z.infer<typeof creditsSchema>;

export const creditsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
});

export const checkoutBodySchema = z.strictObject({ packId: z.string().min(1).max(64) });
export type CheckoutBody = z.infer<typeof checkoutBodySchema>;
export const checkoutResponseSchema = z.object({ url: z.string() });

export const creditsUpdatedEventSchema = z.object({
  balanceSeconds: z.number().int(),
  availableSeconds: z.number().int(),
});
export type CreditsUpdatedEvent = z.infer<typeof creditsUpdatedEventSchema>;
