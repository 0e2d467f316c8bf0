import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket, type RTCDataChannel } from 'werift';
import { parseServerEvent, type RealtimeClientEvent, type RealtimeServerEvent } from '../../server/realtime/events.js';
import { peerNetworkConfig } from '../../server/realtime/simulated/loopback.js';
import {
  FRAME_MS,
  FRAME_SAMPLES,
  OpusFrameDecoder,
  OpusFrameEncoder,
  SantaVoiceSynth,
} from '../../server/realtime/simulated/santa-audio.js';

export interface BrowserPeerOptions {
  /** sendrecv (a microphone track with a generated tone, like the call window) or recvonly. */
  audio?: 'sendrecv' | 'recvonly';
  /** Only 127.0.0.1 (default). */
  loopbackOnly?: boolean;
}

export interface BrowserPeer {
  readonly offerSdp: string;
  setAnswer(sdp: string): Promise<void>;
  /** Every oai-events server event received on the data channel, in order. */
  readonly events: RealtimeServerEvent[];
  /** RTP packets of the provider's audio received. */
  audioPackets(): number;
  /** Loudest received 20 ms frame, decoded, as RMS of 16-bit samples (0 for silence). */
  peakAudioLevel(): number;
  /** RTP packets of our own tone sent. */
  audioPacketsSent(): number;
  /** Send a client event on `oai-events` (queued until the channel opens). */
  send(event: RealtimeClientEvent): void;
  /** The first event of this type (and predicate) received so far or later. */
  waitForEvent<T extends RealtimeServerEvent = RealtimeServerEvent>(
    type: string,
    timeoutMs?: number,
    predicate?: (event: T) => boolean,
  ): Promise<T>;
  waitFor(condition: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  readonly channelState: () => string;
  close(): Promise<void>;
}

/**
 * A werift "browser" for tests: the call window's side of the call, on loopback only. It
 * offers one sendrecv audio m-line (with a generated Opus tone as the microphone) and the
 * `oai-events` data channel, waits for ICE gathering, and records what comes back.
 */
export async function createBrowserPeer(options: BrowserPeerOptions = {}): Promise<BrowserPeer> {
  const pc = new RTCPeerConnection({
    ...peerNetworkConfig({ loopbackOnly: options.loopbackOnly ?? true }),
    bundlePolicy: 'max-bundle',
  });
  const events: RealtimeServerEvent[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };

  const direction = options.audio ?? 'sendrecv';
  const mic = new MediaStreamTrack({ kind: 'audio' });
  const transceiver =
    direction === 'sendrecv'
      ? pc.addTransceiver(mic, { direction: 'sendrecv' })
      : pc.addTransceiver('audio', { direction: 'recvonly' });

  let received = 0;
  let peak = 0;
  const decoder = new OpusFrameDecoder();
  transceiver.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => {
      received++;
      try {
        const samples = decoder.decode(rtp.payload);
        let sum = 0;
        for (const s of samples) sum += s * s;
        peak = Math.max(peak, Math.sqrt(sum / Math.max(1, samples.length)));
      } catch {
        // A packet that does not decode simply adds no level.
      }
      notify();
    });
  });

  const channel: RTCDataChannel = pc.createDataChannel('oai-events');
  const outbox: string[] = [];
  channel.stateChanged.subscribe((state) => {
    if (state === 'open') for (const message of outbox.splice(0)) channel.send(message);
    notify();
  });
  channel.onMessage.subscribe((data) => {
    const event = parseServerEvent(typeof data === 'string' ? data : data.toString('utf8'));
    if (event) events.push(event);
    notify();
  });

  // The microphone: a tone paced at 20 ms, sent once the transport is up (werift drops it before).
  const synth = new SantaVoiceSynth();
  synth.setMode('speaking');
  const encoder = new OpusFrameEncoder();
  let sent = 0;
  let micTimer: NodeJS.Timeout | null = null;
  if (direction === 'sendrecv') {
    const started = Date.now();
    micTimer = setInterval(() => {
      const due = Math.floor((Date.now() - started) / FRAME_MS);
      while (sent < due) {
        const header = new RtpHeader({
          payloadType: 111,
          sequenceNumber: sent & 0xffff,
          timestamp: (sent * FRAME_SAMPLES) >>> 0,
          marker: sent === 0,
        });
        mic.writeRtp(new RtpPacket(header, encoder.encode(synth.nextFrame())));
        sent++;
      }
    }, FRAME_MS);
  }

  await pc.setLocalDescription(await pc.createOffer());
  const offerSdp = pc.localDescription?.sdp;
  if (!offerSdp) throw new Error('werift produced no offer');

  const waitFor = (condition: () => boolean, timeoutMs = 10_000, what = 'condition') =>
    new Promise<void>((resolve, reject) => {
      if (condition()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });

  let closed = false;
  return {
    offerSdp,
    events,
    async setAnswer(sdp) {
      await pc.setRemoteDescription({ type: 'answer', sdp });
    },
    audioPackets: () => received,
    peakAudioLevel: () => peak,
    audioPacketsSent: () => sent,
    send(event) {
      const message = JSON.stringify(event);
      if (channel.readyState === 'open') channel.send(message);
      else outbox.push(message);
    },
    async waitForEvent<T extends RealtimeServerEvent>(
      type: string,
      timeoutMs = 10_000,
      predicate?: (event: T) => boolean,
    ) {
      let found: T | undefined;
      await waitFor(
        () => {
          found = events.find((e): e is T => e.type === type && (!predicate || predicate(e as T)));
          return found !== undefined;
        },
        timeoutMs,
        `event ${type}`,
      );
      return found!;
    },
    waitFor,
    channelState: () => channel.readyState,
    async close() {
      if (closed) return;
      closed = true;
      if (micTimer) clearInterval(micTimer);
      encoder.close();
      decoder.close();
      waiters.clear();
      await pc.close();
    },
  };
}
