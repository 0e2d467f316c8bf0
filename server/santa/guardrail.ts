/**
 * Santa's live guardrail: local rules that always run (en/da/sv stem combinations, see
 * santa-rules.ts and distress-rules.ts), a streaming wrapper for transcript deltas, and an
 * optional moderation second opinion.
 */
export { checkSantaText, checkChildText, type SantaCheckResult, type ChildCheckResult } from './rule-check.js';
export type { SantaCategory } from './santa-rules.js';
export type { DistressKind } from './distress-rules.js';
export { StreamingGuardrail, type GuardrailTrip, type StreamingGuardrailOptions } from './streaming-guardrail.js';
export {
  OpenAIModerationChecker,
  type ModerationChecker,
  type ModerationResult,
  type OpenAIModerationOptions,
} from './moderation.js';
