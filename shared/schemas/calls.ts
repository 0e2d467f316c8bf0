import { z } from 'zod';

export const MAX_SDP_BYTES = 32 * 1024;

export const CALL_END_REASONS = [
  'hangup', // the child (call window) hung up
  'parent', // the parent ended it from the side panel
  'credit_exhausted',
  'max_duration', // the longest a call may last (MAX_CALL_SECONDS) was reached
  'daily_limit', // the child's daily minutes were used up
  'quiet_hours', // the child's quiet hours began
  'disconnected', // the call window's socket was gone past the grace period
  'provider_error',
  'admin',
  'server_shutdown',
  'server_restart', // found open at start-up after a crash, settled from its checkpoint
  // the server process running the call stopped, and the call could not move to another (a
  // Simulated Santa call lives in its process); settled from its last checkpoint
  'server_lost',
  'account_closed',
  'restricted',
  // the call's session was changed from the browser (instructions, transcription, voice...) and could not be put back
  'session_tampered',
] as const;
export type CallEndReason = (typeof CALL_END_REASONS)[number];

export const SAFETY_CATEGORIES = [
  'gift_promise',
  'personal_info_request',
  'secret',
  'break_magic',
  'inappropriate',
  'threat',
  'moderation',
  'child_distress',
  // something in the browser changed Santa's session or added instructions; the server put it back
  'session_tampered',
  // several of the child's utterances in a row could not be transcribed: the distress check cannot hear them
  'child_unheard',
] as const;
export type SafetyCategory = (typeof SAFETY_CATEGORIES)[number];

// Characters, not bytes: this runs in the browser too; the server's offer check counts bytes.
export const callStartSchema = z.strictObject({
  profileId: z.string().min(1).max(64),
  sdp: z.string().min(10).max(MAX_SDP_BYTES),
  /** IANA time zone of the call window (Intl); quiet hours and the daily cap are read in it. UTC without. */
  timeZone: z.string().min(1).max(64).optional(),
});
export type CallStart = z.infer<typeof callStartSchema>;

export const callStartOkSchema = z.object({
  callId: z.string(),
  sdp: z.string(),
  availableSeconds: z.number().int(),
});
export type CallStartOk = z.infer<typeof callStartOkSchema>;

/**
 * As REST's error body: `fields` names each bad field of an invalid_request. Any code: the
 * per-event acks with the codes each may answer are in socket.ts.
 */
export const ackErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), fields: z.record(z.string(), z.string()).optional() }),
});
export type AckError = z.infer<typeof ackErrorSchema>;

export const callEndSchema = z.strictObject({ callId: z.string().min(1).max(64) });
export type CallEnd = z.infer<typeof callEndSchema>;

/** The call window reconnected on a new socket within the grace period and takes its call back. */
export const callResumeSchema = z.strictObject({ callId: z.string().min(1).max(64) });
export type CallResume = z.infer<typeof callResumeSchema>;

/** The call window's media and data channel are connected: Santa may greet now (he is heard). */
export const callConnectedSchema = z.strictObject({ callId: z.string().min(1).max(64) });
export type CallConnected = z.infer<typeof callConnectedSchema>;

/** What Santa was saying was stopped by the guardrail: any caption of it is withdrawn at once. */
export const callSantaStoppedSchema = z.object({ callId: z.string() });
export type CallSantaStopped = z.infer<typeof callSantaStoppedSchema>;

export const callTickSchema = z.object({
  callId: z.string(),
  remainingSeconds: z.number().int(),
  elapsedSeconds: z.number().int(),
  profileId: z.string(),
});
export type CallTick = z.infer<typeof callTickSchema>;

export const callWarningSchema = z.object({
  callId: z.string(),
  kind: z.enum(['time_low', 'safety']),
  remainingSeconds: z.number().int().optional(),
  category: z.enum(SAFETY_CATEGORIES).optional(),
});
export type CallWarning = z.infer<typeof callWarningSchema>;

export const callTranscriptSchema = z.object({
  callId: z.string(),
  speaker: z.enum(['santa', 'child']),
  text: z.string(),
  final: z.boolean(),
});
export type CallTranscript = z.infer<typeof callTranscriptSchema>;

export const callEndedSchema = z.object({
  callId: z.string(),
  reason: z.enum(CALL_END_REASONS),
  seconds: z.number().int(),
});
export type CallEnded = z.infer<typeof callEndedSchema>;

export const callStartedEventSchema = z.object({
  callId: z.string(),
  profileId: z.string(),
  profileName: z.string(),
  availableSeconds: z.number().int(),
  simulated: z.boolean(),
});
export type CallStartedEvent = z.infer<typeof callStartedEventSchema>;

export const callRecordSchema = z.object({
  id: z.string(),
  profileId: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  seconds: z.number().int(),
  reason: z.enum(CALL_END_REASONS).nullable(),
});
export type CallRecord = z.infer<typeof callRecordSchema>;
export const callListSchema = z.object({ calls: z.array(callRecordSchema) });
export type CallList = z.infer<typeof callListSchema>;

/**
 * Why a child cannot be called right now, as the call start itself would refuse it. The side
 * panel and the popup show it on the child's button instead of opening a window that can only fail.
 */
export const CALL_BLOCKS = [
  'account_closed',
  'processing_restricted',
  'consent_required',
  'consent_unverified',
  'consent_outdated',
  'quiet_hours',
  'daily_limit_reached',
  'call_in_progress',
  'credit_owed',
  'credit_held',
  'insufficient_credit',
] as const;
export type CallBlock = (typeof CALL_BLOCKS)[number];

export const callReadinessQuerySchema = z.strictObject({
  /** IANA time zone of the asking page, as call:start sends it; UTC without. */
  timeZone: z.string().min(1).max(64).optional(),
});

export const liveCallSchema = z.object({
  callId: z.string(),
  profileId: z.string(),
  /** Seconds of credit this call holds (what it may still use plus what it used). */
  heldSeconds: z.number().int(),
  remainingSeconds: z.number().int(),
  elapsedSeconds: z.number().int(),
  /**
   * Simulated Santa answers it (as call:started says): a side panel opened mid-call, after
   * call:started went out, learns it here and shows the same note as the call window.
   */
  simulated: z.boolean(),
});
export type LiveCall = z.infer<typeof liveCallSchema>;

/** GET /api/calls/readiness: the account's credit, its live calls and, per child, whether a call can start. */
export const callReadinessSchema = z.object({
  balanceSeconds: z.number().int(),
  /** What a new call may use: the balance less what live calls hold. */
  availableSeconds: z.number().int(),
  live: z.array(liveCallSchema),
  profiles: z.array(
    z.object({
      profileId: z.string(),
      block: z.enum(CALL_BLOCKS).nullable(),
      /** For quiet_hours: the local time (HH:MM) they end. */
      until: z.string().nullable(),
      /** For call_in_progress and credit_held: the child whose call it is. */
      liveProfileId: z.string().nullable(),
    }),
  ),
});
export type CallReadiness = z.infer<typeof callReadinessSchema>;
