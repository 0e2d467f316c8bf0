import { z } from 'zod';

// C0/C1 controls, and the bidi overrides that can hide text from a reviewing parent.
const CONTROL_EXCEPT_NEWLINE =
  /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;
const CONTROL_ALL = /[\u0000-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

export function stripControl(value: string, keepNewlines = false): string {
  return value.replace(keepNewlines ? CONTROL_EXCEPT_NEWLINE : CONTROL_ALL, keepNewlines ? '' : ' ');
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Well-formed Unicode (a lone surrogate becomes U+FFFD), in NFC, so one text has one stored form. */
export function wellFormed(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD').normalize('NFC');
}

/** More than three combining marks on one character is no writing system's need, only a way to smear text. */
const MARK_PILE = /\p{M}{4,}/u;

/** One line of user text: well-formed, controls removed, whitespace collapsed, length capped (refused, not cut). */
export function lineText(max: number, min = 0) {
  return z
    .string()
    .transform((v) => stripControl(wellFormed(v)).replace(/\s+/g, ' ').trim())
    .pipe(
      z
        .string()
        .min(min)
        .max(max)
        .refine((v) => !MARK_PILE.test(v), 'Too many accents on one letter')
        .refine((v) => min === 0 || /[^\p{M}\s]/u.test(v), 'Needs at least one letter, digit or sign'),
    );
}

/** Free text that may keep line breaks (notes). */
export function multilineText(max: number) {
  return z
    .string()
    .transform((v) =>
      stripControl(wellFormed(v).replace(/\r\n?/g, '\n'), true)
        .replace(/\n{3,}/g, '\n\n')
        .trim(),
    )
    .pipe(
      z
        .string()
        .max(max)
        .refine((v) => !MARK_PILE.test(v), 'Too many accents on one letter'),
    );
}
