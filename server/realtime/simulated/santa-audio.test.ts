import { afterEach, describe, expect, it } from 'vitest';
import {
  FRAME_SAMPLES,
  OPUS_SILENCE_FRAME,
  OpusFrameDecoder,
  OpusFrameEncoder,
  SantaVoiceSynth,
} from './santa-audio.js';

const open: { close(): void }[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

describe("Santa's Opus stream", () => {
  it('encodes a voice that decodes back to audible 20 ms frames', () => {
    const synth = new SantaVoiceSynth();
    synth.setMode('speaking');
    const encoder = new OpusFrameEncoder();
    const decoder = new OpusFrameDecoder();
    open.push(encoder, decoder);
    let loudest = 0;
    for (let i = 0; i < 25; i++) {
      const pcm = decoder.decode(encoder.encode(synth.nextFrame()));
      expect(pcm.length).toBe(FRAME_SAMPLES);
      loudest = Math.max(loudest, rms(pcm));
    }
    expect(loudest).toBeGreaterThan(1000);
  });

  it('decodes the Opus silence packet (what a silent Santa sends) to 20 ms of zeros, with his voice audible on either side', () => {
    const synth = new SantaVoiceSynth();
    const encoder = new OpusFrameEncoder();
    const decoder = new OpusFrameDecoder();
    open.push(encoder, decoder);
    const speak = () => {
      synth.setMode('speaking');
      let loudest = 0;
      for (let i = 0; i < 25; i++) loudest = Math.max(loudest, rms(decoder.decode(encoder.encode(synth.nextFrame()))));
      return loudest;
    };
    expect(speak()).toBeGreaterThan(1000);
    for (let i = 0; i < 50; i++) {
      const pcm = decoder.decode(Buffer.from(OPUS_SILENCE_FRAME));
      expect(pcm.length).toBe(FRAME_SAMPLES);
      expect(pcm.every((s) => s === 0)).toBe(true);
    }
    expect(speak()).toBeGreaterThan(1000);
  });

  it("keeps a call's codecs working while hundreds of other calls start (the codec heap grows under them)", () => {
    const synth = new SantaVoiceSynth();
    synth.setMode('speaking');
    const encoder = new OpusFrameEncoder();
    const decoder = new OpusFrameDecoder();
    open.push(encoder, decoder);
    let loudestLate = 0;
    let last: OpusFrameEncoder | null = null;
    for (let call = 0; call < 400; call++) {
      const other = new OpusFrameEncoder();
      open.push(other);
      other.encode(synth.nextFrame());
      last = other;
      const pcm = decoder.decode(encoder.encode(synth.nextFrame()));
      expect(pcm.length).toBe(FRAME_SAMPLES);
      if (call >= 375) loudestLate = Math.max(loudestLate, rms(pcm));
    }
    // Still Santa's voice, not silence or noise, from the first call and from the newest one.
    expect(loudestLate).toBeGreaterThan(1000);
    const lateDecoder = new OpusFrameDecoder();
    open.push(lateDecoder);
    let loudestNewest = 0;
    for (let i = 0; i < 25; i++)
      loudestNewest = Math.max(loudestNewest, rms(lateDecoder.decode(last!.encode(synth.nextFrame()))));
    expect(loudestNewest).toBeGreaterThan(1000);
  });
});
