import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../../core/clock.js';
import {
  isClientEvent,
  type RealtimeClientEvent,
  type RealtimeConversationItem,
  type RealtimeResponseInfo,
  type RealtimeServerEvent,
} from '../events.js';
import { cueForInstruction, isSantaCue, type SantaCue, type SantaScript } from './santa-script.js';
import type { VoiceMode } from './santa-audio.js';

export interface ConversationPacing {
  /** Time per spoken word; each transcript delta is one word. */
  wordMs: number;
  /**
   * After the data channel opens, before a response asked for earlier (the server's greeting
   * request, sent as the call starts) begins: the connect jingle plays first.
   */
  greetingDelayMs: number;
  /** Santa's silence before he speaks again on his own, once he has spoken; null: only when asked. */
  turnGapMs: number | null;
  /** Between a child's text turn and Santa's reply. */
  replyDelayMs: number;
}

export const DEFAULT_PACING: ConversationPacing = {
  wordMs: 280,
  greetingDelayMs: 800,
  turnGapMs: 9000,
  replyDelayMs: 600,
};

export interface ConversationOutput {
  /** A server event, to every listener (data channel and control/sideband alike). */
  emit(event: RealtimeServerEvent): void;
  /** What the audio track should play now. */
  voice(mode: VoiceMode): void;
}

interface ActiveResponse {
  id: string;
  itemId: string;
  words: string[];
  spoken: string;
  timer: TimerHandle | null;
  metadata: Record<string, string> | null;
}

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const CUE_PRIORITY: SantaCue[] = ['distress', 'wrap_up', 'change_subject'];

/**
 * Simulated Santa's side of the oai-events protocol, independent of transport: it answers
 * client events with the same server events, in the same order and with the same GA names,
 * as the OpenAI Realtime API, and paces scripted lines word by word.
 *
 * Differences from the real model, all because nothing here understands speech:
 * - a user `conversation.item.create` with `input_text` stands in for the child speaking:
 *   it yields `conversation.item.input_audio_transcription.completed` with that text and a
 *   reply, as server VAD would;
 * - system items carrying the server's steering instructions (wrap up, distress, change the
 *   subject) select the matching scripted line for the next response; other instructions
 *   are acknowledged but cannot change the script;
 * - once he has spoken, Santa keeps the conversation going every `turnGapMs`, since he
 *   cannot hear the child's audio.
 *
 * Like the real model, Santa never speaks first on his own: the first response comes from a
 * `response.create` (the server's greeting request) or from the child's turn. His first
 * response is the greeting. A response.create that arrives before the data channel is open
 * (the server asks as the call starts, before the browser has the answer) waits for it, plus
 * `greetingDelayMs`, so the child hears the greeting rather than words spoken into the void.
 */
export class SantaConversation {
  private active: ActiveResponse | null = null;
  private readonly pendingCues = new Set<SantaCue>();
  private lastItemId: string | null = null;
  private turnTimer: TimerHandle | null = null;
  private replyTimer: TimerHandle | null = null;
  /** A response.create that came before the data channel opened, or the timer that starts it. */
  private requested: { metadata: Record<string, string> | null; timer: TimerHandle | null } | null = null;
  private hasSpoken = false;
  private opened = false;
  private closed = false;
  private wrappedUp = false;
  private session: Record<string, unknown>;

  constructor(
    private readonly script: SantaScript,
    private readonly clock: Clock,
    private readonly pacing: ConversationPacing,
    private readonly output: ConversationOutput,
    session: Record<string, unknown>,
  ) {
    this.session = { object: 'realtime.session', id: newId('sess'), type: 'realtime', ...session };
  }

  /** The data channel is open: announce the session; a response asked for earlier starts shortly. */
  open(): void {
    if (this.opened || this.closed) return;
    this.opened = true;
    this.emit({ type: 'session.created', event_id: newId('event'), session: this.session });
    const requested = this.requested;
    if (requested) {
      requested.timer = this.clock.setTimeout(() => this.startRequested(), this.pacing.greetingDelayMs);
    }
  }

  handle(event: RealtimeClientEvent): void {
    if (this.closed) return;
    if (isClientEvent(event, 'session.update')) {
      this.session = { ...this.session, ...event.session, type: 'realtime' };
      this.emit({ type: 'session.updated', event_id: newId('event'), session: this.session });
    } else if (isClientEvent(event, 'conversation.item.create')) {
      this.addItem(event.item, event.previous_item_id ?? null);
    } else if (isClientEvent(event, 'response.create')) {
      const response = event.response ?? {};
      const cue = isSantaCue(response.metadata?.santa_cue) ? response.metadata.santa_cue : cueForInstruction(response.instructions ?? '');
      if (cue) this.pendingCues.add(cue);
      if (!this.opened) {
        // Nobody can hear Santa yet: hold the request until the data channel opens.
        if (this.requested) {
          this.error('invalid_request_error', 'conversation_already_has_active_response', 'Conversation already has a response requested.', event.event_id);
          return;
        }
        this.requested = { metadata: response.metadata ?? null, timer: null };
        return;
      }
      this.respond(response.metadata ?? null);
    } else if (isClientEvent(event, 'response.cancel')) {
      if (!this.active || (event.response_id && event.response_id !== this.active.id)) {
        this.error('invalid_request_error', 'response_cancel_not_active', 'Cancellation failed: no active response found.', event.event_id);
        return;
      }
      this.finish('cancelled', 'client_cancelled');
    } else if (isClientEvent(event, 'output_audio_buffer.clear')) {
      this.output.voice('silent');
      this.emit({ type: 'output_audio_buffer.cleared', event_id: newId('event'), response_id: this.active?.id ?? null });
    } else if (isClientEvent(event, 'input_audio_buffer.clear')) {
      this.emit({ type: 'input_audio_buffer.cleared', event_id: newId('event') });
    } else {
      this.error('invalid_request_error', 'unknown_event', `Simulated Santa does not handle '${event.type}'.`, event.event_id);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.active?.timer?.cancel();
    this.active = null;
    this.requested?.timer?.cancel();
    this.requested = null;
    this.turnTimer?.cancel();
    this.replyTimer?.cancel();
    this.output.voice('silent');
  }

  get speaking(): boolean {
    return this.active !== null;
  }

  // ---- items -------------------------------------------------------------------------

  private addItem(input: RealtimeConversationItem, previous: string | null): void {
    const item: RealtimeConversationItem = { ...input, id: input.id ?? newId('item'), object: 'realtime.item', status: 'completed' };
    const previousItemId = previous ?? this.lastItemId;
    this.lastItemId = item.id ?? null;
    this.emit({ type: 'conversation.item.added', event_id: newId('event'), previous_item_id: previousItemId, item });
    this.emit({ type: 'conversation.item.done', event_id: newId('event'), previous_item_id: previousItemId, item });
    const text = item.content
      .map((part) => (part.type === 'input_text' ? part.text : ''))
      .join(' ')
      .trim();
    if (!text) return;
    if (item.role === 'system') {
      const cue = cueForInstruction(text);
      if (cue) this.pendingCues.add(cue);
      return;
    }
    if (item.role !== 'user') return;
    // The child spoke before a requested response began: it begins and is interrupted at once,
    // as server VAD would do to the model's answer.
    if (this.requested) this.startRequested();
    // The child "spoke": a transcript like ASR's, then a reply as server VAD would trigger.
    this.emit({
      type: 'conversation.item.input_audio_transcription.completed',
      event_id: newId('event'),
      item_id: item.id!,
      content_index: 0,
      transcript: text,
    });
    if (this.active) this.finish('cancelled', 'turn_detected');
    this.turnTimer?.cancel();
    this.turnTimer = null;
    this.replyTimer?.cancel();
    this.replyTimer = this.clock.setTimeout(() => {
      this.replyTimer = null;
      if (!this.active && !this.closed) this.startResponse(this.nextCueLine() ?? this.script.replyTo(text), null);
    }, this.pacing.replyDelayMs);
  }

  // ---- responses ---------------------------------------------------------------------

  private respond(metadata: Record<string, string> | null): void {
    if (this.active) {
      this.error(
        'invalid_request_error',
        'conversation_already_has_active_response',
        `Conversation already has an active response in progress: ${this.active.id}. Wait until the response is finished before creating a new one.`,
      );
      return;
    }
    this.turnTimer?.cancel();
    this.turnTimer = null;
    this.startResponse(this.nextCueLine() ?? (this.hasSpoken ? this.script.next() : this.script.greeting()), metadata);
  }

  /** The response.create that waited for the data channel. */
  private startRequested(): void {
    const requested = this.requested;
    if (!requested || this.closed) return;
    requested.timer?.cancel();
    this.requested = null;
    this.respond(requested.metadata);
  }

  private nextCueLine(): string | null {
    const cue = CUE_PRIORITY.find((c) => this.pendingCues.has(c));
    this.pendingCues.clear();
    if (!cue) return null;
    if (cue === 'wrap_up') this.wrappedUp = true;
    return this.script.cue(cue);
  }

  private startResponse(line: string, metadata: Record<string, string> | null): void {
    const id = newId('resp');
    const itemId = newId('item');
    const active: ActiveResponse = { id, itemId, words: line.match(/\S+\s*/g) ?? [], spoken: '', timer: null, metadata };
    this.active = active;
    this.hasSpoken = true;
    const item: RealtimeConversationItem = { id: itemId, object: 'realtime.item', type: 'message', role: 'assistant', status: 'in_progress', content: [] };
    this.emit({ type: 'response.created', event_id: newId('event'), response: this.responseInfo(active, 'in_progress', []) });
    this.emit({ type: 'response.output_item.added', event_id: newId('event'), response_id: id, output_index: 0, item });
    this.emit({ type: 'conversation.item.added', event_id: newId('event'), previous_item_id: this.lastItemId, item });
    this.lastItemId = itemId;
    this.emit({
      type: 'response.content_part.added',
      event_id: newId('event'),
      response_id: id,
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: { type: 'audio', transcript: '' },
    });
    this.emit({ type: 'output_audio_buffer.started', event_id: newId('event'), response_id: id });
    this.output.voice('speaking');
    this.speakNextWord(active);
  }

  private speakNextWord(active: ActiveResponse): void {
    active.timer = this.clock.setTimeout(() => {
      if (this.active !== active) return;
      const word = active.words.shift();
      if (word === undefined) {
        this.finish('completed');
        return;
      }
      active.spoken += word;
      this.emit({
        type: 'response.output_audio_transcript.delta',
        event_id: newId('event'),
        response_id: active.id,
        item_id: active.itemId,
        output_index: 0,
        content_index: 0,
        delta: word,
      });
      this.speakNextWord(active);
    }, this.pacing.wordMs);
  }

  private finish(status: 'completed' | 'cancelled', reason?: string): void {
    const active = this.active;
    if (!active) return;
    active.timer?.cancel();
    this.active = null;
    const transcript = active.spoken.trimEnd();
    const part = { type: 'output_audio' as const, transcript };
    const item: RealtimeConversationItem = {
      id: active.itemId,
      object: 'realtime.item',
      type: 'message',
      role: 'assistant',
      status: status === 'completed' ? 'completed' : 'incomplete',
      content: [part],
    };
    const ids = { response_id: active.id, item_id: active.itemId, output_index: 0, content_index: 0 };
    this.emit({ type: 'response.output_audio.done', event_id: newId('event'), ...ids });
    this.emit({ type: 'response.output_audio_transcript.done', event_id: newId('event'), ...ids, transcript });
    this.emit({ type: 'response.content_part.done', event_id: newId('event'), ...ids, part: { type: 'audio', transcript } });
    this.emit({ type: 'response.output_item.done', event_id: newId('event'), response_id: active.id, output_index: 0, item });
    this.emit({ type: 'conversation.item.done', event_id: newId('event'), item });
    const info = this.responseInfo(active, status, [item]);
    if (reason) info.status_details = { type: status, reason };
    this.emit({ type: 'response.done', event_id: newId('event'), response: info });
    this.output.voice('silent');
    this.emit({ type: 'output_audio_buffer.stopped', event_id: newId('event'), response_id: active.id });
    this.scheduleOwnTurn();
  }

  private scheduleOwnTurn(): void {
    if (this.closed || this.wrappedUp || this.pacing.turnGapMs === null || this.replyTimer) return;
    this.turnTimer?.cancel();
    this.turnTimer = this.clock.setTimeout(() => {
      this.turnTimer = null;
      if (!this.active && !this.closed && !this.wrappedUp) this.startResponse(this.nextCueLine() ?? this.script.next(), null);
    }, this.pacing.turnGapMs);
  }

  private responseInfo(active: ActiveResponse, status: RealtimeResponseInfo['status'], output: RealtimeConversationItem[]): RealtimeResponseInfo {
    return { id: active.id, object: 'realtime.response', status, output, metadata: active.metadata };
  }

  private error(type: string, code: string, message: string, eventId?: string): void {
    this.emit({ type: 'error', event_id: newId('event'), error: { type, code, message, param: null, event_id: eventId ?? null } });
  }

  private emit(event: RealtimeServerEvent): void {
    if (!this.closed) this.output.emit(event);
  }
}
