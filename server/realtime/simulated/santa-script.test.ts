import { describe, expect, it } from 'vitest';
import { SANTA_LINES } from '../../santa/lines.js';
import { midSentence, SantaScript } from './santa-script.js';

describe("Simulated Santa's wishes inside his sentence", () => {
  it('says "wishing for a red bicycle", not "A red bicycle", in each language', () => {
    const en = new SantaScript({ language: 'en', childName: 'Emma', wishList: ['A red bicycle', 'Books'] });
    expect(en.next()).toBe(SANTA_LINES.en.wish('a red bicycle'));
    expect(en.next()).toBe(SANTA_LINES.en.wish('books'));
    const da = new SantaScript({ language: 'da', childName: 'Bo', wishList: ['En kane'] });
    expect(da.next()).toContain('du ønsker dig en kane.');
    const sv = new SantaScript({ language: 'sv', childName: 'Ada', wishList: ['Ett Äventyrsspel'] });
    expect(sv.next()).toContain('du önskar dig ett Äventyrsspel.');
  });

  it('lower-cases in the language (a Ä, an Ø stay themselves in lower case) and keeps acronyms and brands', () => {
    expect(midSentence('Ørkenræv', 'da')).toBe('ørkenræv');
    expect(midSentence('Äpple', 'sv')).toBe('äpple');
    expect(midSentence('LEGO bricks', 'en')).toBe('LEGO bricks');
    expect(midSentence('TV', 'da')).toBe('TV');
    expect(midSentence('PlayStation', 'en')).toBe('PlayStation');
    expect(midSentence('a kite', 'en')).toBe('a kite');
    expect(midSentence('  A kite ', 'en')).toBe('a kite');
    expect(midSentence('3 books', 'en')).toBe('3 books');
  });
});
