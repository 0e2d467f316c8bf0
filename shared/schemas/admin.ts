import { z } from 'zod';
import { emailSchema } from './account.js';

export const adminAccountQuerySchema = z.strictObject({ email: emailSchema });
export const adminGrantBodySchema = z.strictObject({
  seconds: z
    .number()
    .int()
    .min(1)
    .max(24 * 60 * 60),
  reason: z.string().trim().min(3).max(500),
});
export type AdminGrantBody = z.infer<typeof adminGrantBodySchema>;
export const adminAuditQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(200).optional(),
});
