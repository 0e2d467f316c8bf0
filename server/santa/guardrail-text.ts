import type { Locale } from '../../shared/locales.js';

/**
 * Text plumbing for the guardrail: normalisation, sentence segments, and patterns that
 * match whole words in any script. JavaScript's `\b` and `\w` only know ASCII, so "øl" or
 * "ånej" would never be bounded; every pattern here is wrapped in Unicode-aware edges.
 */

/** One word token inside a pattern. */
export const WORD = "[\\p{L}\\p{N}'\\-]+";
/** Up to `n` whole words between two parts of a pattern (never crosses a sentence). */
export const gap = (n: number): string => `(?:${WORD} ){0,${n}}`;
/** Alternatives as one non-capturing group. */
export const alt = (...parts: string[]): string => `(?:${parts.join('|')})`;

const START = '(?<![\\p{L}\\p{N}])';
const END = '(?![\\p{L}\\p{N}])';

// Two ASCII spellings people (and speech recognisers) use when å ä ö æ ø are missing:
// "bla"/"graa"-style and "ae/oe"-style. Patterns and text are folded the same way.
const FOLD_PLAIN: Record<string, string> = { æ: 'ae', ø: 'o', ß: 'ss', œ: 'oe' };
const FOLD_DOUBLE: Record<string, string> = { æ: 'ae', ø: 'oe', å: 'aa', ä: 'ae', ö: 'oe', ü: 'ue', ß: 'ss', œ: 'oe' };

function stripMarks(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .normalize('NFC');
}

export function foldPlain(text: string): string {
  return stripMarks(text.replace(/[æøßœ]/g, (c) => FOLD_PLAIN[c] ?? c));
}

export function foldDouble(text: string): string {
  return stripMarks(text.replace(/[æøåäöüßœ]/g, (c) => FOLD_DOUBLE[c] ?? c));
}

// Words whose plain ASCII spelling is another common word: "nøgen" (naked) -> "nogen"
// (anyone), "får" (gets) -> "far" (father), "för" -> "for", "här" -> "har". Santa's rules
// keep these in their native spelling, so an ASCII sentence cannot trip on the other word.
const PLAIN_COLLISIONS = new Set([
  'far',
  'for',
  'sa',
  'bor',
  'har',
  'var',
  'nogen',
  'bade',
  'rad',
  'pa',
  'ma',
  'fore',
  'mal',
  'tor',
  'kon',
  'bla',
]);

function foldPlainSafe(source: string): string {
  return source.replace(/\p{L}+/gu, (word) => {
    const folded = foldPlain(word);
    return folded !== word && PLAIN_COLLISIONS.has(folded) ? word : folded;
  });
}

export interface Pattern {
  native: RegExp;
  plain: RegExp;
  double: RegExp;
}

/**
 * `safe` folding (Santa's rules) never folds a word into a different common word; `full`
 * folding (the child's distress) does, because a missed cry for help costs more than a
 * needless gentle line.
 */
export type FoldMode = 'safe' | 'full';

export function compilePattern(source: string, mode: FoldMode = 'safe'): Pattern {
  const wrap = (s: string) => new RegExp(`${START}(?:${s})${END}`, 'u');
  const plain = mode === 'full' ? foldPlain(source) : foldPlainSafe(source);
  return { native: wrap(source), plain: wrap(plain), double: wrap(foldDouble(source)) };
}

const CONTRACTIONS: Array<[RegExp, string]> = [
  [/\bwon'?t\b/g, 'will not'],
  [/\bcan'?t\b/g, 'can not'],
  [/\bcannot\b/g, 'can not'],
  [/\bshan'?t\b/g, 'shall not'],
  [/\b(do|does|did|is|are|was|were|has|have|had|would|should|could|must|need)n'?t\b/g, '$1 not'],
  [/\b(i|you|we|they|he|she|it|santa|that|there)'ll\b/g, '$1 will'],
  [/\b(you|we|they)'re\b/g, '$1 are'],
  [/\b(you|they)re\b/g, '$1 are'],
  [/\b(you|they)ll\b/g, '$1 will'],
  [/\bi'm\b/g, 'i am'],
  [/\bim\b/g, 'i am'],
  [/\b(i|you|we|they)'ve\b/g, '$1 have'],
  [/\b(i|you|we|they|he|she)'d\b/g, '$1 would'],
  [/\b(it|that|what|there|here|he|she|who|where|how|when|why|everything|nobody|everyone|this)'s\b/g, '$1 is'],
  [/\b(what|that)s\b/g, '$1 is'],
  [/\bsanta's (?=going|gonna|coming|bringing|not|never|real|here|busy|just|only|already|sending)/g, 'santa is '],
  [/\bgonna\b/g, 'going to'],
  [/\bwanna\b/g, 'want to'],
  [/\bgotta\b/g, 'got to'],
];

/**
 * Lower-case, unify apostrophes, expand English contractions (so "won't" and "will not"
 * match one pattern), turn every other punctuation mark into a space and keep only the
 * sentence ends . ! ? as boundaries.
 */
export function normalizeText(text: string): string {
  let t = text.normalize('NFC').toLowerCase();
  t = t.replace(/[\u2018\u2019\u201B\u2032\u00B4`]/g, "'");
  t = t.replace(/\u2026/g, '.').replace(/[\u2010-\u2015]/g, '-');
  for (const [re, replacement] of CONTRACTIONS) t = t.replace(re, replacement);
  t = t.replace(/[;:]/g, '.');
  t = t.replace(/[^\p{L}\p{N}'\-.!?\n]+/gu, ' ');
  // Apostrophes and hyphens only mean something inside a word.
  t = t.replace(/(^|[^\p{L}\p{N}])['-]+|['-]+(?=[^\p{L}\p{N}]|$)/gu, '$1 ');
  return t
    .replace(/[ \t]+/g, ' ')
    .replace(/ *\n+ */g, '\n')
    .trim();
}

export interface Segment {
  native: string;
  plain: string;
  double: string;
  /** Only ASCII: the folded spellings of the patterns apply too. */
  ascii: boolean;
  question: boolean;
}

function makeSegment(raw: string): Segment {
  const question = /\?\s*$/.test(raw);
  const native = raw
    .replace(/[.!?\n]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const ascii = !/[^\x00-\x7f]/.test(native);
  return {
    native,
    plain: ascii ? native : foldPlain(native),
    double: ascii ? native : foldDouble(native),
    ascii,
    question,
  };
}

/** Sentences of normalised text, each with its terminator's meaning kept as `question`. */
export function sentences(normalized: string): Segment[] {
  const parts = normalized.match(/[^.!?\n]+[.!?\n]*/g) ?? [];
  return parts.map(makeSegment).filter((s) => s.native.length > 0);
}

/** Two neighbouring sentences as one window, for rules whose parts may straddle a full stop. */
export function joinSegments(a: Segment, b: Segment): Segment {
  return makeSegment(`${a.native} ${b.native}${b.question ? '?' : ''}`);
}

/**
 * Text with proper diacritics is only matched in its native spelling: folding it would
 * make different words collide (Danish "får" gets, "far" father). ASCII-only text is
 * matched against the folded spellings of every pattern as well.
 */
export function patternMatches(pattern: Pattern, segment: Segment): boolean {
  if (pattern.native.test(segment.native)) return true;
  if (!segment.ascii) return false;
  return pattern.plain.test(segment.plain) || pattern.double.test(segment.double);
}

// ---- rules -------------------------------------------------------------------------

export interface RuleSpec {
  /** Every pattern must match somewhere in the window. */
  all: string[];
  /** None of these may match in the window (hedges, negations, benign idioms). */
  unless?: string[];
  /** Also look across a sentence boundary (two neighbouring sentences). */
  pair?: boolean;
  /** A question is not a statement of this kind (e.g. "will you get a bike?" is no promise). */
  notQuestion?: boolean;
  /** Only a question counts (asking for something), whatever negation it carries. */
  onlyQuestion?: boolean;
}

export interface CompiledRule {
  all: Pattern[];
  unless: Pattern[];
  pair: boolean;
  notQuestion: boolean;
  onlyQuestion: boolean;
}

export type RuleInput = string | RuleSpec;

export function compileRule(input: RuleInput, mode: FoldMode = 'safe'): CompiledRule {
  const spec: RuleSpec = typeof input === 'string' ? { all: [input] } : input;
  return {
    all: spec.all.map((source) => compilePattern(source, mode)),
    // Exceptions always match generously: when in doubt, the exception applies.
    unless: (spec.unless ?? []).map((source) => compilePattern(source, 'full')),
    pair: spec.pair ?? false,
    notQuestion: spec.notQuestion ?? false,
    onlyQuestion: spec.onlyQuestion ?? false,
  };
}

function ruleHolds(rule: CompiledRule, segment: Segment): boolean {
  if (rule.notQuestion && segment.question) return false;
  if (rule.onlyQuestion && !segment.question) return false;
  if (!rule.all.every((p) => patternMatches(p, segment))) return false;
  return !rule.unless.some((p) => patternMatches(p, segment));
}

export function ruleMatches(rule: CompiledRule, segments: readonly Segment[]): boolean {
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (ruleHolds(rule, segment)) return true;
    if (rule.pair && i + 1 < segments.length && ruleHolds(rule, joinSegments(segment, segments[i + 1]!))) return true;
  }
  return false;
}

// ---- language drift ----------------------------------------------------------------

const STOPWORDS: Record<Locale, ReadonlySet<string>> = {
  en: new Set([
    'the',
    'you',
    'and',
    'is',
    'are',
    'to',
    'it',
    'what',
    'your',
    'my',
    'of',
    'that',
    'have',
    'will',
    'with',
    'be',
    'do',
    'not',
    'this',
    'can',
    'am',
    'we',
    'so',
    'for',
  ]),
  da: new Set([
    'jeg',
    'ikke',
    'og',
    'hvad',
    'hvor',
    'af',
    'også',
    'være',
    'meget',
    'hvordan',
    'noget',
    'mig',
    'dig',
    'nu',
    'hvis',
    'skal',
    'dine',
    'jeres',
    'være',
    'bliver',
    'lige',
    'nogen',
    'sige',
    'hjem',
    'hjemme',
  ]),
  sv: new Set([
    'jag',
    'inte',
    'och',
    'vad',
    'är',
    'av',
    'också',
    'vara',
    'mycket',
    'hur',
    'något',
    'mig',
    'dig',
    'nu',
    'om',
    'ska',
    'dina',
    'era',
    'blir',
    'bara',
    'någon',
    'säga',
    'hem',
    'hemma',
    'att',
  ]),
};

/**
 * A cheap stop-word vote, so the rules of a language Santa drifted into are applied too
 * (a Danish call where the model answers in English). Null when no language clearly wins.
 */
export function guessLanguage(normalized: string): Locale | null {
  const tokens = normalized.split(/[^\p{L}']+/u).filter(Boolean);
  const scores = (Object.keys(STOPWORDS) as Locale[]).map((lang) => ({
    lang,
    score: tokens.reduce((n, t) => n + (STOPWORDS[lang].has(t) ? 1 : 0), 0),
  }));
  scores.sort((a, b) => b.score - a.score);
  const [best, second] = scores;
  if (!best || best.score < 2 || (second && best.score <= second.score)) return null;
  return best.lang;
}
