import type { SantaSessionConfig } from './provider.js';

export interface OpenAISessionDefaults {
  model: string;
  voice: string;
  transcriptionModel: string;
}

/**
 * The `session` part of POST /v1/realtime/calls (GA shape), and what the server expects
 * `session.updated` to keep reporting for the whole call (see `sessionDrift`).
 *
 * - Input transcription is on so the server can read the child's words on the sideband (the
 *   distress check depends on it).
 * - Semantic VAD with low eagerness lets a young child pause mid-sentence without Santa
 *   jumping in.
 * - `far_field` noise reduction: the call runs on a laptop or tablet microphone an arm's
 *   length away, not a headset.
 * - `tracing: null` says in the request itself that OpenAI writes no trace of the session
 *   to its Traces dashboard (P1, P3); the promise does not rest on an unstated default.
 */
export function buildRealtimeSession(
  session: SantaSessionConfig,
  defaults: OpenAISessionDefaults,
): Record<string, unknown> {
  return {
    type: 'realtime',
    model: defaults.model,
    instructions: session.instructions,
    output_modalities: ['audio'],
    max_output_tokens: session.maxOutputTokens,
    tracing: null,
    audio: {
      input: {
        transcription: { model: defaults.transcriptionModel, language: session.language },
        turn_detection: { type: 'semantic_vad', eagerness: 'low', create_response: true, interrupt_response: true },
        noise_reduction: { type: 'far_field' },
      },
      output: { voice: session.voice || defaults.voice },
    },
  };
}
