import { describe, expect, it } from 'vitest';
import { lineText, multilineText } from './text.js';

describe('user text is stored in one well-formed form', () => {
  it('turns lone surrogates into U+FFFD and normalizes to NFC', () => {
    const name = lineText(40, 1);
    expect(name.parse('Ada\uD800')).toBe('Ada\uFFFD');
    expect(name.parse('\uDC00Bo')).toBe('\uFFFDBo');
    expect(name.parse('😀 Lü')).toBe('😀 Lü'); // a proper pair stays
    expect(name.parse('Lu\u0308')).toBe('L\u00FC');
    expect(multilineText(500).parse('a\uD83Db\nc')).toBe('a\uFFFDb\nc');
  });

  it('refuses a name of combining marks only, and piles of marks on one letter', () => {
    const name = lineText(40, 1);
    expect(name.safeParse('\u0301'.repeat(40)).success).toBe(false);
    expect(name.safeParse(`a${'\u0301'.repeat(10)}`).success).toBe(false);
    expect(multilineText(500).safeParse(`notes a${'\u0300'.repeat(8)}`).success).toBe(false);
    // Real accents still pass: Vietnamese stacks two.
    expect(name.parse('Nguyê\u0303n')).toBe('Nguyễn');
    expect(lineText(40).parse('')).toBe('');
  });
});
