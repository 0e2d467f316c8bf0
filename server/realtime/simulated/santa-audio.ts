import OpusScript from 'opusscript';

/** Opus over WebRTC: 48 kHz clock, 20 ms frames. */
export const SAMPLE_RATE = 48_000;
export const FRAME_MS = 20;
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;

export type VoiceMode = 'silent' | 'speaking' | 'bells';

const TWO_PI = Math.PI * 2;
// A low, warm "ho-ho" contour for speech and a short sleigh-bell jingle (E6 D6 C6 G6).
const SYLLABLE_PITCHES = [196, 220, 247, 220, 196, 175, 196, 233, 208, 185];
const BELL_NOTES = [1319, 1175, 1047, 1568];
const SYLLABLE_SAMPLES = Math.round(SAMPLE_RATE * 0.2);
const SYLLABLE_GAP_SAMPLES = Math.round(SAMPLE_RATE * 0.06);
const BELL_STEP_SAMPLES = Math.round(SAMPLE_RATE * 0.25);

/**
 * Santa's simulated voice as PCM: not speech, but audible and shaped like it, so the call
 * window's level meter and Santa's animation move while a response plays and rest between.
 */
export class SantaVoiceSynth {
  private mode: VoiceMode = 'silent';
  private modeSample = 0;

  setMode(mode: VoiceMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    this.modeSample = 0;
  }

  get currentMode(): VoiceMode {
    return this.mode;
  }

  /** The next 20 ms of mono 16-bit PCM. */
  nextFrame(): Int16Array {
    const frame = new Int16Array(FRAME_SAMPLES);
    if (this.mode === 'silent') return frame;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const n = this.modeSample + i;
      const value = this.mode === 'speaking' ? speechSample(n) : bellSample(n);
      frame[i] = Math.max(-32767, Math.min(32767, Math.round(value * 32767)));
    }
    this.modeSample += FRAME_SAMPLES;
    return frame;
  }
}

function speechSample(n: number): number {
  const period = SYLLABLE_SAMPLES + SYLLABLE_GAP_SAMPLES;
  const index = Math.floor(n / period);
  const within = n % period;
  if (within >= SYLLABLE_SAMPLES) return 0;
  const f0 = SYLLABLE_PITCHES[index % SYLLABLE_PITCHES.length]!;
  const t = n / SAMPLE_RATE;
  const vibrato = 1 + 0.01 * Math.sin(TWO_PI * 5 * t);
  const phase = TWO_PI * f0 * vibrato * t;
  const attack = Math.min(1, within / (SAMPLE_RATE * 0.015));
  const release = Math.min(1, (SYLLABLE_SAMPLES - within) / (SAMPLE_RATE * 0.03));
  const envelope = Math.min(attack, release);
  return 0.22 * envelope * (Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.25 * Math.sin(3 * phase));
}

function bellSample(n: number): number {
  const index = Math.floor(n / BELL_STEP_SAMPLES);
  const within = (n % BELL_STEP_SAMPLES) / SAMPLE_RATE;
  const f = BELL_NOTES[index % BELL_NOTES.length]!;
  const decay = Math.exp(-within / 0.12);
  // Inharmonic partials are what make a tone sound like a bell.
  return 0.25 * decay * (Math.sin(TWO_PI * f * within) + 0.4 * Math.sin(TWO_PI * f * 2.76 * within) + 0.2 * Math.sin(TWO_PI * f * 5.4 * within));
}

/** One call's Opus encoder (stateful, so one per stream); free it with close(). */
export class OpusFrameEncoder {
  private encoder: OpusScript | null = new OpusScript(SAMPLE_RATE, 1, OpusScript.Application.VOIP);

  encode(pcm: Int16Array): Buffer {
    if (!this.encoder) throw new Error('Opus encoder is closed');
    // opusscript takes the PCM as little-endian bytes, not as samples.
    return this.encoder.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), FRAME_SAMPLES);
  }

  close(): void {
    this.encoder?.delete();
    this.encoder = null;
  }
}
