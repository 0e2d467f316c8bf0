import type { Locale } from '../../../shared/locales.js';
import { checkChildText } from '../../santa/guardrail.js';
import {
  changeSubjectInstruction,
  distressResponseInstruction,
  SANTA_LINES,
  wrapUpInstruction,
} from '../../santa/persona.js';

/** What the server can ask Santa to do next, by sending one of persona.ts's steering instructions. */
export type SantaCue = 'wrap_up' | 'distress' | 'change_subject';

export interface SantaScriptInput {
  language: Locale;
  childName: string;
  wishList: readonly string[];
}

// Spoken questions about Santa being real, a robot or AI, in the three languages.
const ARE_YOU_REAL =
  /(?<!\p{L})(?:real|robot|computer|ai|fake|ægte|rigtig|virkelig|på riktigt|äkta|verklig|dator|maskine|maskin)(?!\p{L})/iu;

/**
 * Simulated Santa's lines: a greeting with the child's name, each wish acknowledged
 * without a promise, then warm questions; fixed lines for the server's cues. It cannot
 * hear, so a reply only reacts to text the client sent as a conversation item.
 */
export class SantaScript {
  private step = 0;
  private readonly wishes: string[];

  constructor(private readonly input: SantaScriptInput) {
    this.wishes = input.wishList.filter((w) => w.trim().length > 0).slice(0, 2);
  }

  private get lines() {
    return SANTA_LINES[this.input.language];
  }

  greeting(): string {
    return this.lines.greeting(this.input.childName);
  }

  /** The next thing Santa says on his own turn. */
  next(): string {
    const lines = this.lines;
    const step = this.step++;
    if (step < this.wishes.length) return lines.wish(midSentence(this.wishes[step]!, this.input.language));
    if (this.wishes.length === 0 && step === 0) return lines.askWishes;
    const i = step - Math.max(this.wishes.length, 1);
    const ack = lines.acknowledgements[i % lines.acknowledgements.length]!;
    const question = lines.followUps[i % lines.followUps.length]!;
    return `${ack} ${question}`;
  }

  /** Santa's answer to something the child said (as text). */
  replyTo(childText: string): string {
    if (checkChildText(childText, this.input.language).distress) return this.lines.distress;
    if (ARE_YOU_REAL.test(childText)) return this.lines.areYouReal;
    return this.next();
  }

  cue(cue: SantaCue): string {
    if (cue === 'wrap_up') return this.lines.wrapUp;
    if (cue === 'distress') return this.lines.distress;
    return this.lines.changeSubject;
  }
}

/**
 * A wish as it reads inside Santa's sentence: parents write list items with a capital ("A red
 * bicycle", "Cykel"), which mid-sentence reads "wishing for A red bicycle". The first letter is
 * lower-cased in the child's language, unless the first word is written as a name is, an
 * acronym or a brand with capitals inside ("LEGO", "TV", "PlayStation"), which keeps its capitals.
 */
export function midSentence(item: string, language: Locale): string {
  const text = item.trim();
  const first = /^\p{L}[\p{L}\p{M}]*/u.exec(text)?.[0];
  if (!first) return text;
  const rest = first.slice(1);
  if (rest !== rest.toLocaleLowerCase(language)) return text;
  const head = first[0]!;
  return head.toLocaleLowerCase(language) + text.slice(head.length);
}

const CUE_BUILDERS: Array<[SantaCue, (language: Locale) => string]> = [
  ['distress', distressResponseInstruction],
  ['wrap_up', wrapUpInstruction],
  ['change_subject', changeSubjectInstruction],
];

/** Which cue a steering instruction (as the server sends it) stands for, in any language. */
export function cueForInstruction(text: string): SantaCue | null {
  const trimmed = text.trim();
  for (const [cue, build] of CUE_BUILDERS) {
    for (const language of ['en', 'da', 'sv'] as const) {
      if (trimmed === build(language)) return cue;
    }
  }
  return null;
}

export function isSantaCue(value: unknown): value is SantaCue {
  return value === 'wrap_up' || value === 'distress' || value === 'change_subject';
}
