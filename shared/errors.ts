import { z } from 'zod';

/**
 * Every error the API or a socket ack can return. The code is the stable contract
 * (the extension translates it); the message is human text for developers.
 */
export const ERROR_CODES = [
  'invalid_request',
  'invalid_json',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'email_taken',
  'invalid_credentials',
  // The signed-in parent's own password, asked again (closing the account, a new email or password).
  'wrong_password',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'consent_required',
  'consent_unverified',
  'consent_outdated',
  'account_closed',
  'processing_restricted',
  'insufficient_credit',
  'credit_owed',
  'credit_held',
  'quiet_hours',
  'daily_limit_reached',
  'call_in_progress',
  'call_not_found',
  'invalid_sdp',
  'provider_unavailable',
  // What several processes share (the store, Redis) is briefly away: no new call starts; live calls go on.
  'service_unavailable',
  'unsupported_image',
  'unknown_pack',
  'invalid_signature',
  'policy_notice_too_short',
  'policy_version_exists',
  'invalid_token',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export const apiErrorSchema = z.object({
  error: z.object({
    code: z.string().regex(/^[a-z][a-z0-9_]*$/),
    message: z.string(),
    fields: z.record(z.string(), z.string()).optional(),
  }),
});
export type ApiErrorBody = z.infer<typeof apiErrorSchema>;
