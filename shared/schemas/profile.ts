import { z } from 'zod';
import { LOCALES } from '../locales.js';
import { lineText, multilineText } from '../text.js';

export const PROFILE_LIMITS = {
  name: 40,
  wishItem: 80,
  wishItems: 20,
  behaviorNotes: 500,
  preferences: 500,
  minAge: 3,
  maxAge: 12,
} as const;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Use HH:MM (24-hour)');

export const quietHoursSchema = z.strictObject({ from: hhmm, to: hhmm });
export type QuietHours = z.infer<typeof quietHoursSchema>;

const fields = {
  name: lineText(PROFILE_LIMITS.name, 1),
  age: z.number().int().min(PROFILE_LIMITS.minAge).max(PROFILE_LIMITS.maxAge),
  wishList: z.array(lineText(PROFILE_LIMITS.wishItem, 1)).max(PROFILE_LIMITS.wishItems),
  behaviorNotes: multilineText(PROFILE_LIMITS.behaviorNotes),
  preferences: multilineText(PROFILE_LIMITS.preferences),
  language: z.enum(LOCALES),
  photoId: z.string().min(1).max(64).nullable(),
  dailyMinutes: z.number().int().min(1).max(600).nullable(),
  quietHours: quietHoursSchema.nullable(),
};

/** Create: name, age and language are required; the rest default to empty. Unknown keys are refused (P7). */
export const createProfileBodySchema = z.strictObject({
  name: fields.name,
  age: fields.age,
  language: fields.language,
  wishList: fields.wishList.default([]),
  behaviorNotes: fields.behaviorNotes.default(''),
  preferences: fields.preferences.default(''),
  photoId: fields.photoId.default(null),
  dailyMinutes: fields.dailyMinutes.default(null),
  quietHours: fields.quietHours.default(null),
});
export type CreateProfileBody = z.infer<typeof createProfileBodySchema>;

export const patchProfileBodySchema = z
  .strictObject({
    name: fields.name.optional(),
    age: fields.age.optional(),
    language: fields.language.optional(),
    wishList: fields.wishList.optional(),
    behaviorNotes: fields.behaviorNotes.optional(),
    preferences: fields.preferences.optional(),
    photoId: fields.photoId.optional(),
    dailyMinutes: fields.dailyMinutes.optional(),
    quietHours: fields.quietHours.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'Nothing to change' });
export type PatchProfileBody = z.infer<typeof patchProfileBodySchema>;

export const profileSchema = z.object({
  id: z.string(),
  name: z.string(),
  age: z.number().int(),
  wishList: z.array(z.string()),
  behaviorNotes: z.string(),
  preferences: z.string(),
  language: z.enum(LOCALES),
  photoId: z.string().nullable(),
  dailyMinutes: z.number().int().nullable(),
  quietHours: quietHoursSchema.nullable(),
});
export type Profile = z.infer<typeof profileSchema>;

export const profileListSchema = z.object({ profiles: z.array(profileSchema) });

export const photoUploadResponseSchema = z.object({ photoId: z.string(), expiresAt: z.string() });
