import type { SantaSessionConfig } from './provider.js';

export interface OpenAISessionDefaults {
  model: string;
  voice: string;
  transcriptionModel: string;
}

/**
 * The `session` part of POST /v1/realtime/calls (GA shape). Input transcription is on so
 * the server can read the child's words on the sideband; semantic VAD with low eagerness
 * lets a young child pause mid-sentence without Santa jumping in.
 */
export function buildRealtimeSession(session: SantaSessionConfig, defaults: OpenAISessionDefaults): Record<string, unknown> {
  return {
    type: 'realtime',
    model: defaults.model,
    instructions: session.instructions,
    output_modalities: ['audio'],
    max_output_tokens: session.maxOutputTokens,
    audio: {
      input: {
        transcription: { model: defaults.transcriptionModel, language: session.language },
        turn_detection: { type: 'semantic_vad', eagerness: 'low', create_response: true, interrupt_response: true },
        noise_reduction: { type: 'near_field' },
      },
      output: { voice: session.voice || defaults.voice },
    },
  };
}
