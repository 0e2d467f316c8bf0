import type { Logger } from '../core/logger.js';
import type { Locale } from '../../shared/locales.js';
import type { CallTranscript, CallWarning, SafetyCategory } from '../../shared/schemas/calls.js';
import type { Notifier } from '../sockets/hub.js';
import type { RealtimeControl, RealtimeServerEvent } from '../realtime/provider.js';
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
  /** A finished child utterance: 'child_distress' when it signals distress. */
  child(text: string): SafetyCategory | null;
  onLateTrip(listener: (responseId: string, category: SafetyCategory) => void): void;
  close(): void;
}

export interface CallConversationDeps extends SantaTurnsDeps {
  logger: Logger;
  notifier: Pick<Notifier, 'toAccount'>;
}

export interface CallConversationInit {
  callId: string;
  accountId: string;
  language: Locale;
  control: RealtimeControl;
  guard: CallGuard;
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

  constructor(
    private readonly deps: CallConversationDeps,
    private readonly init: CallConversationInit,
  ) {
    this.turns = new SantaTurns(deps, init.control);
    // Listen from the first moment: the provider may speak before metering begins.
    this.unsubscribe = init.control.onEvent((event) => this.onProviderEvent(event));
    init.guard.onLateTrip((responseId, category) => this.santaTripped(responseId, category));
  }

  /** Santa speaks first, once per call. */
  greet(): void {
    if (!this.closed) this.turns.greet();
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

  private onProviderEvent(event: RealtimeServerEvent): void {
    if (this.closed) return;
    const { guard } = this.init;
    if (isServerEvent(event, 'response.created')) {
      this.turns.responseCreated(event.response.id);
    } else if (isServerEvent(event, 'response.done')) {
      this.turns.responseDone(event.response.id);
    } else if (isServerEvent(event, 'response.output_audio_transcript.delta')) {
      if (this.turns.isStopped(event.response_id)) return;
      this.relay('santa', event.delta, false);
      const category = guard.santaDelta(event.response_id, event.delta);
      if (category) this.santaTripped(event.response_id, category);
    } else if (isServerEvent(event, 'response.output_audio_transcript.done')) {
      if (this.turns.isStopped(event.response_id)) return;
      this.relay('santa', event.transcript, true);
      const category = guard.santaDone(event.response_id, event.transcript);
      if (category) this.santaTripped(event.response_id, category);
    } else if (isServerEvent(event, 'conversation.item.input_audio_transcription.delta')) {
      this.relay('child', event.delta, false);
    } else if (isServerEvent(event, 'conversation.item.input_audio_transcription.completed')) {
      this.relay('child', event.transcript, true);
      if (guard.child(event.transcript) === 'child_distress') this.childDistress();
    } else if (isServerEvent(event, 'error')) {
      // The provider's error code only: its message may quote what was said.
      this.deps.logger.warn({ callId: this.init.callId, type: event.error.type, code: event.error.code ?? null }, 'realtime provider reported an error');
    }
  }

  /** Santa said something the guardrail forbids: stop it, steer away, tell the parent which kind. */
  private santaTripped(responseId: string, category: SafetyCategory): void {
    if (this.closed || this.turns.isStopped(responseId)) return;
    this.deps.logger.info({ callId: this.init.callId, category }, 'guardrail stopped a Santa response');
    this.turns.stopTripped(responseId);
    this.turns.say(changeSubjectInstruction(this.init.language), true);
    this.alert(category);
  }

  /** The child's words signal distress: Santa's gentle scripted line, and the parent is alerted. */
  private childDistress(): void {
    this.deps.logger.info({ callId: this.init.callId, category: 'child_distress' }, 'child distress detected');
    this.turns.say(distressResponseInstruction(this.init.language), true);
    this.alert('child_distress');
  }

  private alert(category: SafetyCategory): void {
    const warning: CallWarning = { callId: this.init.callId, kind: 'safety', category };
    this.deps.notifier.toAccount(this.init.accountId, 'call:warning', warning);
  }
}
