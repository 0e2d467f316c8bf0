import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Locale } from '../../shared/locales.js';

export interface SafetyCorpus {
  santa_must_not_say: Array<{ lang: Locale; category: string; text: string }>;
  santa_may_say: Array<{ lang: Locale; text: string }>;
  child_distress: Array<{ lang: Locale; category: string; text: string }>;
  profile_injection: string[];
}

/** The shared starter corpus, read at test time from ../shared beside the repository root. */
export function loadSafetyCorpus(): SafetyCorpus {
  const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
  const path = fileURLToPath(new URL('../shared/safety-corpus.json', `file://${repoRoot}`));
  return JSON.parse(readFileSync(path, 'utf8')) as SafetyCorpus;
}
