import { z } from 'zod';

export const policyTextSchema = z.strictObject({
  en: z.string().min(1).max(100_000),
  da: z.string().min(1).max(100_000),
  sv: z.string().min(1).max(100_000),
});

const policyVersionView = z.object({
  version: z.string(),
  effectiveAt: z.string(),
  material: z.boolean(),
  publishedAt: z.string().optional(),
  text: z.object({ en: z.string(), da: z.string(), sv: z.string() }),
});

export const policySchema = policyVersionView.extend({ upcoming: policyVersionView.nullable() });
export type Policy = z.infer<typeof policySchema>;

export const consentBodySchema = z.strictObject({ policyVersion: z.string().min(1).max(64) });
export type ConsentBody = z.infer<typeof consentBodySchema>;

export const consentResponseSchema = z.object({
  version: z.string(),
  at: z.string(),
  method: z.string(),
  verified: z.boolean(),
});

export const publishPolicyBodySchema = z.strictObject({
  version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
  material: z.boolean(),
  effectiveAt: z.iso.datetime({ offset: true }),
  text: policyTextSchema,
});
export type PublishPolicyBody = z.infer<typeof publishPolicyBodySchema>;
