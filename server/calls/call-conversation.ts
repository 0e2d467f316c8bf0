import { randomBytes } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import type { Locale } from '../../shared/locales.js';
import type { CallTranscript, CallWarning, SafetyCategory } from '../../shared/schemas/calls.js';
import type { Notifier } from '../sockets/hub.js';
import type { ExpectedSession, RealtimeControl, RealtimeServerEvent } from '../realtime/provider.js';
import { isServerEvent } from '../realtime/events.js';
import { changeSubjectInstruction, distressResponseInstruction, wrapUpInstruction } from '../santa/persona.js';
import { SantaTurns, type SantaTurnsDeps } from './santa-turns.js';

/**
 * The live guardrail of one call, as the conversation needs it (the adapter over the Santa
 * safety module is in guard.ts). Local rules answer at once; a slower check (the
 * moderation endpoint) may report a trip later through `onLateTrip`.
 */
export interface CallGuard {
  /** One streamed piece of Santa's words; a category the first time this response trips. */
  santaDelta(responseId: string, delta: string): SafetyCategory | null;
  /** The response's words are complete; checks what the stream held back. */
  santaDone(responseId: string, transcript: string): SafetyCategory | null;
  /**
   * A response's words every check has passed so far (the local rules, and the moderation
   * answers when moderation is on), as they grow; `whole` once all of it passed. All that may
   * be shown.
   */
  onCleared(listener: (responseId: string, text: string, whole: boolean) => void): void;
  /** A finished child utterance: 'child_distress' when it signals distress. */
  child(text: string): SafetyCategory | null;
  onLateTrip(listener: (responseId: string, category: SafetyCategory) => void): void;
  close(): void;
}

export interface CallConversationDeps extends SantaTurnsDeps {
  logger: Logger;
  notifier: Pick<Notifier, 'toAccount'>;
}

/** Utterances in a row that could not be transcribed before the parent is told. */
const UNHEARD_ALERT_AFTER = 3;
/** Times the server puts the session back in one call before it ends the call instead. */
const MAX_SESSION_RESTORES = 3;
/** event_id prefix of the server's own session.update: an error answering it means it did not take. */
const RESTORE_EVENT = 'evt_restore_';

export interface CallConversationInit {
  callId: string;
  accountId: string;
  language: Locale;
  control: RealtimeControl;
  guard: CallGuard;
  /** Checked against every session.updated; absent: not checked (a provider that reports no session). */
  session?: ExpectedSession;
  /** The session cannot be kept as the server set it: end the call with this reason. */
  onTampered?: () => void;
}

/**
 * What is said on one call: the provider's events relayed live to the account, the guardrail
 * over Santa's words and the child's, and what Santa is told to do (through his turns).
 * Nothing it sees is stored or logged: transcripts are relayed and forgotten, alerts carry a
 * category only (P1, P3).
 */
export class CallConversation {
  private readonly turns: SantaTurns;
  private readonly unsubscribe: () => void;
  private closed = false;
  /** Conversation items the server itself created (its steering instructions). */
  private readonly ownItems = new Set<string>();
  /**
   * Each response's items and the words of it the account was shown while it streamed (until
   * its final line went out): in memory for the call only, like the guardrail's own copy.
   */
  private readonly responses = new Map<string, ResponseShown>();
  private unheardInARow = 0;
  private unheardAlerted = false;
  private sessionRestores = 0;

  constructor(
    private readonly deps: CallConversationDeps,
    private readonly init: CallConversationInit,
  ) {
    this.turns = new SantaTurns(deps, init.control, () => {
      const id = `sys_${randomBytes(8).toString('hex')}`;
      this.ownItems.add(id);
      return id;
    });
    // Listen from the first moment: the provider may speak before metering begins.
    this.unsubscribe = init.control.onEvent((event) => this.onProviderEvent(event));
    init.guard.onLateTrip((responseId, category) => this.santaTripped(responseId, category));
    init.guard.onCleared((responseId, text, whole) => this.santaCleared(responseId, text, whole));
  }

  /**
   * Only what every check passed reaches anyone's screen, and of a response still streaming
   * only whole sentences (the end of a sentence can still make it one the rules stop:
   * "I promise" + "you will get it").
   */
  private santaCleared(responseId: string, text: string, whole: boolean): void {
    if (this.closed || this.turns.isStopped(responseId)) return;
    const shown = this.response(responseId);
    if (whole) {
      shown.shown = '';
      shown.finished = true;
      this.relay('santa', text, true);
      return;
    }
    const sentences = wholeSentences(text);
    if (sentences.length > shown.shown.length) {
      this.relay('santa', sentences.slice(shown.shown.length), false);
      shown.shown = sentences;
    }
  }

  /** Santa speaks first, once per call. */
  greet(): void {
    if (!this.closed) this.turns.greet();
  }

  get greeted(): boolean {
    return this.turns.hasGreeted;
  }

  /** The call is near its end: Santa says a warm goodbye after what he is saying now. */
  wrapUp(): void {
    if (!this.closed) this.turns.say(wrapUpInstruction(this.init.language), false);
  }

  /** The call is ending: nothing more is relayed, checked or sent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.turns.close();
    this.unsubscribe();
    this.init.guard.close();
  }

  private relay(speaker: CallTranscript['speaker'], text: string, final: boolean): void {
    if (!text) return;
    const payload: CallTranscript = { callId: this.init.callId, speaker, text, final };
    this.deps.notifier.toAccount(this.init.accountId, 'call:transcript', payload);
  }

  private response(responseId: string): ResponseShown {
    let r = this.responses.get(responseId);
    if (!r) {
      r = { items: new Set(), shown: '', finished: false };
      this.responses.set(responseId, r);
      // Only the last few responses can still be stopped; older ones are forgotten.
      if (this.responses.size > 16) this.responses.delete(this.responses.keys().next().value!);
    }
    return r;
  }

  private onProviderEvent(event: RealtimeServerEvent): void {
    if (this.closed) return;
    const { guard } = this.init;
    if (isServerEvent(event, 'response.created')) {
      this.response(event.response.id);
      this.turns.responseCreated(event.response.id);
    } else if (isServerEvent(event, 'response.done')) {
      const output = (event.response.output ?? [])
        .map((i) => i.id)
        .filter((id): id is string => typeof id === 'string');
      const words = (event.response.output ?? [])
        .flatMap((i) => i.content ?? [])
        .map((p) => ('transcript' in p ? (p.transcript ?? '') : ''))
        .join(' ');
      // The audio plays on after generation: roughly what a voice takes for these words, and some.
      this.turns.responseDone(event.response.id, output, 2000 + words.length * 90);
    } else if (isServerEvent(event, 'output_audio_buffer.stopped')) {
      this.turns.audioStopped(event.response_id);
    } else if (isServerEvent(event, 'output_audio_buffer.cleared')) {
      this.turns.audioStopped(event.response_id ?? null);
    } else if (isServerEvent(event, 'response.output_audio_transcript.delta')) {
      if (this.turns.isStopped(event.response_id)) return;
      this.response(event.response_id).items.add(event.item_id);
      // What passes is relayed through santaCleared.
      const category = guard.santaDelta(event.response_id, event.delta);
      if (category) return this.santaTripped(event.response_id, category);
    } else if (isServerEvent(event, 'response.output_audio_transcript.done')) {
      if (this.turns.isStopped(event.response_id)) return;
      this.response(event.response_id).items.add(event.item_id);
      const category = guard.santaDone(event.response_id, event.transcript);
      if (category) return this.santaTripped(event.response_id, category);
    } else if (isServerEvent(event, 'conversation.item.added')) {
      this.itemAdded(event.item.id, event.item.role);
    } else if (isServerEvent(event, 'session.updated')) {
      // session.created is the session as the server asked for it; only a change can drift.
      this.checkSession(event.session);
    } else if (isServerEvent(event, 'conversation.item.input_audio_transcription.delta')) {
      this.relay('child', event.delta, false);
    } else if (isServerEvent(event, 'conversation.item.input_audio_transcription.completed')) {
      this.unheardInARow = 0;
      this.unheardAlerted = false;
      this.relay('child', event.transcript, true);
      if (guard.child(event.transcript) === 'child_distress') this.childDistress();
    } else if (isServerEvent(event, 'conversation.item.input_audio_transcription.failed')) {
      this.childUnheard();
    } else if (isServerEvent(event, 'error')) {
      // The provider's error code only: its message may quote what was said. Cancelling a
      // response whose generation already ended is answered response_cancel_not_active: expected.
      const expected = event.error.code === 'response_cancel_not_active';
      this.deps.logger[expected ? 'debug' : 'warn'](
        { callId: this.init.callId, type: event.error.type, code: event.error.code ?? null },
        'realtime provider reported an error',
      );
      // The session could not be put back: the call cannot go on as the parent set it up.
      if (typeof event.error.event_id === 'string' && event.error.event_id.startsWith(RESTORE_EVENT))
        this.init.onTampered?.();
    }
  }

  /** Santa said something the guardrail forbids: stop it, steer away, tell the parent which kind. */
  private santaTripped(responseId: string, category: SafetyCategory): void {
    if (this.closed || this.turns.isStopped(responseId)) return;
    this.deps.logger.info({ callId: this.init.callId, category }, 'guardrail stopped a Santa response');
    // Whatever of it is on a screen goes at once (a late moderation answer comes after words were shown).
    this.deps.notifier.toAccount(this.init.accountId, 'call:santa_stopped', { callId: this.init.callId });
    const shown = this.responses.get(responseId);
    if (shown) {
      // Withdrawn everywhere: not kept here either.
      shown.shown = '';
      shown.finished = true;
    }
    this.turns.stopTripped(responseId, [...(shown?.items ?? [])]);
    this.turns.say(changeSubjectInstruction(this.init.language), true);
    this.alert(category);
  }

  /** The child's words signal distress: Santa's gentle scripted line, and the parent is alerted. */
  private childDistress(): void {
    this.deps.logger.info({ callId: this.init.callId, category: 'child_distress' }, 'child distress detected');
    const open = [...this.responses].filter(([id, r]) => !r.finished && !this.turns.isStopped(id));
    this.turns.say(distressResponseInstruction(this.init.language), true);
    // The answer this cut short relays nothing more, but its words on screens passed every
    // check and stay: they become its final line, so no screen keeps a line that never ends
    // (and the next answer, a line of its own, is not added to it).
    for (const [id, r] of open) {
      if (!this.turns.isStopped(id)) continue;
      r.finished = true;
      this.relay('santa', r.shown, true);
      r.shown = '';
    }
    this.alert('child_distress');
  }

  /** An utterance that could not be transcribed cannot be checked for distress: several in a row, the parent is told. */
  private childUnheard(): void {
    this.unheardInARow++;
    this.deps.logger.info(
      { callId: this.init.callId, inARow: this.unheardInARow },
      'an utterance could not be transcribed',
    );
    if (this.unheardInARow >= UNHEARD_ALERT_AFTER && !this.unheardAlerted) {
      this.unheardAlerted = true;
      this.alert('child_unheard');
    }
  }

  /**
   * A system item the server did not create came from the browser's data channel: it could
   * replace Santa's instructions. It is removed from the conversation and the parent alerted.
   */
  private itemAdded(itemId: string | undefined, role: string): void {
    if (role !== 'system' || !itemId || this.ownItems.has(itemId)) return;
    this.deps.logger.warn({ callId: this.init.callId }, 'a system item the server did not create was removed');
    this.init.control.send({ type: 'conversation.item.delete', item_id: itemId });
    this.alert('session_tampered');
  }

  /**
   * The data channel is the browser's: anything on it can send session.update. What the server
   * set (instructions, transcription, tools, voice, modalities) is put back at once and the
   * parent alerted; a session that keeps being changed ends the call.
   */
  private checkSession(session: Record<string, unknown>): void {
    const expected = this.init.session;
    if (!expected) return;
    const drift = sessionDrift(expected, session);
    if (!drift) return;
    this.sessionRestores++;
    this.deps.logger.warn(
      { callId: this.init.callId, fields: drift.fields },
      'the call session was changed from outside; putting it back',
    );
    this.alert('session_tampered');
    if (this.sessionRestores > MAX_SESSION_RESTORES) {
      this.init.onTampered?.();
      return;
    }
    this.init.control.send({
      type: 'session.update',
      event_id: `${RESTORE_EVENT}${this.sessionRestores}`,
      session: drift.restore,
    });
  }

  private alert(category: SafetyCategory): void {
    const warning: CallWarning = { callId: this.init.callId, kind: 'safety', category };
    this.deps.notifier.toAccount(this.init.accountId, 'call:warning', warning);
  }
}

interface ResponseShown {
  items: Set<string>;
  /** Santa's words of it relayed so far as unfinished pieces. */
  shown: string;
  /** Its final line went out: nothing more of it is relayed. */
  finished: boolean;
}

/** The text up to and with its last sentence end (and the space after it). */
function wholeSentences(text: string): string {
  const match = /^[\s\S]*[.!?\n]\s*/.exec(text);
  return match ? match[0] : '';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Where a reported session differs from what the server set, and the session.update that puts
 * it back; null when it matches. Only what the safety of the call rests on is compared.
 */
export function sessionDrift(
  expected: ExpectedSession,
  session: Record<string, unknown>,
): { fields: string[]; restore: { type: 'realtime'; [key: string]: unknown } } | null {
  const fields: string[] = [];
  const restore: { type: 'realtime'; [key: string]: unknown } = { type: 'realtime' };
  const audio = isRecord(session.audio) ? session.audio : {};
  const input = isRecord(audio.input) ? audio.input : {};
  const output = isRecord(audio.output) ? audio.output : {};
  const restoreAudio: Record<string, Record<string, unknown>> = {};
  // Whitespace is compared loosely: the service may normalise it; the words must be the server's.
  const loose = (v: unknown) => (typeof v === 'string' ? v.replace(/\s+/g, ' ').trim() : v);
  if (expected.instructions !== undefined && loose(session.instructions) !== loose(expected.instructions)) {
    fields.push('instructions');
    restore.instructions = expected.instructions;
  }
  if (expected.transcriptionModel !== undefined) {
    const transcription = isRecord(input.transcription) ? input.transcription : null;
    if (!transcription || transcription.model !== expected.transcriptionModel) {
      fields.push('transcription');
      restoreAudio.input = {
        transcription: {
          model: expected.transcriptionModel,
          ...(expected.transcriptionLanguage ? { language: expected.transcriptionLanguage } : {}),
        },
      };
    }
  }
  if (expected.voice !== undefined && output.voice !== undefined && output.voice !== expected.voice) {
    fields.push('voice');
    restoreAudio.output = { voice: expected.voice };
  }
  if (Array.isArray(session.tools) && session.tools.length > 0) {
    fields.push('tools');
    restore.tools = [];
  }
  if (
    expected.outputModalities &&
    Array.isArray(session.output_modalities) &&
    session.output_modalities.join() !== expected.outputModalities.join()
  ) {
    fields.push('output_modalities');
    restore.output_modalities = expected.outputModalities;
  }
  if (Object.keys(restoreAudio).length) restore.audio = restoreAudio;
  return fields.length ? { fields, restore } : null;
}
