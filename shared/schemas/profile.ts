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

/**
 * The IANA zone quiet hours and the day of the daily minutes are read in: the parent sets it
 * with the controls; null reads them in UTC. Only zones this runtime knows are accepted.
 */
export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'Not an IANA time zone');

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
  timeZone: timeZoneSchema.nullable(),
};

/** The id a client may echo back; never longer than any id the server hands out. */
const profileIdField = z.string().min(1).max(64);

/**
 * Create: name, age and language are required; the rest default to empty. Unknown keys are
 * refused (P7). `id` is a known field of the shape but the server assigns it, so a client
 * that sends one is told so (400, `fields.id`) rather than seeing it silently dropped.
 */
export const createProfileBodySchema = z.strictObject({
  id: z.never({ error: 'Ids are assigned by the server; leave id out when creating a profile' }).optional(),
  name: fields.name,
  age: fields.age,
  language: fields.language,
  wishList: fields.wishList.default([]),
  behaviorNotes: fields.behaviorNotes.default(''),
  preferences: fields.preferences.default(''),
  photoId: fields.photoId.default(null),
  dailyMinutes: fields.dailyMinutes.default(null),
  quietHours: fields.quietHours.default(null),
  timeZone: fields.timeZone.default(null),
});
export type CreateProfileBody = z.infer<typeof createProfileBodySchema>;

/**
 * Patch: any profile field. `id` is accepted so that a profile read with GET can be sent back
 * whole; the route refuses it (400, `fields.id`) unless it is the id in the path, and ignores it.
 */
export const patchProfileBodySchema = z
  .strictObject({
    id: profileIdField.optional(),
    name: fields.name.optional(),
    age: fields.age.optional(),
    language: fields.language.optional(),
    wishList: fields.wishList.optional(),
    behaviorNotes: fields.behaviorNotes.optional(),
    preferences: fields.preferences.optional(),
    photoId: fields.photoId.optional(),
    dailyMinutes: fields.dailyMinutes.optional(),
    quietHours: fields.quietHours.optional(),
    timeZone: fields.timeZone.optional(),
  })
  .refine((b) => Object.keys(b).some((k) => k !== 'id'), { message: 'Nothing to change' });
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
  timeZone: z.string().nullable(),
});
export type Profile = z.infer<typeof profileSchema>;

export const profileListSchema = z.object({ profiles: z.array(profileSchema) });

/** POST /api/photos 201: `id` and `photoId` are the same temporary photo id (either name works). */
export const photoUploadResponseSchema = z.object({ id: z.string(), photoId: z.string(), expiresAt: z.string() });
