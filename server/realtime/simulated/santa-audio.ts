import OpusScript from 'opusscript';

/** Opus over WebRTC: 48 kHz clock, 20 ms frames. */
export const SAMPLE_RATE = 48_000;
export const FRAME_MS = 20;
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;

export type VoiceMode = 'silent' | 'speaking' | 'bells';

/**
 * One 20 ms Opus packet of silence (RFC 6716: TOC 0xf8 is CELT-only, fullband, 20 ms, mono, one
 * frame; 0xff 0xfe is a CELT frame whose silence flag is set), the packet WebRTC stacks send for
 * digital silence. A call whose Santa is silent sends it instead of running the encoder on
 * zeros: opusscript takes about a millisecond per frame, 50 frames a second per call, so 50
 * silent calls would otherwise keep a whole core busy encoding nothing.
 */
export const OPUS_SILENCE_FRAME: Readonly<Buffer> = Buffer.from([0xf8, 0xff, 0xfe]);

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
  return (
    0.25 *
    decay *
    (Math.sin(TWO_PI * f * within) +
      0.4 * Math.sin(TWO_PI * f * 2.76 * within) +
      0.2 * Math.sin(TWO_PI * f * 5.4 * within))
  );
}

/**
 * opusscript 0.1.x keeps typed-array views on its WASM heap, made once per codec, and makes
 * its 16-bit PCM views with the byte address used as an element index (so they sit at twice
 * the address of their allocation). Both break under many concurrent calls: past about 160
 * live codecs the heap grows, every older codec's views are detached and its encode throws,
 * and a codec allocated in the upper half of the heap gets empty views. We re-make the views
 * at the codec's own allocations (the PCM ones keep the library's one-byte-per-element layout,
 * which now fits inside the allocation for 20 ms frames) when a codec is made and whenever
 * the heap has moved.
 */
interface OpusHeapViews {
  inPCMPointer: number;
  inPCMLength: number;
  inPCM: Uint16Array;
  inOpusPointer: number;
  inOpus: Uint8Array;
  outOpusPointer: number;
  outOpus: Uint8Array;
  outPCMPointer: number;
  outPCMLength: number;
  outPCM: Uint16Array;
}
/** opusscript's MAX_PACKET_SIZE. */
const OPUS_MAX_PACKET = 1276 * 3;

function attachViews(codec: OpusScript, force: boolean): void {
  const v = codec as unknown as OpusHeapViews;
  if (!force && v.inOpus.buffer.byteLength !== 0) return;
  let heap = v.inOpus.buffer;
  if (heap.byteLength === 0) {
    // Detached: a codec made now has its byte views on the current heap; borrow its buffer.
    const probe = new OpusScript(SAMPLE_RATE, 1);
    heap = (probe as unknown as OpusHeapViews).inOpus.buffer;
    probe.delete();
  }
  v.inPCM = new Uint16Array(heap, v.inPCMPointer, v.inPCMLength / 2);
  v.outPCM = new Uint16Array(heap, v.outPCMPointer, v.outPCMLength / 2);
  v.inOpus = new Uint8Array(heap, v.inOpusPointer, OPUS_MAX_PACKET);
  v.outOpus = new Uint8Array(heap, v.outOpusPointer, OPUS_MAX_PACKET);
}

function newCodec(application?: number): OpusScript {
  const codec =
    application === undefined ? new OpusScript(SAMPLE_RATE, 1) : new OpusScript(SAMPLE_RATE, 1, application);
  attachViews(codec, true);
  return codec;
}

/** One call's Opus encoder (stateful, so one per stream); free it with close(). */
export class OpusFrameEncoder {
  private encoder: OpusScript | null = newCodec(OpusScript.Application.VOIP);

  encode(pcm: Int16Array): Buffer {
    if (!this.encoder) throw new Error('Opus encoder is closed');
    attachViews(this.encoder, false);
    // opusscript takes the PCM as little-endian bytes, not as samples.
    return this.encoder.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), FRAME_SAMPLES);
  }

  close(): void {
    this.encoder?.delete();
    this.encoder = null;
  }
}

/** One stream's Opus decoder, for test peers and level meters; free it with close(). */
export class OpusFrameDecoder {
  private decoder: OpusScript | null = newCodec();

  /** 16-bit mono PCM samples of one packet. */
  decode(packet: Buffer): Int16Array {
    if (!this.decoder) throw new Error('Opus decoder is closed');
    attachViews(this.decoder, false);
    const pcm = this.decoder.decode(packet);
    return new Int16Array(pcm.buffer, pcm.byteOffset, Math.floor(pcm.length / 2));
  }

  close(): void {
    this.decoder?.delete();
    this.decoder = null;
  }
}
