import { readFileSync } from 'node:fs';
import type { Locale } from '../../shared/locales.js';

export interface SafetyCorpus {
  santa_must_not_say: Array<{ lang: Locale; category: string; text: string }>;
  santa_may_say: Array<{ lang: Locale; text: string }>;
  child_distress: Array<{ lang: Locale; category: string; text: string }>;
  profile_injection: string[];
}

/** The project's safety corpus (testdata/safety-corpus.json, part of the repository). */
export function loadSafetyCorpus(): SafetyCorpus {
  return JSON.parse(readFileSync(new URL('./testdata/safety-corpus.json', import.meta.url), 'utf8')) as SafetyCorpus;
}
