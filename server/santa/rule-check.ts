import type { Locale } from '../../shared/locales.js';
import { DISTRESS_KIND_ORDER, DISTRESS_RULES, type DistressKind } from './distress-rules.js';
import {
  compileRule,
  guessLanguage,
  normalizeText,
  ruleMatches,
  sentences,
  type CompiledRule,
  type FoldMode,
  type RuleInput,
  type Segment,
} from './guardrail-text.js';
import { SANTA_CATEGORY_ORDER, SANTA_RULES, type SantaCategory } from './santa-rules.js';

export type SantaCheckResult = { tripped: false } | { tripped: true; category: SantaCategory };
export type ChildCheckResult = { distress: false } | { distress: true; category: 'child_distress'; kind: DistressKind };

type Compiled<K extends string> = Record<Locale, Array<[K, CompiledRule[]]>>;

function compileAll<K extends string>(
  source: Record<Locale, Record<K, RuleInput[]>>,
  order: readonly K[],
  mode: FoldMode,
): Compiled<K> {
  const out = {} as Compiled<K>;
  for (const lang of Object.keys(source) as Locale[]) {
    out[lang] = order.map((key) => [key, source[lang][key].map((rule) => compileRule(rule, mode))]);
  }
  return out;
}

// Compiled once at load: a few hundred small regexes, each run on one sentence at a time.
const SANTA = compileAll(SANTA_RULES, SANTA_CATEGORY_ORDER, 'safe');
const DISTRESS = compileAll(DISTRESS_RULES, DISTRESS_KIND_ORDER, 'full');

/** The call's language first, then the one the text looks like if Santa drifted. */
function languagesFor(normalized: string, language: Locale): Locale[] {
  const guessed = guessLanguage(normalized);
  return guessed && guessed !== language ? [language, guessed] : [language];
}

function firstMatch<K extends string>(table: Compiled<K>, languages: Locale[], segments: Segment[]): K | null {
  for (const lang of languages) {
    for (const [key, rules] of table[lang]) {
      if (rules.some((rule) => ruleMatches(rule, segments))) return key;
    }
  }
  return null;
}

/** Local rules over something Santa said (or is saying): the first category that holds. */
export function checkSantaText(text: string, language: Locale): SantaCheckResult {
  const normalized = normalizeText(text);
  if (!normalized) return { tripped: false };
  const category = firstMatch(SANTA, languagesFor(normalized, language), sentences(normalized));
  return category ? { tripped: true, category } : { tripped: false };
}

/** Local rules over the child's words: distress and its kind. */
export function checkChildText(text: string, language: Locale): ChildCheckResult {
  const normalized = normalizeText(text);
  if (!normalized) return { distress: false };
  const kind = firstMatch(DISTRESS, languagesFor(normalized, language), sentences(normalized));
  return kind ? { distress: true, category: 'child_distress', kind } : { distress: false };
}
