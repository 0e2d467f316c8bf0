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
  /**
   * Text of a response every check has passed, as it grows: the local rules and, when
   * configured, every moderation answer so far (an unavailable moderation counts as passed:
   * the local rules are then in charge). `whole` once the response is complete and all of it
   * passed. Never called for a response that tripped.
   */
  onCleared?: (responseId: string, text: string, whole: boolean) => void;
}

interface ResponseState {
  text: string;
  checkedTo: number;
  moderatedTo: number;
  tripped: boolean;
  done: boolean;
  pendingModeration: number;
  /** Moderation requests in the order sent: up to where each reaches, and whether it answered clean. */
  requests: Array<{ end: number; clean: boolean }>;
  /** What onCleared last reported. */
  clearedTo: number;
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
    this.reportCleared(responseId, state);
    this.release(responseId, state);
    return trip;
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
      state = {
        text: '',
        checkedTo: 0,
        moderatedTo: 0,
        tripped: false,
        done: false,
        pendingModeration: 0,
        requests: [],
        clearedTo: 0,
      };
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
    if (!final) this.reportCleared(responseId, state);
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
    const request = { end, clean: false };
    state.requests.push(request);
    checker
      .check(text)
      .then((result) => {
        if (this.closed || state.tripped) return;
        if (result.flagged) {
          this.trip(responseId, state, {
            responseId,
            category: 'moderation',
            source: 'moderation',
            moderationCategories: result.categories,
          });
          return;
        }
        request.clean = true;
      })
      .catch((error: unknown) => {
        // No answer: the local rules stay in charge, so the words are as cleared as they can be.
        request.clean = true;
        this.options.onModerationError?.(error);
      })
      .finally(() => {
        state.pendingModeration--;
        if (!this.closed && !state.tripped) this.reportCleared(responseId, state);
        this.release(responseId, state);
      });
  }

  /**
   * How far every check has passed: the local rules' reach, capped (with moderation) by the
   * first moderation request that has not answered clean, and by what was never sent to it.
   */
  private reportCleared(responseId: string, state: ResponseState): void {
    if (state.tripped || !this.options.onCleared || state.clearedTo === Number.POSITIVE_INFINITY) return;
    let cleared = state.checkedTo;
    if (this.options.moderation) {
      let moderated = 0;
      for (const r of state.requests) {
        if (!r.clean) break;
        moderated = r.end;
      }
      cleared = Math.min(cleared, moderated);
    }
    const whole = state.done && cleared >= state.text.length;
    if (cleared <= state.clearedTo && !whole) return;
    state.clearedTo = cleared;
    this.options.onCleared(responseId, state.text.slice(0, cleared), whole);
    if (whole) state.clearedTo = Number.POSITIVE_INFINITY; // reported once
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
