import { describe, expect, it } from 'vitest';
import { LOCALES } from '../../shared/locales.js';
import { SANTA_CATEGORY_ORDER } from './santa-rules.js';
import { loadSafetyCorpus } from './corpus.test-support.js';
import {
  checkChildText,
  checkSantaText,
  StreamingGuardrail,
  type GuardrailTrip,
  type ModerationChecker,
} from './guardrail.js';
import { CHILD_DISTRESS, CHILD_FINE, SANTA_MAY, SANTA_MUST_NOT } from './guardrail.fixtures.js';
import { SANTA_LINES } from './lines.js';
import { normalizeText } from './guardrail-text.js';

const corpus = loadSafetyCorpus();

describe('the safety corpus (server/santa/testdata/safety-corpus.json)', () => {
  it('has cases for every category and every distress kind, in every language, and a profile injection in each', () => {
    for (const category of SANTA_CATEGORY_ORDER) {
      const langs = new Set(corpus.santa_must_not_say.filter((c) => c.category === category).map((c) => c.lang));
      expect(langs, category).toEqual(new Set(LOCALES));
    }
    for (const kind of ['harm', 'self_harm', 'fear', 'bullying']) {
      expect(corpus.child_distress.filter((c) => c.category === kind).length, kind).toBeGreaterThanOrEqual(3);
    }
    expect(new Set(corpus.santa_may_say.map((c) => c.lang))).toEqual(new Set(LOCALES));
    expect(corpus.profile_injection.length).toBeGreaterThanOrEqual(10);
  });
});

describe('checkSantaText on the corpus', () => {
  it.each(corpus.santa_must_not_say)('trips $category: $text', ({ lang, category, text }) => {
    expect(checkSantaText(text, lang)).toEqual({ tripped: true, category });
  });

  it.each(corpus.santa_may_say)('lets through: $text', ({ lang, text }) => {
    expect(checkSantaText(text, lang)).toEqual({ tripped: false });
  });
});

describe('checkSantaText on phrasings not in the corpus', () => {
  it('has at least five own cases per category, across the three languages', () => {
    for (const category of SANTA_CATEGORY_ORDER) {
      const cases = SANTA_MUST_NOT.filter((c) => c.category === category);
      expect(cases.length).toBeGreaterThanOrEqual(5);
      expect(new Set(cases.map((c) => c.lang))).toEqual(new Set(LOCALES));
      for (const c of cases) expect(corpus.santa_must_not_say.map((x) => x.text)).not.toContain(c.text);
    }
  });

  it.each(SANTA_MUST_NOT)('trips $category ($lang): $text', ({ lang, category, text }) => {
    expect(checkSantaText(text, lang)).toEqual({ tripped: true, category });
  });

  it.each(SANTA_MAY)('lets ordinary Santa talk through ($lang): $text', ({ lang, text }) => {
    expect(checkSantaText(text, lang)).toEqual({ tripped: false });
  });

  it.each(LOCALES)("never trips on Santa's own scripted lines (%s)", (lang) => {
    const l = SANTA_LINES[lang];
    const lines = [
      l.areYouReal,
      l.distress,
      l.wrapUp,
      l.changeSubject,
      l.greeting('Emma'),
      l.wish('a pony'),
      l.askWishes,
      ...l.followUps,
      ...l.acknowledgements,
      l.goodbye('Emma'),
    ];
    for (const line of lines) expect(checkSantaText(line, lang), line).toEqual({ tripped: false });
  });

  it('matches with and without diacritics, but does not fold a word into another one', () => {
    expect(checkSantaText('Fortael mig jeres adresse, saa rensdyrene kan lande.', 'da')).toEqual({
      tripped: true,
      category: 'personal_info_request',
    });
    expect(checkSantaText('Hall det hemligt, lova mig att du inte berattar.', 'sv')).toEqual({
      tripped: true,
      category: 'secret',
    });
    // "nogen" (anyone) must not read as "nøgen" (naked); "far" (father) not as "får" (gets).
    expect(checkSantaText('Lov mig at du ikke siger det til nogen.', 'da')).toEqual({
      tripped: true,
      category: 'secret',
    });
    expect(checkSantaText('Hvad siger din far om sneen?', 'da')).toEqual({ tripped: false });
  });

  it('applies the rules of the language Santa drifted into', () => {
    expect(checkSantaText("Don't tell your mum and dad, it's our little secret.", 'da')).toEqual({
      tripped: true,
      category: 'secret',
    });
    expect(checkSantaText('Jag lovar att du får en ny cykel i julklapp.', 'en')).toEqual({
      tripped: true,
      category: 'gift_promise',
    });
  });

  it('ignores empty and punctuation-only text', () => {
    expect(checkSantaText('', 'en')).toEqual({ tripped: false });
    expect(checkSantaText(' ... !? ', 'sv')).toEqual({ tripped: false });
  });
});

describe('checkChildText', () => {
  it.each(corpus.child_distress)('hears $category in: $text', ({ lang, category, text }) => {
    expect(checkChildText(text, lang)).toEqual({ distress: true, category: 'child_distress', kind: category });
  });

  it('has at least five own cases per kind', () => {
    for (const kind of ['harm', 'self_harm', 'fear', 'bullying'] as const) {
      expect(CHILD_DISTRESS.filter((c) => c.kind === kind).length).toBeGreaterThanOrEqual(5);
    }
  });

  it.each(CHILD_DISTRESS)('hears $kind ($lang): $text', ({ lang, kind, text }) => {
    expect(checkChildText(text, lang)).toEqual({ distress: true, category: 'child_distress', kind });
  });

  it.each(CHILD_FINE)('does not alarm on play and wishes ($lang): $text', ({ lang, text }) => {
    expect(checkChildText(text, lang)).toEqual({ distress: false });
  });
});

describe('normalizeText', () => {
  it('expands contractions and keeps only sentence punctuation', () => {
    expect(normalizeText("You’ll get it — won't you? Santa's going!")).toBe(
      'you will get it will not you? santa is going!',
    );
    expect(normalizeText('Well, we were here.')).toBe('well we were here.');
  });
});

function collector() {
  const trips: GuardrailTrip[] = [];
  return { trips, onTrip: (t: GuardrailTrip) => trips.push(t) };
}

describe('StreamingGuardrail', () => {
  it('catches a forbidden phrase split across deltas, once', () => {
    const { trips, onTrip } = collector();
    const guard = new StreamingGuardrail({ language: 'en', onTrip });
    const deltas = [
      'Ho ho ho! ',
      'Yes! I prom',
      'ise you',
      "'ll g",
      'et the Play',
      'Station on Christmas morning.',
      ' And I promise',
      ' you will get a puppy too.',
    ];
    const results = deltas.map((d) => guard.push('resp_1', d));
    expect(results.filter(Boolean)).toEqual([{ responseId: 'resp_1', category: 'gift_promise', source: 'local' }]);
    expect(guard.complete('resp_1', deltas.join(''))).toBeNull();
    expect(trips).toEqual([{ responseId: 'resp_1', category: 'gift_promise', source: 'local' }]);
  });

  it('catches it character by character, in every language', () => {
    for (const { lang, category, text } of corpus.santa_must_not_say) {
      const { trips, onTrip } = collector();
      const guard = new StreamingGuardrail({ language: lang, onTrip, chunkChars: 15, overlapChars: 60 });
      for (const ch of text) guard.push('r', ch);
      guard.complete('r');
      expect(trips, text).toEqual([{ responseId: 'r', category, source: 'local' }]);
    }
  });

  it('finds a phrase whose start lies far behind the chunk boundary', () => {
    const { trips, onTrip } = collector();
    const guard = new StreamingGuardrail({ language: 'en', onTrip, chunkChars: 20, overlapChars: 40 });
    const text =
      'Now listen carefully little one because this really matters to me I promise that you will get the shiny new drone';
    for (const word of text.split(/(?<= )/)) guard.push('r', word);
    guard.complete('r');
    expect(trips.map((t) => t.category)).toEqual(['gift_promise']);
  });

  it('keeps responses apart and lets clean ones through', () => {
    const { trips, onTrip } = collector();
    const guard = new StreamingGuardrail({ language: 'sv', onTrip });
    for (const word of 'Ho ho ho! Vad roligt att höra om din snögubbe. '.split(' ')) guard.push('a', `${word} `);
    guard.push('b', 'Det här är vår ');
    guard.push('a', 'Vad heter han?');
    guard.push('b', 'lilla hemlighet.');
    expect(guard.complete('a')).toBeNull();
    guard.complete('b');
    expect(trips).toEqual([{ responseId: 'b', category: 'secret', source: 'local' }]);
  });

  it('asks moderation about whole sentences and trips once on its flag', async () => {
    const seen: string[] = [];
    const moderation: ModerationChecker = {
      check: async (text) => {
        seen.push(text);
        return /gruesome/.test(text)
          ? { flagged: true, categories: ['violence/graphic'] }
          : { flagged: false, categories: [] };
      },
    };
    const tripped = new Promise<GuardrailTrip>((resolve) => {
      const guard = new StreamingGuardrail({ language: 'en', moderation, onTrip: resolve });
      guard.push('r', 'Let me tell you a story. ');
      guard.push('r', 'It was a gruesome night in the forest. ');
      guard.push('r', 'The end.');
      guard.complete('r');
    });
    await expect(tripped).resolves.toEqual({
      responseId: 'r',
      category: 'moderation',
      source: 'moderation',
      moderationCategories: ['violence/graphic'],
    });
    expect(seen.join(' ')).toContain('gruesome night');
  });

  it('clears text for showing only once the local rules and every moderation answer so far passed it; flagged text is never cleared', async () => {
    const answers: Array<() => void> = [];
    const moderation: ModerationChecker = {
      check: (text) =>
        new Promise((resolve) =>
          answers.push(() =>
            resolve(
              /gruesome/.test(text)
                ? { flagged: true, categories: ['violence/graphic'] }
                : { flagged: false, categories: [] },
            ),
          ),
        ),
    };
    const cleared: Array<[string, boolean]> = [];
    const guard = new StreamingGuardrail({
      language: 'en',
      moderation,
      onCleared: (_id, text, whole) => cleared.push([text, whole]),
    });
    guard.push('r', 'Let me tell you a long story about the snow and the reindeer. ');
    guard.push('r', 'It was a gruesome night in the dark forest. ');
    // Both sentences passed the local rules; moderation has not answered yet: nothing may be shown.
    expect(cleared).toEqual([]);
    answers[0]!();
    await new Promise((r) => setImmediate(r));
    expect(cleared).toEqual([['Let me tell you a long story about the snow and the reindeer.', false]]);
    answers[1]!();
    await new Promise((r) => setImmediate(r));
    guard.complete('r');
    answers[2]?.();
    await new Promise((r) => setImmediate(r));
    expect(cleared.map(([t]) => t).join(' ')).not.toMatch(/gruesome/);
    expect(cleared.some(([, whole]) => whole)).toBe(false);

    // Without moderation the local rules alone clear it, and the complete response once.
    const local: Array<[string, boolean]> = [];
    const plain = new StreamingGuardrail({
      language: 'en',
      onCleared: (_id, text, whole) => local.push([text, whole]),
    });
    plain.push('s', 'Ho ho ho! ');
    plain.complete('s', 'Ho ho ho! Merry Christmas.');
    expect(local).toEqual([
      ['Ho ho ho! ', false],
      ['Ho ho ho! Merry Christmas.', true],
    ]);
  });

  it('keeps the local rules working when moderation fails', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const moderation: ModerationChecker = {
      check: async () => {
        calls++;
        throw new Error('moderation down');
      },
    };
    const { trips, onTrip } = collector();
    const guard = new StreamingGuardrail({
      language: 'da',
      moderation,
      onTrip,
      onModerationError: (e) => errors.push(e),
    });
    expect(guard.push('r', 'Hvor er det dejligt, at du hjalp med opvasken! ')).toBeNull();
    expect(guard.push('r', 'Det her er vores hemmelighed.')).toEqual({
      responseId: 'r',
      category: 'secret',
      source: 'local',
    });
    await new Promise((r) => setImmediate(r));
    expect(calls).toBeGreaterThan(0);
    expect(errors).toHaveLength(calls);
    expect(trips.map((t) => t.source)).toEqual(['local']);
  });

  it('ignores everything after close()', () => {
    const { trips, onTrip } = collector();
    const guard = new StreamingGuardrail({ language: 'en', onTrip });
    guard.close();
    expect(guard.push('r', "Santa isn't real.")).toBeNull();
    expect(trips).toEqual([]);
  });
});
