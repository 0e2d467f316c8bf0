import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../../core/clock.js';
import {
  isClientEvent,
  type ConversationItemDeleteClientEvent,
  type ConversationItemTruncateClientEvent,
  type RealtimeClientEvent,
  type RealtimeConversationItem,
  type RealtimeResponseInfo,
  type RealtimeServerEvent,
} from '../events.js';
import { cueForInstruction, isSantaCue, type SantaCue, type SantaScript } from './santa-script.js';
import type { VoiceMode } from './santa-audio.js';

export interface ConversationPacing {
  /** Playback time per spoken word; each transcript delta is one word. */
  wordMs: number;
  /**
   * After the data channel opens, before a response asked for earlier (the server's greeting
   * request) begins: the connect jingle plays first. Only when `holdUntilOpen`.
   */
  greetingDelayMs: number;
  /** Santa's silence before he speaks again on his own, once he has spoken; null: only when asked. */
  turnGapMs: number | null;
  /** Between the child's finished turn and Santa's reply. */
  replyDelayMs: number;
  /**
   * Generation time per word as a share of `wordMs`. The model generates faster than real
   * time, so `response.done` (generation over) comes well before `output_audio_buffer.stopped`
   * (playback over), and the transcript runs ahead of the audio. Default 0.25.
   */
  generationRatio?: number;
}

export const DEFAULT_PACING: ConversationPacing = {
  wordMs: 280,
  greetingDelayMs: 800,
  turnGapMs: 9000,
  replyDelayMs: 600,
};

/** Where the simulation departs from the real service, each on purpose. */
export interface ConversationBehaviour {
  /**
   * Hold a `response.create` that arrives before the browser's data channel is open until it
   * opens (plus the jingle). Simulated Santa does; the real service does not: it starts at
   * once and its audio plays into a peer that is not connected yet, unheard.
   */
  holdUntilOpen: boolean;
  /**
   * Take a user `conversation.item.create` with `input_text` as the child speaking (a
   * transcript and a reply, as server VAD would give). Simulated Santa does, as it cannot hear
   * audio; on the real service a text item is only added to the conversation.
   */
  textIsSpeech: boolean;
}

export const SIMULATED_SANTA: ConversationBehaviour = { holdUntilOpen: true, textIsSpeech: true };
export const REALTIME_SERVICE: ConversationBehaviour = { holdUntilOpen: false, textIsSpeech: false };

export interface ConversationOutput {
  /** A server event, to every listener (data channel and control/sideband alike). */
  emit(event: RealtimeServerEvent): void;
  /** What the audio track should play now. */
  voice(mode: VoiceMode): void;
}

/** One item of the conversation the model reads, as text (what a test may inspect). */
export interface ContextItem {
  id: string;
  role: 'user' | 'assistant' | 'system';
  text: string;
}

interface ActiveResponse {
  id: string;
  itemId: string;
  words: string[];
  generated: string;
  generatedWords: number;
  timer: TimerHandle | null;
  metadata: Record<string, string> | null;
}

/** The audio of one response in the output buffer: played in order, one after another. */
interface Playback {
  responseId: string;
  itemId: string;
  startAt: number;
  endAt: number;
  started: boolean;
  startTimer: TimerHandle | null;
  endTimer: TimerHandle | null;
}

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const CUE_PRIORITY: SantaCue[] = ['distress', 'wrap_up', 'change_subject'];

/**
 * Santa's side of the oai-events protocol, independent of transport: it answers client
 * events with the same server events, in the same order, with the same GA names and with the
 * same behaviour over time as the OpenAI Realtime API over WebRTC, and paces scripted lines
 * word by word. Simulated Santa and the test fake of OpenAI both run on it.
 *
 * Over time, as the service:
 * - a response is generated faster than it is played: transcript deltas, then `response.done`
 *   when generation ends; the audio plays on and `output_audio_buffer.stopped` comes when it
 *   has played out. `response.cancel` stops generation only (what was generated still plays);
 *   `output_audio_buffer.clear` stops the audio (`output_audio_buffer.cleared`);
 * - `response.cancel` with no response generating is `response_cancel_not_active`;
 * - it keeps the conversation the model reads (`context()`): `conversation.item.truncate`
 *   removes an assistant item's transcript, `conversation.item.delete` the item;
 * - `session.update` changes the session and answers `session.updated` with all of it;
 * - the child's speech (`childSpoke`) is committed as a user audio item; it is transcribed
 *   (`conversation.item.input_audio_transcription.*`) only while the session has input
 *   transcription on, and a transcription can fail (`...failed`); the reply follows, as
 *   server VAD with `create_response` would give.
 *
 * Where `behaviour` says so (Simulated Santa), it departs from the service: see
 * ConversationBehaviour. In both, the script stands in for the model: system items carrying
 * the server's steering instructions select the matching scripted line for the next
 * response, and once he has spoken Santa keeps the conversation going every `turnGapMs`.
 * Santa never speaks first on his own: the first response comes from a `response.create` or
 * from the child's turn, and it is the greeting.
 */
export class SantaConversation {
  private active: ActiveResponse | null = null;
  private playbacks: Playback[] = [];
  private readonly pendingCues = new Set<SantaCue>();
  private readonly items = new Map<string, ContextItem>();
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
  private readonly generationRatio: number;

  constructor(
    private readonly script: SantaScript,
    private readonly clock: Clock,
    private readonly pacing: ConversationPacing,
    private readonly output: ConversationOutput,
    session: Record<string, unknown>,
    private readonly behaviour: ConversationBehaviour = SIMULATED_SANTA,
  ) {
    this.session = { object: 'realtime.session', id: newId('sess'), type: 'realtime', ...session };
    this.generationRatio = pacing.generationRatio ?? 0.25;
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
      this.updateSession(event.session);
    } else if (isClientEvent(event, 'conversation.item.create')) {
      this.addItem(event.item, event.previous_item_id ?? null);
    } else if (isClientEvent(event, 'conversation.item.truncate')) {
      this.truncate(event);
    } else if (isClientEvent(event, 'conversation.item.delete')) {
      this.deleteItem(event);
    } else if (isClientEvent(event, 'response.create')) {
      const response = event.response ?? {};
      const cue = isSantaCue(response.metadata?.santa_cue)
        ? response.metadata.santa_cue
        : cueForInstruction(response.instructions ?? '');
      if (cue) this.pendingCues.add(cue);
      if (!this.opened && this.behaviour.holdUntilOpen) {
        // Nobody can hear Santa yet: hold the request until the data channel opens.
        if (this.requested) {
          this.error(
            'invalid_request_error',
            'conversation_already_has_active_response',
            'Conversation already has a response requested.',
            event.event_id,
          );
          return;
        }
        this.requested = { metadata: response.metadata ?? null, timer: null };
        return;
      }
      this.respond(response.metadata ?? null, event.event_id);
    } else if (isClientEvent(event, 'response.cancel')) {
      if (!this.active || (event.response_id && event.response_id !== this.active.id)) {
        this.error(
          'invalid_request_error',
          'response_cancel_not_active',
          'Cancellation failed: no active response found.',
          event.event_id,
        );
        return;
      }
      this.finish('cancelled', 'client_cancelled');
    } else if (isClientEvent(event, 'output_audio_buffer.clear')) {
      this.clearPlayback();
    } else if (isClientEvent(event, 'input_audio_buffer.clear')) {
      this.emit({ type: 'input_audio_buffer.cleared', event_id: newId('event') });
    } else {
      this.error(
        'invalid_request_error',
        'unknown_event',
        `Simulated Santa does not handle '${event.type}'.`,
        event.event_id,
      );
    }
  }

  /**
   * The child said something into the microphone (the transport checks that audio arrives):
   * server VAD commits it as a user audio item, transcribes it when the session says so
   * (`transcription: 'failed'` stands in for speech the transcriber could not make out), and
   * a reply follows.
   */
  childSpoke(text: string, options: { transcription?: 'ok' | 'failed' } = {}): void {
    if (this.closed) return;
    this.userTurn(text, 'audio', options.transcription ?? 'ok');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.active?.timer?.cancel();
    this.active = null;
    for (const p of this.playbacks) {
      p.startTimer?.cancel();
      p.endTimer?.cancel();
    }
    this.playbacks = [];
    this.requested?.timer?.cancel();
    this.requested = null;
    this.turnTimer?.cancel();
    this.replyTimer?.cancel();
    this.output.voice('silent');
  }

  /** A response is being generated. */
  get speaking(): boolean {
    return this.active !== null;
  }

  /** Audio is in the output buffer (playing, or waiting behind what plays). */
  get playing(): boolean {
    return this.playbacks.length > 0;
  }

  /** The conversation the model reads now, oldest first. */
  context(): ContextItem[] {
    return [...this.items.values()].map((i) => ({ ...i }));
  }

  /** The session as the service holds it now (what session.updated reports). */
  currentSession(): Record<string, unknown> {
    return structuredClone(this.session);
  }

  // ---- session -----------------------------------------------------------------------

  private updateSession(update: Record<string, unknown>): void {
    const next: Record<string, unknown> = { ...this.session };
    for (const [key, value] of Object.entries(update)) {
      if (key === 'audio' && isRecord(value) && isRecord(next.audio)) {
        const audio: Record<string, unknown> = { ...next.audio };
        for (const [side, part] of Object.entries(value)) {
          audio[side] =
            isRecord(part) && isRecord(audio[side]) ? { ...(audio[side] as Record<string, unknown>), ...part } : part;
        }
        next.audio = audio;
      } else {
        next[key] = value;
      }
    }
    next.type = 'realtime';
    this.session = next;
    this.emit({ type: 'session.updated', event_id: newId('event'), session: structuredClone(this.session) });
  }

  private transcriptionOn(): boolean {
    const audio = this.session.audio;
    const input = isRecord(audio) ? audio.input : undefined;
    return isRecord(input) && isRecord(input.transcription);
  }

  // ---- items -------------------------------------------------------------------------

  private addItem(input: RealtimeConversationItem, previous: string | null): void {
    const item: RealtimeConversationItem = {
      ...input,
      id: input.id ?? newId('item'),
      object: 'realtime.item',
      status: 'completed',
    };
    const text = (item.content ?? [])
      .map((part) => (part.type === 'input_text' ? part.text : ''))
      .join(' ')
      .trim();
    if (this.behaviour.textIsSpeech && item.role === 'user' && text) {
      this.userTurn(text, 'text', 'ok', item);
      return;
    }
    this.remember(item.id!, item.role, text);
    const previousItemId = previous ?? this.lastItemId;
    this.lastItemId = item.id ?? null;
    this.emit({ type: 'conversation.item.added', event_id: newId('event'), previous_item_id: previousItemId, item });
    this.emit({ type: 'conversation.item.done', event_id: newId('event'), previous_item_id: previousItemId, item });
    if (item.role === 'system' && text) {
      const cue = cueForInstruction(text);
      if (cue) this.pendingCues.add(cue);
    }
  }

  private remember(id: string, role: ContextItem['role'], text: string): void {
    this.items.set(id, { id, role, text });
  }

  private truncate(event: ConversationItemTruncateClientEvent): void {
    const { item_id: itemId, audio_end_ms: audioEndMs, content_index: contentIndex } = event;
    const item = this.items.get(itemId);
    if (!item) return this.itemNotFound(itemId, event.event_id);
    if (item.role !== 'assistant')
      return this.error(
        'invalid_request_error',
        'invalid_value',
        'Only assistant messages can be truncated.',
        event.event_id,
        'item_id',
      );
    const playedMs = this.audioMsOf(itemId, item.text);
    if (audioEndMs < 0 || audioEndMs > playedMs) {
      return this.error(
        'invalid_request_error',
        'invalid_value',
        `Audio content of ${playedMs}ms is already shorter than ${audioEndMs}ms`,
        event.event_id,
        'audio_end_ms',
      );
    }
    // As the service: the transcript of a truncated item is removed, so the model reads no words the child did not hear.
    item.text = '';
    this.emit({
      type: 'conversation.item.truncated',
      event_id: newId('event'),
      item_id: itemId,
      content_index: contentIndex,
      audio_end_ms: audioEndMs,
    });
  }

  private deleteItem(event: ConversationItemDeleteClientEvent): void {
    const itemId = event.item_id;
    if (!this.items.has(itemId)) return this.itemNotFound(itemId, event.event_id);
    this.items.delete(itemId);
    this.emit({ type: 'conversation.item.deleted', event_id: newId('event'), item_id: itemId });
  }

  /** Milliseconds of audio an item holds: its generated words at `wordMs` each. */
  private audioMsOf(itemId: string, text: string): number {
    const words = this.active?.itemId === itemId ? this.active.generatedWords : (text.match(/\S+\s*/g) ?? []).length;
    return words * this.pacing.wordMs;
  }

  /** The child's turn: committed as a user item, transcribed, interrupting Santa, then answered. */
  private userTurn(
    text: string,
    source: 'audio' | 'text',
    transcription: 'ok' | 'failed',
    textItem?: RealtimeConversationItem,
  ): void {
    // The child spoke before a requested response began: it begins and is interrupted at once,
    // as server VAD would do to the model's answer.
    if (this.requested) this.startRequested();
    const itemId = textItem?.id ?? newId('item');
    const previousItemId = this.lastItemId;
    if (source === 'audio') {
      this.emit({
        type: 'input_audio_buffer.speech_started',
        event_id: newId('event'),
        item_id: itemId,
        audio_start_ms: 0,
      });
    }
    // Server VAD interrupts Santa: generation stops and the audio still in the buffer is cut.
    if (this.active) this.finish('cancelled', 'turn_detected');
    if (this.playbacks.length) this.clearPlayback();
    const item: RealtimeConversationItem = textItem
      ? { ...textItem, id: itemId }
      : {
          id: itemId,
          object: 'realtime.item',
          type: 'message',
          role: 'user',
          status: 'completed',
          content: [{ type: 'input_audio', transcript: null }],
        };
    if (source === 'audio') {
      this.emit({
        type: 'input_audio_buffer.speech_stopped',
        event_id: newId('event'),
        item_id: itemId,
        audio_end_ms: 1000,
      });
      this.emit({
        type: 'input_audio_buffer.committed',
        event_id: newId('event'),
        item_id: itemId,
        previous_item_id: previousItemId,
      });
    }
    this.lastItemId = itemId;
    this.remember(itemId, 'user', '');
    this.emit({ type: 'conversation.item.added', event_id: newId('event'), previous_item_id: previousItemId, item });
    this.emit({ type: 'conversation.item.done', event_id: newId('event'), previous_item_id: previousItemId, item });
    let heard = text;
    if (source === 'text' || this.transcriptionOn()) {
      if (transcription === 'failed') {
        heard = '';
        this.emit({
          type: 'conversation.item.input_audio_transcription.failed',
          event_id: newId('event'),
          item_id: itemId,
          content_index: 0,
          error: {
            type: 'transcription_error',
            code: 'audio_unintelligible',
            message: 'Audio could not be transcribed.',
            param: null,
          },
        });
      } else {
        this.remember(itemId, 'user', text);
        this.emit({
          type: 'conversation.item.input_audio_transcription.delta',
          event_id: newId('event'),
          item_id: itemId,
          content_index: 0,
          delta: text,
        });
        this.emit({
          type: 'conversation.item.input_audio_transcription.completed',
          event_id: newId('event'),
          item_id: itemId,
          content_index: 0,
          transcript: text,
        });
      }
    }
    this.turnTimer?.cancel();
    this.turnTimer = null;
    this.replyTimer?.cancel();
    this.replyTimer = this.clock.setTimeout(() => {
      this.replyTimer = null;
      if (!this.active && !this.closed)
        this.startResponse(this.nextCueLine() ?? (heard ? this.script.replyTo(heard) : this.script.next()), null);
    }, this.pacing.replyDelayMs);
  }

  // ---- responses ---------------------------------------------------------------------

  private respond(metadata: Record<string, string> | null, eventId?: string): void {
    if (this.active) {
      this.error(
        'invalid_request_error',
        'conversation_already_has_active_response',
        `Conversation already has an active response in progress: ${this.active.id}. Wait until the response is finished before creating a new one.`,
        eventId,
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
    const words = line.match(/\S+\s*/g) ?? [];
    const active: ActiveResponse = { id, itemId, words, generated: '', generatedWords: 0, timer: null, metadata };
    this.active = active;
    this.hasSpoken = true;
    this.turnTimer?.cancel();
    this.turnTimer = null;
    const item: RealtimeConversationItem = {
      id: itemId,
      object: 'realtime.item',
      type: 'message',
      role: 'assistant',
      status: 'in_progress',
      content: [],
    };
    this.remember(itemId, 'assistant', '');
    this.emit({
      type: 'response.created',
      event_id: newId('event'),
      response: this.responseInfo(active, 'in_progress', []),
    });
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
    // Its audio goes into the output buffer, behind whatever still plays there.
    const startAt = Math.max(this.clock.now(), this.playbacks.at(-1)?.endAt ?? 0);
    const playback: Playback = {
      responseId: id,
      itemId,
      startAt,
      endAt: startAt + words.length * this.pacing.wordMs,
      started: false,
      startTimer: null,
      endTimer: null,
    };
    this.playbacks.push(playback);
    this.schedulePlayback(playback);
    this.generateNextWord(active);
  }

  private generateNextWord(active: ActiveResponse): void {
    active.timer = this.clock.setTimeout(
      () => {
        if (this.active !== active) return;
        const word = active.words.shift();
        if (word === undefined) {
          this.finish('completed');
          return;
        }
        active.generated += word;
        active.generatedWords++;
        this.remember(active.itemId, 'assistant', active.generated.trimEnd());
        this.emit({
          type: 'response.output_audio_transcript.delta',
          event_id: newId('event'),
          response_id: active.id,
          item_id: active.itemId,
          output_index: 0,
          content_index: 0,
          delta: word,
        });
        this.generateNextWord(active);
      },
      Math.max(1, Math.round(this.pacing.wordMs * this.generationRatio)),
    );
  }

  /** Generation is over (completed or cancelled); the audio generated so far plays on. */
  private finish(status: 'completed' | 'cancelled', reason?: string): void {
    const active = this.active;
    if (!active) return;
    active.timer?.cancel();
    this.active = null;
    const transcript = active.generated.trimEnd();
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
    this.emit({
      type: 'response.content_part.done',
      event_id: newId('event'),
      ...ids,
      part: { type: 'audio', transcript },
    });
    this.emit({
      type: 'response.output_item.done',
      event_id: newId('event'),
      response_id: active.id,
      output_index: 0,
      item,
    });
    this.emit({ type: 'conversation.item.done', event_id: newId('event'), item });
    const info = this.responseInfo(active, status, [item]);
    if (reason) info.status_details = { type: status, reason };
    this.emit({ type: 'response.done', event_id: newId('event'), response: info });
    // Only the generated words are in the buffer.
    const playback = this.playbacks.find((p) => p.responseId === active.id);
    if (playback) {
      playback.endAt = playback.startAt + active.generatedWords * this.pacing.wordMs;
      this.schedulePlayback(playback);
    }
  }

  private schedulePlayback(playback: Playback): void {
    const now = this.clock.now();
    if (!playback.started) {
      playback.startTimer?.cancel();
      playback.startTimer = null;
      if (playback.endAt <= playback.startAt && this.active?.id !== playback.responseId) {
        // Nothing was generated: nothing plays.
        this.dropPlayback(playback);
        return;
      }
      if (playback.startAt <= now) this.startPlayback(playback);
      else playback.startTimer = this.clock.setTimeout(() => this.startPlayback(playback), playback.startAt - now);
    }
    if (playback.started) this.scheduleEnd(playback);
  }

  private startPlayback(playback: Playback): void {
    if (playback.started || !this.playbacks.includes(playback)) return;
    playback.started = true;
    playback.startTimer = null;
    this.emit({ type: 'output_audio_buffer.started', event_id: newId('event'), response_id: playback.responseId });
    this.output.voice('speaking');
    this.scheduleEnd(playback);
  }

  private scheduleEnd(playback: Playback): void {
    playback.endTimer?.cancel();
    playback.endTimer = null;
    // While generation runs the end is not known yet; finish() schedules it.
    if (this.active?.id === playback.responseId) return;
    const wait = playback.endAt - this.clock.now();
    if (wait <= 0) this.endPlayback(playback);
    else playback.endTimer = this.clock.setTimeout(() => this.endPlayback(playback), wait);
  }

  private endPlayback(playback: Playback): void {
    if (!this.playbacks.includes(playback)) return;
    playback.endTimer = null;
    this.dropPlayback(playback);
    this.emit({ type: 'output_audio_buffer.stopped', event_id: newId('event'), response_id: playback.responseId });
    const next = this.playbacks[0];
    if (next) this.schedulePlayback(next);
    else {
      this.output.voice('silent');
      this.scheduleOwnTurn();
    }
  }

  private dropPlayback(playback: Playback): void {
    playback.startTimer?.cancel();
    playback.endTimer?.cancel();
    this.playbacks = this.playbacks.filter((p) => p !== playback);
  }

  /** output_audio_buffer.clear (or the child interrupting): the audio stops now, all of it. */
  private clearPlayback(): void {
    const playing = this.playbacks.find((p) => p.started) ?? this.playbacks[0];
    for (const p of this.playbacks) {
      p.startTimer?.cancel();
      p.endTimer?.cancel();
    }
    this.playbacks = [];
    this.output.voice('silent');
    this.emit({
      type: 'output_audio_buffer.cleared',
      event_id: newId('event'),
      response_id: playing?.responseId ?? this.active?.id ?? null,
    });
    if (!this.active) this.scheduleOwnTurn();
  }

  private scheduleOwnTurn(): void {
    if (
      this.closed ||
      this.wrappedUp ||
      this.pacing.turnGapMs === null ||
      this.replyTimer ||
      this.active ||
      this.playbacks.length
    )
      return;
    this.turnTimer?.cancel();
    this.turnTimer = this.clock.setTimeout(() => {
      this.turnTimer = null;
      if (!this.active && !this.closed && !this.wrappedUp)
        this.startResponse(this.nextCueLine() ?? this.script.next(), null);
    }, this.pacing.turnGapMs);
  }

  private responseInfo(
    active: ActiveResponse,
    status: RealtimeResponseInfo['status'],
    output: RealtimeConversationItem[],
  ): RealtimeResponseInfo {
    return { id: active.id, object: 'realtime.response', status, output, metadata: active.metadata };
  }

  /** The service's answer to a client event that names an item the conversation does not hold. */
  private itemNotFound(itemId: string, eventId: string | undefined): void {
    this.error('invalid_request_error', 'item_not_found', `Item with item_id not found: ${itemId}`, eventId, 'item_id');
  }

  private error(type: string, code: string, message: string, eventId?: string, param: string | null = null): void {
    this.emit({
      type: 'error',
      event_id: newId('event'),
      error: { type, code, message, param, event_id: eventId ?? null },
    });
  }

  private emit(event: RealtimeServerEvent): void {
    if (!this.closed) this.output.emit(event);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
