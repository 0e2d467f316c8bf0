import type { LevelSource } from './call-session.js';

/**
 * Loudness of Santa's voice, for his animation. A Web Audio analyser on the remote stream,
 * read 20 times a second (a timer, not requestAnimationFrame, which stops in background
 * windows). Browsers may keep an AudioContext suspended until the page is clicked (Firefox
 * does in a window it opened itself); until it runs, the level comes from the RTP receiver's
 * inbound audio level (getStats) instead, and the first click or key press starts the analyser. Nothing is
 * recorded: samples are measured and dropped.
 */
export interface VoiceMeter {
  stop(): void;
}

export function meterVoice(
  stream: MediaStream,
  onLevel: (level: number) => void,
  receiver: LevelSource | null = null,
): VoiceMeter {
  const ctx = new AudioContext();
  const source = ctx.createMediaStreamSource(stream);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  analyser.smoothingTimeConstant = 0.6;
  source.connect(analyser);
  const samples = new Uint8Array(analyser.fftSize);
  let smoothed = 0;
  let stopped = false;

  const analyserLevel = (): number => {
    analyser.getByteTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) {
      const v = (s - 128) / 128;
      sum += v * v;
    }
    // Speech RMS sits around 0.02-0.3; stretch it to 0..1.
    return Math.min(1, Math.sqrt(sum / samples.length) * 5);
  };
  // The receiver's stats are asynchronous: poll them beside the tick and keep the latest.
  let rtpLevel = 0;
  let polling = false;
  const pollReceiver = () => {
    if (!receiver || polling || stopped) return;
    polling = true;
    receiver
      .getStats()
      .then((report) => {
        report.forEach((stat) => {
          if (stat.type === 'inbound-rtp' && typeof stat.audioLevel === 'number') rtpLevel = stat.audioLevel;
        });
      })
      .catch(() => undefined)
      .finally(() => (polling = false));
  };
  // RTP audio level is linear 0..1 (1 = full scale); speech is mostly 0.05-0.5.
  const receiverLevel = (): number => {
    pollReceiver();
    return Math.min(1, rtpLevel * 2.5);
  };
  const tick = () => {
    if (stopped) return;
    const level = ctx.state === 'running' ? analyserLevel() : receiverLevel();
    // Rise at once, fall gently, so the mouth does not flicker.
    smoothed = level > smoothed ? level : smoothed * 0.85 + level * 0.15;
    onLevel(smoothed);
  };
  const resume = () => void ctx.resume().catch(() => undefined);
  resume();
  const gestures = ['pointerdown', 'keydown'] as const;
  for (const g of gestures) window.addEventListener(g, resume, { once: true });
  const timer = setInterval(tick, 50);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      for (const g of gestures) window.removeEventListener(g, resume);
      source.disconnect();
      void ctx.close().catch(() => undefined);
    },
  };
}
