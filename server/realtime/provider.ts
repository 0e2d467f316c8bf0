import type { Locale } from '../../shared/locales.js';
import type { RealtimeClientEvent, RealtimeServerEvent } from './events.js';

export type { RealtimeClientEvent, RealtimeServerEvent } from './events.js';

/** What the calls service hands a provider for one call. */
export interface SantaSessionConfig {
  /** Built by `buildSantaInstructions`; never logged. */
  instructions: string;
  voice: string;
  language: Locale;
  maxOutputTokens: number;
  /** For providers that script Santa locally (Simulated Santa); OpenAI reads them from `instructions`. */
  childName: string;
  wishList: string[];
}

/**
 * The Realtime API ends a session 60 minutes after it was created, whatever is going on.
 * The longest call we place stays strictly under it: the call is created up to the calls
 * service's provider timeout (15 s) before metering starts, so a minute of margin keeps the
 * end (and the wrap-up before it) ours, never the provider's cut-off mid-sentence.
 */
export const PROVIDER_SESSION_CAP_SECONDS = 3600;
export const LONGEST_CALL_SECONDS = PROVIDER_SESSION_CAP_SECONDS - 60;

/**
 * What the provider's session of a call must keep saying (in session.updated) for the call
 * to stay safe: a field left out is not checked.
 */
export interface ExpectedSession {
  instructions?: string;
  voice?: string;
  outputModalities?: string[];
  /** The input transcription model: the distress check reads its transcripts. */
  transcriptionModel?: string;
  transcriptionLanguage?: string;
}

export interface StartedCall {
  providerCallId: string;
  answerSdp: string;
  control: RealtimeControl;
  /** The session as the provider set it up, to be kept so for the whole call. */
  session?: ExpectedSession;
}

/** A call joined again by its provider call id: a new control channel on the same call. */
export interface ResumedCall {
  control: RealtimeControl;
  session?: ExpectedSession;
}

export interface RealtimeProvider {
  readonly kind: 'openai' | 'simulated';
  /**
   * Give the browser's SDP offer to the provider; resolves with the provider's call id, the
   * SDP answer and an open sideband control channel. Rejects with RealtimeProviderError on
   * failure, timeout, abort or rate limit.
   */
  startCall(offerSdp: string, session: SantaSessionConfig, signal?: AbortSignal): Promise<StartedCall>;
  /**
   * Join a call the provider is still running that another server process started (and lost):
   * a new sideband on the same provider call, the child's media untouched. Absent on a
   * provider whose calls live inside the process that started them (Simulated Santa): those
   * cannot be taken over. Rejects with RealtimeProviderError when the call is over there.
   */
  resumeCall?(providerCallId: string, session: SantaSessionConfig, signal?: AbortSignal): Promise<ResumedCall>;
  /** Hang up by id; idempotent; used at normal end and at crash recovery (control channel may be gone). */
  hangup(providerCallId: string): Promise<void>;
  /** Ends every call this provider still holds and frees its resources. */
  close(): Promise<void>;
}

export type ControlCloseReason = 'closed' | 'error';

export interface RealtimeControl {
  /** Server events of the oai-events protocol as parsed JSON objects with a string `type`. */
  onEvent(listener: (event: RealtimeServerEvent) => void): () => void;
  /** Fires once, when the channel is gone for any reason (also after `close()`). */
  onClose(listener: (reason: ControlCloseReason) => void): () => void;
  /** A client event, e.g. response.cancel, conversation.item.create, response.create, session.update. Dropped once closed. */
  send(event: RealtimeClientEvent): void;
  close(): void;
  readonly closed: boolean;
}

export type RealtimeProviderErrorCode =
  'provider_unavailable' | 'rate_limited' | 'timeout' | 'invalid_sdp' | 'unauthorized' | 'aborted';

export class RealtimeProviderError extends Error {
  override readonly name = 'RealtimeProviderError';
  readonly code: RealtimeProviderErrorCode;
  /** HTTP status from the provider, when there was one. */
  readonly status: number | undefined;
  /** From a 429's Retry-After, when the provider sent one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: RealtimeProviderErrorCode,
    message: string,
    options: { status?: number; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isRealtimeProviderError(error: unknown): error is RealtimeProviderError {
  return error instanceof RealtimeProviderError;
}

/**
 * The wire error code (shared/errors.ts) a failed start maps to. A bad key or a provider
 * timeout is the operator's problem, so the parent sees "provider unavailable", not details.
 */
export function providerErrorToApiCode(error: unknown): 'invalid_sdp' | 'rate_limited' | 'provider_unavailable' {
  if (!isRealtimeProviderError(error)) return 'provider_unavailable';
  if (error.code === 'invalid_sdp') return 'invalid_sdp';
  if (error.code === 'rate_limited') return 'rate_limited';
  return 'provider_unavailable';
}
