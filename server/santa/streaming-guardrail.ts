import type { Locale } from '../../shared/locales.js';
import type { ModerationChecker } from './moderation.js';
import { checkSantaText } from './rule-check.js';
import type { SantaCategory } from './santa-rules.js';

export interface GuardrailTrip {
  responseId: string;
  category: SantaCategory | 'moderation';
  source: 'local' | 'moderation';
  /** The moderation categories behind a `moderation` trip. */
  moderationCategories?: string[];
}

type LocalCheck = (text: string, language: Locale) => { tripped: false } | { tripped: true; category: SantaCategory };

export interface StreamingGuardrailOptions {
  language: Locale;
  /** Local rule set; `checkSantaText` unless a test injects another. */
  check?: LocalCheck;
  /** Every trip, local or moderation, exactly once per response. */
  onTrip?: (trip: GuardrailTrip) => void;
  moderation?: ModerationChecker | null;
  /** Check at least this often while a sentence is still running (characters). */
  chunkChars?: number;
  /** How far each check reaches back into text already checked, so a phrase split across deltas is whole in one window. */
  overlapChars?: number;
  /** Don't ask moderation about fewer new characters than this, unless the response ended. */
  moderationMinChars?: number;
  /** Responses tracked at once; the oldest is forgotten past this. */
  maxResponses?: number;
  onModerationError?: (error: unknown) => void;
}

interface ResponseState {
  text: string;
  checkedTo: number;
  moderatedTo: number;
  tripped: boolean;
  done: boolean;
  pendingModeration: number;
}

const SENTENCE_END = /[.!?\n]/;

/**
 * Checks Santa's transcript while it streams. Deltas are gathered per response id and the
 * local rules run whenever a sentence ends or `chunkChars` new characters arrived, over a
 * window that starts `overlapChars` back (at a sentence start), so "I prom" + "ise you'll
 * get it" is caught. Moderation, when configured, runs on whole sentences in the
 * background; its errors never stop the local rules. Each response trips at most once.
 */
export class StreamingGuardrail {
  private readonly responses = new Map<string, ResponseState>();
  private readonly chunkChars: number;
  private readonly overlapChars: number;
  private readonly moderationMinChars: number;
  private readonly maxResponses: number;
  private readonly check: LocalCheck;
  private closed = false;

  constructor(private readonly options: StreamingGuardrailOptions) {
    this.chunkChars = options.chunkChars ?? 120;
    this.overlapChars = options.overlapChars ?? 160;
    this.moderationMinChars = options.moderationMinChars ?? 40;
    this.maxResponses = options.maxResponses ?? 16;
    this.check = options.check ?? checkSantaText;
  }

  /** Add a transcript delta; returns the local trip if this delta caused one (also sent to onTrip). */
  push(responseId: string, delta: string): GuardrailTrip | null {
    if (this.closed) return null;
    const state = this.state(responseId);
    if (state.tripped || state.done) return null;
    state.text += delta;
    const unchecked = state.text.length - state.checkedTo;
    if (!SENTENCE_END.test(delta) && unchecked < this.chunkChars) return null;
    return this.checkNow(responseId, state, false);
  }

  /** The response ended: check what is left (the final transcript replaces the deltas when given). */
  complete(responseId: string, finalTranscript?: string): GuardrailTrip | null {
    if (this.closed) return null;
    const state = this.state(responseId);
    if (state.done) return null;
    if (finalTranscript !== undefined && finalTranscript !== state.text) {
      state.text = finalTranscript;
      state.checkedTo = Math.min(state.checkedTo, finalTranscript.length);
      state.moderatedTo = Math.min(state.moderatedTo, finalTranscript.length);
    }
    const trip = state.tripped ? null : this.checkNow(responseId, state, true);
    state.done = true;
    this.release(responseId, state);
    return trip;
  }

  /**
   * The words of a response the local rules have checked and passed so far (empty once it
   * tripped): what may be shown while the rest is still held back.
   */
  checkedText(responseId: string): string {
    const state = this.responses.get(responseId);
    if (!state || state.tripped) return '';
    return state.text.slice(0, state.checkedTo);
  }

  hasTripped(responseId: string): boolean {
    return this.responses.get(responseId)?.tripped ?? false;
  }

  /** Forget everything; late moderation answers are ignored. */
  close(): void {
    this.closed = true;
    this.responses.clear();
  }

  private state(responseId: string): ResponseState {
    let state = this.responses.get(responseId);
    if (!state) {
      state = { text: '', checkedTo: 0, moderatedTo: 0, tripped: false, done: false, pendingModeration: 0 };
      this.responses.set(responseId, state);
      while (this.responses.size > this.maxResponses) {
        const oldest = this.responses.keys().next().value;
        if (oldest === undefined) break;
        this.responses.delete(oldest);
      }
    }
    return state;
  }

  private windowStart(text: string, from: number): number {
    if (from <= 0) return 0;
    // Back to the start of the sentence the overlap lands in, so sentence rules see it whole.
    const floor = Math.max(0, from - 240);
    for (let i = from - 1; i >= floor; i--) {
      if (SENTENCE_END.test(text[i]!)) return i + 1;
    }
    return floor;
  }

  private checkNow(responseId: string, state: ResponseState, final: boolean): GuardrailTrip | null {
    const start = this.windowStart(state.text, state.checkedTo - this.overlapChars);
    const window = state.text.slice(start);
    state.checkedTo = state.text.length;
    const verdict = this.check(window, this.options.language);
    if (verdict.tripped) {
      return this.trip(responseId, state, { responseId, category: verdict.category, source: 'local' });
    }
    this.moderate(responseId, state, final);
    return null;
  }

  private moderate(responseId: string, state: ResponseState, final: boolean): void {
    const checker = this.options.moderation;
    if (!checker) return;
    // Only whole sentences go out mid-stream; the tail goes when the response ends.
    let end = state.text.length;
    if (!final) {
      let i = end - 1;
      while (i >= state.moderatedTo && !SENTENCE_END.test(state.text[i]!)) i--;
      end = i + 1;
    }
    if (end - state.moderatedTo < (final ? 1 : this.moderationMinChars)) return;
    const text = state.text.slice(this.windowStart(state.text, state.moderatedTo - this.overlapChars), end);
    state.moderatedTo = end;
    state.pendingModeration++;
    checker
      .check(text)
      .then((result) => {
        if (this.closed || state.tripped || !result.flagged) return;
        this.trip(responseId, state, { responseId, category: 'moderation', source: 'moderation', moderationCategories: result.categories });
      })
      .catch((error: unknown) => this.options.onModerationError?.(error))
      .finally(() => {
        state.pendingModeration--;
        this.release(responseId, state);
      });
  }

  private trip(responseId: string, state: ResponseState, trip: GuardrailTrip): GuardrailTrip {
    state.tripped = true;
    this.options.onTrip?.(trip);
    return trip;
  }

  private release(responseId: string, state: ResponseState): void {
    if (state.done && state.pendingModeration === 0 && this.responses.get(responseId) === state) {
      // Keep a done response's id only while something may still report on it.
      this.responses.delete(responseId);
    }
  }
}
