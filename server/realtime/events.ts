/**
 * The slice of the Realtime API's `oai-events` protocol (GA event names) that Call Santa
 * uses. Both providers speak it: OpenAI on the data channel and the sideband WebSocket,
 * Simulated Santa on its own data channel and in-process control. Unknown events still
 * flow through as the generic shape, so a new server event never breaks a call.
 */

export interface RealtimeErrorDetail {
  type: string;
  code?: string | null;
  message: string;
  param?: string | null;
  event_id?: string | null;
}

export interface RealtimeResponseInfo {
  id: string;
  object?: 'realtime.response';
  status: 'in_progress' | 'completed' | 'cancelled' | 'failed' | 'incomplete';
  status_details?: { type: string; reason?: string } | null;
  output?: RealtimeConversationItem[];
  metadata?: Record<string, string> | null;
}

export type RealtimeContentPart =
  | { type: 'input_text'; text: string }
  | { type: 'input_audio'; transcript?: string | null }
  | { type: 'output_text'; text: string }
  | { type: 'output_audio'; transcript?: string | null };

export interface RealtimeConversationItem {
  id?: string;
  type: 'message';
  object?: 'realtime.item';
  role: 'user' | 'assistant' | 'system';
  status?: 'in_progress' | 'completed' | 'incomplete';
  content: RealtimeContentPart[];
}

// ---- server -> client -------------------------------------------------------------

export interface SessionCreatedEvent {
  type: 'session.created';
  event_id: string;
  session: Record<string, unknown>;
}
export interface SessionUpdatedEvent {
  type: 'session.updated';
  event_id: string;
  session: Record<string, unknown>;
}
export interface ResponseCreatedEvent {
  type: 'response.created';
  event_id: string;
  response: RealtimeResponseInfo;
}
export interface ResponseDoneEvent {
  type: 'response.done';
  event_id: string;
  response: RealtimeResponseInfo;
}
export interface OutputAudioTranscriptDeltaEvent {
  type: 'response.output_audio_transcript.delta';
  event_id: string;
  response_id: string;
  item_id: string;
  output_index: number;
  content_index: number;
  delta: string;
}
export interface OutputAudioTranscriptDoneEvent {
  type: 'response.output_audio_transcript.done';
  event_id: string;
  response_id: string;
  item_id: string;
  output_index: number;
  content_index: number;
  transcript: string;
}
export interface InputAudioTranscriptionDeltaEvent {
  type: 'conversation.item.input_audio_transcription.delta';
  event_id: string;
  item_id: string;
  content_index: number;
  delta: string;
}
export interface InputAudioTranscriptionCompletedEvent {
  type: 'conversation.item.input_audio_transcription.completed';
  event_id: string;
  item_id: string;
  content_index: number;
  transcript: string;
}
export interface ConversationItemAddedEvent {
  type: 'conversation.item.added';
  event_id: string;
  previous_item_id?: string | null;
  item: RealtimeConversationItem;
}
export interface ConversationItemDoneEvent {
  type: 'conversation.item.done';
  event_id: string;
  previous_item_id?: string | null;
  item: RealtimeConversationItem;
}
export interface InputAudioBufferSpeechStartedEvent {
  type: 'input_audio_buffer.speech_started';
  event_id: string;
  item_id: string;
  audio_start_ms: number;
}
export interface OutputAudioBufferStartedEvent {
  type: 'output_audio_buffer.started';
  event_id: string;
  response_id: string;
}
export interface OutputAudioBufferClearedEvent {
  type: 'output_audio_buffer.cleared';
  event_id: string;
  response_id: string | null;
}
export interface InputAudioTranscriptionFailedEvent {
  type: 'conversation.item.input_audio_transcription.failed';
  event_id: string;
  item_id: string;
  content_index: number;
  error: { type?: string; code?: string | null; message?: string; param?: string | null };
}
export interface ConversationItemTruncatedEvent {
  type: 'conversation.item.truncated';
  event_id: string;
  item_id: string;
  content_index: number;
  audio_end_ms: number;
}
export interface ConversationItemDeletedEvent {
  type: 'conversation.item.deleted';
  event_id: string;
  item_id: string;
}
export interface OutputAudioBufferStoppedEvent {
  type: 'output_audio_buffer.stopped';
  event_id: string;
  response_id: string;
}
export interface RealtimeErrorEvent {
  type: 'error';
  event_id: string;
  error: RealtimeErrorDetail;
}

export type KnownRealtimeServerEvent =
  | SessionCreatedEvent
  | SessionUpdatedEvent
  | ResponseCreatedEvent
  | ResponseDoneEvent
  | OutputAudioTranscriptDeltaEvent
  | OutputAudioTranscriptDoneEvent
  | InputAudioTranscriptionDeltaEvent
  | InputAudioTranscriptionCompletedEvent
  | ConversationItemAddedEvent
  | ConversationItemDoneEvent
  | InputAudioBufferSpeechStartedEvent
  | OutputAudioBufferStartedEvent
  | OutputAudioBufferStoppedEvent
  | OutputAudioBufferClearedEvent
  | InputAudioTranscriptionFailedEvent
  | ConversationItemTruncatedEvent
  | ConversationItemDeletedEvent
  | RealtimeErrorEvent;

/** Any other server event (rate_limits.updated, response.output_item.added, ...). */
export interface GenericRealtimeServerEvent {
  type: string;
  event_id?: string;
  [key: string]: unknown;
}

export type RealtimeServerEvent = KnownRealtimeServerEvent | GenericRealtimeServerEvent;
export type KnownServerEventType = KnownRealtimeServerEvent['type'];

// ---- client -> server -------------------------------------------------------------

export interface SessionUpdateClientEvent {
  type: 'session.update';
  event_id?: string;
  session: { type: 'realtime'; [key: string]: unknown };
}
export interface ConversationItemCreateClientEvent {
  type: 'conversation.item.create';
  event_id?: string;
  previous_item_id?: string | null;
  item: RealtimeConversationItem;
}
export interface ResponseCreateClientEvent {
  type: 'response.create';
  event_id?: string;
  response?: {
    instructions?: string;
    conversation?: 'auto' | 'none';
    output_modalities?: Array<'text' | 'audio'>;
    max_output_tokens?: number | 'inf';
    metadata?: Record<string, string>;
    input?: RealtimeConversationItem[];
  };
}
export interface ResponseCancelClientEvent {
  type: 'response.cancel';
  event_id?: string;
  response_id?: string;
}
/** Cut an assistant item's audio at what was played; the service then drops its transcript. */
export interface ConversationItemTruncateClientEvent {
  type: 'conversation.item.truncate';
  event_id?: string;
  item_id: string;
  content_index: number;
  audio_end_ms: number;
}
export interface ConversationItemDeleteClientEvent {
  type: 'conversation.item.delete';
  event_id?: string;
  item_id: string;
}
export interface OutputAudioBufferClearClientEvent {
  type: 'output_audio_buffer.clear';
  event_id?: string;
}
export interface InputAudioBufferClearClientEvent {
  type: 'input_audio_buffer.clear';
  event_id?: string;
}

export type KnownRealtimeClientEvent =
  | SessionUpdateClientEvent
  | ConversationItemCreateClientEvent
  | ResponseCreateClientEvent
  | ResponseCancelClientEvent
  | ConversationItemTruncateClientEvent
  | ConversationItemDeleteClientEvent
  | OutputAudioBufferClearClientEvent
  | InputAudioBufferClearClientEvent;

export interface GenericRealtimeClientEvent {
  type: string;
  event_id?: string;
  [key: string]: unknown;
}

export type RealtimeClientEvent = KnownRealtimeClientEvent | GenericRealtimeClientEvent;
export type KnownClientEventType = KnownRealtimeClientEvent['type'];

// ---- narrowing ---------------------------------------------------------------------
// The generic fallback keeps `switch (event.type)` from narrowing, so consumers use these.

export function isServerEvent<T extends KnownServerEventType>(
  event: RealtimeServerEvent,
  type: T,
): event is Extract<KnownRealtimeServerEvent, { type: T }> {
  return event.type === type;
}

export function isClientEvent<T extends KnownClientEventType>(
  event: RealtimeClientEvent,
  type: T,
): event is Extract<KnownRealtimeClientEvent, { type: T }> {
  return event.type === type;
}

// ---- parsing untrusted JSON --------------------------------------------------------

type Shape = Record<string, 'string' | 'number' | 'object'>;

// Required fields per known type; a known type whose fields are wrong is refused, so the
// type guards above never lie to consumers.
const SERVER_SHAPES: Record<KnownServerEventType, Shape> = {
  'session.created': { session: 'object' },
  'session.updated': { session: 'object' },
  'response.created': { response: 'object' },
  'response.done': { response: 'object' },
  'response.output_audio_transcript.delta': { response_id: 'string', item_id: 'string', delta: 'string' },
  'response.output_audio_transcript.done': { response_id: 'string', item_id: 'string', transcript: 'string' },
  'conversation.item.input_audio_transcription.delta': { item_id: 'string', delta: 'string' },
  'conversation.item.input_audio_transcription.completed': { item_id: 'string', transcript: 'string' },
  'conversation.item.added': { item: 'object' },
  'conversation.item.done': { item: 'object' },
  'input_audio_buffer.speech_started': { item_id: 'string' },
  'output_audio_buffer.started': { response_id: 'string' },
  'output_audio_buffer.stopped': { response_id: 'string' },
  'output_audio_buffer.cleared': {},
  'conversation.item.input_audio_transcription.failed': { item_id: 'string' },
  'conversation.item.truncated': { item_id: 'string' },
  'conversation.item.deleted': { item_id: 'string' },
  error: { error: 'object' },
};

const CLIENT_SHAPES: Record<KnownClientEventType, Shape> = {
  'session.update': { session: 'object' },
  'conversation.item.create': { item: 'object' },
  'response.create': {},
  'response.cancel': {},
  'conversation.item.truncate': { item_id: 'string', content_index: 'number', audio_end_ms: 'number' },
  'conversation.item.delete': { item_id: 'string' },
  'output_audio_buffer.clear': {},
  'input_audio_buffer.clear': {},
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matches(value: Record<string, unknown>, shape: Shape | undefined): boolean {
  if (!shape) return true;
  for (const [key, kind] of Object.entries(shape)) {
    const field = value[key];
    if (kind === 'object' ? !isRecord(field) : typeof field !== kind) return false;
  }
  return true;
}

function decode(raw: unknown): Record<string, unknown> | null {
  let value: unknown = raw;
  if (typeof raw === 'string' || Buffer.isBuffer(raw)) {
    try {
      value = JSON.parse(raw.toString());
    } catch {
      return null;
    }
  }
  if (!isRecord(value) || typeof value.type !== 'string' || value.type.length === 0) return null;
  return value;
}

/** Parse a server event from JSON text or an already parsed value; null when it is not one. */
export function parseServerEvent(raw: unknown): RealtimeServerEvent | null {
  const value = decode(raw);
  if (!value) return null;
  const shape = (SERVER_SHAPES as Record<string, Shape | undefined>)[value.type as string];
  return matches(value, shape) ? (value as RealtimeServerEvent) : null;
}

/** Parse a client event (from a data channel or sideband); null when it is not one. */
export function parseClientEvent(raw: unknown): RealtimeClientEvent | null {
  const value = decode(raw);
  if (!value) return null;
  const shape = (CLIENT_SHAPES as Record<string, Shape | undefined>)[value.type as string];
  return matches(value, shape) ? (value as RealtimeClientEvent) : null;
}
