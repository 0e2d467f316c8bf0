/**
 * Loudness of a remote audio stream, for Santa's animation: a Web Audio analyser read 20
 * times a second (a timer, not requestAnimationFrame, which stops in background windows). Nothing is recorded; the samples are only measured and dropped.
 */
export interface VoiceMeter {
  stop(): void;
}

export function meterVoice(stream: MediaStream, onLevel: (level: number) => void): VoiceMeter {
  const AudioCtx = globalThis.AudioContext;
  const ctx = new AudioCtx();
  const source = ctx.createMediaStreamSource(stream);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  analyser.smoothingTimeConstant = 0.6;
  source.connect(analyser);
  const samples = new Uint8Array(analyser.fftSize);
  let smoothed = 0;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    analyser.getByteTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) {
      const v = (s - 128) / 128;
      sum += v * v;
    }
    const rms = Math.sqrt(sum / samples.length);
    // Speech RMS sits around 0.02-0.3; stretch it to 0..1 and ease so the mouth does not flicker.
    const level = Math.min(1, rms * 5);
    smoothed = level > smoothed ? level : smoothed * 0.85 + level * 0.15;
    onLevel(smoothed);
  };
  // A page that has not been clicked may start the context suspended; resume it (the call was the gesture).
  void ctx.resume().catch(() => undefined);
  const timer = setInterval(tick, 50);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      source.disconnect();
      void ctx.close().catch(() => undefined);
    },
  };
}
