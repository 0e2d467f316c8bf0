import { z } from 'zod';

// C0/C1 controls, and the bidi overrides that can hide text from a reviewing parent.
const CONTROL_EXCEPT_NEWLINE = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;
const CONTROL_ALL = /[\u0000-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

export function stripControl(value: string, keepNewlines = false): string {
  return value.replace(keepNewlines ? CONTROL_EXCEPT_NEWLINE : CONTROL_ALL, keepNewlines ? '' : ' ');
}

/** One line of user text: controls removed, whitespace collapsed, length capped (refused, not cut). */
export function lineText(max: number, min = 0) {
  return z
    .string()
    .transform((v) => stripControl(v).replace(/\s+/g, ' ').trim())
    .pipe(z.string().min(min).max(max));
}

/** Free text that may keep line breaks (notes). */
export function multilineText(max: number) {
  return z
    .string()
    .transform((v) => stripControl(v.replace(/\r\n?/g, '\n'), true).replace(/\n{3,}/g, '\n\n').trim())
    .pipe(z.string().max(max));
}
