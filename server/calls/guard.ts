import type { Locale } from '../../shared/locales.js';
import type { Logger } from '../core/logger.js';
import { checkChildText, StreamingGuardrail, type ModerationChecker } from '../santa/guardrail.js';
import type { CallGuard } from './call-conversation.js';

/**
 * One call's guardrail over the Santa safety module: Santa's words through the streaming
 * local rules (and the moderation endpoint when an OpenAI key is set, whose failures leave
 * the local rules in charge), the child's finished utterances through the distress rules.
 * Only categories come out; the text stays inside and is forgotten with the call.
 */
export function createCallGuard(
  language: Locale,
  moderation: ModerationChecker | null,
  logger: Pick<Logger, 'warn'>,
): CallGuard {
  let late: ((responseId: string, category: 'moderation') => void) | null = null;
  let cleared: ((responseId: string, text: string, whole: boolean) => void) | null = null;
  const stream = new StreamingGuardrail({
    language,
    moderation,
    // Local trips come back from push()/complete(); only moderation answers arrive later.
    onTrip: (trip) => {
      if (trip.source === 'moderation') late?.(trip.responseId, 'moderation');
    },
    onCleared: (responseId, text, whole) => cleared?.(responseId, text, whole),
    onModerationError: (err) =>
      logger.warn({ err: (err as Error)?.name ?? 'error' }, 'moderation failed; local rules only'),
  });
  return {
    santaDelta: (responseId, delta) => stream.push(responseId, delta)?.category ?? null,
    santaDone: (responseId, transcript) => stream.complete(responseId, transcript)?.category ?? null,
    onCleared(listener) {
      cleared = listener;
    },
    child: (text) => (checkChildText(text, language).distress ? 'child_distress' : null),
    onLateTrip(listener) {
      late = listener;
    },
    close: () => stream.close(),
  };
}
