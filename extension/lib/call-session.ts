import type { CallEndReason, CallWarning } from '../../shared/index.js';
import type { SantaSocket } from './socket.js';

/**
 * One call, one object: the call session owns the microphone stream, the peer connection,
 * the `oai-events` data channel and the socket for that call, and is the only thing that
 * changes them. The call window renders its snapshots; nothing else touches WebRTC.
 *
 * Flow (DESIGN.md §3): ask for the mic -> peer connection with the mic track and the data
 * channel -> offer -> wait for ICE gathering -> `call:start` on the socket -> set the
 * answer -> live until `call:ended` (whoever ended it: child, parent, credit, server).
 * The camera is never given to the session: it only ever adds audio tracks.
 */

export type CallPhase = 'idle' | 'asking_mic' | 'connecting' | 'live' | 'ending' | 'ended' | 'failed';

export interface CallSnapshot {
  readonly phase: CallPhase;
  readonly callId: string | null;
  /** From the server's clock (`call:tick`); null until the first tick. */
  readonly remainingSeconds: number | null;
  readonly elapsedSeconds: number;
  /** Credit the call started with (the ack); the time bar's full width. */
  readonly availableSeconds: number | null;
  readonly timeLow: boolean;
  readonly endReason: CallEndReason | null;
  readonly endedSeconds: number | null;
  /** Why the call never started or broke: a server error code or a client one (mic_denied ...). */
  readonly errorCode: string | null;
  /**
   * Santa's current line as he says it (shown as a caption; never stored): only words the
   * server's guardrail has passed, from the socket; withdrawn at once when a line is stopped.
   */
  readonly santaLine: string;
  /** Santa is answering (from his response starting until his audio stops): the window does not say he is listening then. */
  readonly santaSpeaking: boolean;
  /** The socket to the server dropped during the call: shown as a lost line, reconnecting, never as a live call. */
  readonly connectionLost: boolean;
  /** True when the server answers with Simulated Santa (no real voice service); null until known. */
  readonly simulated: boolean | null;
}

export interface TrackLike {
  readonly kind: string;
  stop(): void;
}

export interface MicStream {
  getAudioTracks(): TrackLike[];
  getTracks(): TrackLike[];
}

export interface ChannelLike {
  readonly label: string;
  readonly readyState: string;
  addEventListener(type: 'message' | 'open', listener: (ev: MessageEvent) => void): void;
  close(): void;
}

export interface PeerLike {
  addTrack(track: MediaStreamTrack, ...streams: MediaStream[]): unknown;
  createDataChannel(label: string): ChannelLike;
  createOffer(): Promise<RTCSessionDescriptionInit>;
  setLocalDescription(description: RTCSessionDescriptionInit): Promise<void>;
  setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void>;
  readonly localDescription: { readonly sdp: string } | null;
  readonly iceGatheringState: string;
  readonly connectionState: string;
  addEventListener(type: string, listener: (ev: Event) => void): void;
  close(): void;
}

/** The part of RTCRtpReceiver that reports how loud the incoming audio is (inbound-rtp audioLevel, 0..1). */
export interface LevelSource {
  getStats(): Promise<{
    forEach(callback: (stat: { type?: string; kind?: string; audioLevel?: number }) => void): void;
  }>;
}

export interface CallSessionDeps {
  /** getUserMedia for audio only. */
  getMic(): Promise<MicStream>;
  createPeer(): PeerLike;
  /** Opens the authenticated socket this call will own. */
  connect(): SantaSocket;
  /** IANA zone the parent's quiet hours and daily limits are read in; the browser's own by default. */
  timeZone?: string;
  iceTimeoutMs?: number;
  /** How long after the answer the media may take to connect. */
  connectTimeoutMs?: number;
  /** How long hangUp() waits for the server's `call:ended` before ending locally. */
  endTimeoutMs?: number;
  /** How long a call whose media died while the server was out of reach waits for the server to say how it ended. */
  serverWaitMs?: number;
  /** What the server says became of a call (GET /api/calls/:id), asked when it no longer knows it as live. */
  lookup?: (callId: string) => Promise<{ endedAt: string | null; reason: CallEndReason | null; seconds: number }>;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}

type Listener = (snapshot: CallSnapshot) => void;

const INITIAL: CallSnapshot = {
  phase: 'idle',
  callId: null,
  remainingSeconds: null,
  elapsedSeconds: 0,
  availableSeconds: null,
  timeLow: false,
  endReason: null,
  endedSeconds: null,
  errorCode: null,
  santaLine: '',
  santaSpeaking: false,
  connectionLost: false,
  simulated: null,
};

const TERMINAL: ReadonlySet<CallPhase> = new Set(['ended', 'failed']);

/** call:resume asked again after a refusal that may pass (a takeover under way, a lost answer): from half a second, doubling, to 4 s. */
const RESUME_RETRY_MIN_MS = 500;
const RESUME_RETRY_MAX_MS = 4000;
/**
 * A call whose media died while the server was out of reach (a process that went away takes
 * Simulated Santa's media with it): the window says the line is lost and waits this long for
 * the server to come back and say how the call ended and what it charged, rather than guess.
 */
const SERVER_WAIT_MS = 120_000;

export class CallSession {
  private snap: CallSnapshot = INITIAL;
  private readonly listeners = new Set<Listener>();
  private readonly streamListeners = new Set<(stream: MediaStream, receiver: LevelSource | null) => void>();
  private readonly warningListeners = new Set<(warning: CallWarning) => void>();
  private mic: MicStream | null = null;
  private peer: PeerLike | null = null;
  private channel: ChannelLike | null = null;
  private socket: SantaSocket | null = null;
  private unsubscribe: Array<() => void> = [];
  private hangUpRequested = false;
  /** call:started reaches the account's sockets before the ack reaches this one: remember it until the ack names our call. */
  private readonly startedBeforeAck = new Map<string, boolean>();
  /** The last caption piece was a whole line: the next piece starts a new one. */
  private lineDone = false;
  private connectedSent = false;
  private endTimer: unknown = null;
  private connectTimer: unknown = null;
  private resumeTimer: unknown = null;
  private serverWaitTimer: unknown = null;
  /** The media of the live call died: on reconnect the call is ended at the server, not resumed. */
  private mediaGone = false;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(
    readonly profileId: string,
    private readonly deps: CallSessionDeps,
  ) {
    this.setTimer = deps.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    this.clearTimer = deps.clearTimeout ?? ((h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  get snapshot(): CallSnapshot {
    return this.snap;
  }

  /** Calls back now and on every change; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.snap);
    return () => this.listeners.delete(listener);
  }

  /** Santa's audio arrives: the stream to play and meter, and its RTP receiver (audio levels without Web Audio). */
  onRemoteStream(listener: (stream: MediaStream, receiver: LevelSource | null) => void): () => void {
    this.streamListeners.add(listener);
    return () => this.streamListeners.delete(listener);
  }

  onWarning(listener: (warning: CallWarning) => void): () => void {
    this.warningListeners.add(listener);
    return () => this.warningListeners.delete(listener);
  }

  private update(patch: Partial<CallSnapshot>): void {
    if (TERMINAL.has(this.snap.phase)) return;
    this.snap = { ...this.snap, ...patch };
    for (const l of this.listeners) l(this.snap);
  }

  /** Places the call. Resolves when the call is live, ended or failed; never rejects. */
  async start(): Promise<void> {
    if (this.snap.phase !== 'idle') throw new Error('A call session starts once');
    this.update({ phase: 'asking_mic' });
    try {
      this.mic = await this.deps.getMic();
    } catch (err) {
      const name =
        err instanceof Error || (typeof err === 'object' && err !== null) ? (err as { name?: string }).name : '';
      this.fail(name === 'NotFoundError' || name === 'OverconstrainedError' ? 'mic_missing' : 'mic_denied');
      return;
    }
    if (this.hangUpRequested) return this.finishLocally('hangup');
    this.update({ phase: 'connecting' });

    let sdp: string;
    try {
      sdp = await this.makeOffer();
    } catch (err) {
      this.fail(err instanceof SessionError ? err.code : 'connection_failed');
      return;
    }
    if (this.hangUpRequested) return this.finishLocally('hangup');

    const socket = this.deps.connect();
    this.socket = socket;
    this.listenToSocket(socket);
    const ack = await socket.startCall({
      profileId: this.profileId,
      sdp,
      timeZone: this.deps.timeZone ?? localTimeZone(),
    });
    if ('error' in ack) {
      this.fail(ack.error.code);
      return;
    }
    if (TERMINAL.has(this.snap.phase)) return;
    this.update({
      callId: ack.callId,
      availableSeconds: ack.availableSeconds,
      remainingSeconds: this.snap.remainingSeconds ?? ack.availableSeconds,
      simulated: this.startedBeforeAck.get(ack.callId) ?? null,
    });
    this.startedBeforeAck.clear();
    if (this.hangUpRequested) {
      // The child pressed hang-up while Santa was being called: end it at the server at once.
      await this.hangUp();
      return;
    }
    try {
      await this.peer!.setRemoteDescription({ type: 'answer', sdp: ack.sdp });
    } catch {
      void socket.endCall(ack.callId);
      this.fail('connection_failed');
      return;
    }
    if (this.peer!.connectionState === 'connected') {
      this.update({ phase: 'live' });
      this.maybeConnected();
    } else if (!TERMINAL.has(this.snap.phase)) {
      this.connectTimer = this.setTimer(() => {
        if (this.snap.phase === 'connecting' && this.snap.callId) {
          void this.socket?.endCall(this.snap.callId);
          this.fail('connection_failed');
        }
      }, this.deps.connectTimeoutMs ?? 20_000);
    }
  }

  private async makeOffer(): Promise<string> {
    const peer = this.deps.createPeer();
    this.peer = peer;
    // Audio only, whatever the stream holds: the camera preview never reaches the peer (P2).
    for (const track of this.mic!.getAudioTracks()) {
      if (track.kind === 'audio') peer.addTrack(track as MediaStreamTrack, this.mic as unknown as MediaStream);
    }
    // The data channel carries the provider's events, Santa's words among them, ahead of his
    // audio and before any check: captions never come from it (see listenToSocket).
    this.channel = peer.createDataChannel('oai-events');
    this.channel.addEventListener('open', () => this.maybeConnected());
    this.channel.addEventListener('message', (ev) => this.onChannelMessage(ev));
    peer.addEventListener('track', (ev) => {
      const te = ev as RTCTrackEvent;
      const stream = te.streams?.[0];
      const receiver = te.receiver && typeof te.receiver.getStats === 'function' ? te.receiver : null;
      if (stream) for (const l of this.streamListeners) l(stream, receiver);
    });
    peer.addEventListener('connectionstatechange', () => this.onConnectionState(peer.connectionState));
    const offer = await peer.createOffer();
    await peer.setLocalDescription(offer);
    await this.iceGatheringComplete(peer);
    const sdp = peer.localDescription?.sdp;
    if (!sdp) throw new SessionError('connection_failed');
    return sdp;
  }

  /** The server forwards one offer, so every candidate must be in it (no trickle ICE). */
  private iceGatheringComplete(peer: PeerLike): Promise<void> {
    if (peer.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        this.clearTimer(timer);
        if (ok) resolve();
        else reject(new SessionError('ice_timeout'));
      };
      const timer = this.setTimer(() => {
        // Slow gathering (an unreachable interface): go on if at least one candidate is in the offer.
        finish(/\na=candidate:/.test(peer.localDescription?.sdp ?? ''));
      }, this.deps.iceTimeoutMs ?? 5000);
      peer.addEventListener('icegatheringstatechange', () => {
        if (peer.iceGatheringState === 'complete') finish(true);
      });
      peer.addEventListener('icecandidate', (ev) => {
        if ((ev as RTCPeerConnectionIceEvent).candidate === null) finish(true);
      });
    });
  }

  private onConnectionState(state: string): void {
    if (state === 'connected' && this.snap.phase === 'connecting' && this.snap.callId) {
      if (this.connectTimer !== null) this.clearTimer(this.connectTimer);
      this.update({ phase: 'live' });
      this.maybeConnected();
    } else if (state === 'failed' && this.snap.phase === 'live' && this.snap.callId) {
      // A call that ran lost its media (the server went away, or the network): it did not
      // "fail to start". End it at the server, and show what the server says it charged.
      this.mediaGone = true;
      this.update({ phase: 'ending' });
      this.endAtServer(this.snap.callId);
    } else if (state === 'failed' && !TERMINAL.has(this.snap.phase) && this.snap.phase !== 'ending') {
      // Media is gone for good: end the call at the server so it stops metering now.
      if (this.snap.callId) void this.socket?.endCall(this.snap.callId);
      this.fail('connection_failed');
    }
  }

  private audioBufferSeen = false;

  /**
   * Only whether Santa is speaking comes from the data channel (his words come from the
   * socket): from his response's start until its audio stops playing. A provider that never
   * says when playback starts or stops (no output_audio_buffer events) ends it with response.done.
   */
  private onChannelMessage(ev: MessageEvent): void {
    if (typeof ev.data !== 'string') return;
    let event: { type?: unknown };
    try {
      event = JSON.parse(ev.data) as typeof event;
    } catch {
      return;
    }
    if (event.type === 'response.created') {
      this.audioBufferSeen = false;
      this.update({ santaSpeaking: true });
    } else if (event.type === 'output_audio_buffer.started') {
      this.audioBufferSeen = true;
      this.update({ santaSpeaking: true });
    } else if (event.type === 'output_audio_buffer.stopped' || event.type === 'output_audio_buffer.cleared')
      this.update({ santaSpeaking: false });
    else if (event.type === 'response.done' && !this.audioBufferSeen) this.update({ santaSpeaking: false });
  }

  /**
   * Media and data channel both up: tell the server, once, so Santa greets now and is heard
   * (the service speaks as soon as it is asked, and words before this are lost).
   */
  private maybeConnected(): void {
    const callId = this.snap.callId;
    if (this.connectedSent || !callId || !this.socket || TERMINAL.has(this.snap.phase)) return;
    if (this.peer?.connectionState !== 'connected' || this.channel?.readyState !== 'open') return;
    this.connectedSent = true;
    void this.socket.callConnected(callId);
  }

  /**
   * Ends a call whose media died at the server; call:ended then says how it ended. Any other
   * answer: the server holds no such live call, or it cannot be reached. Out of reach, the
   * reconnect asks again (resume), and only a server that stays away past serverWaitMs ends
   * the call here as disconnected.
   */
  private endAtServer(callId: string): void {
    const socket = this.socket;
    if (!socket) return;
    void socket.endCall(callId).then((ack) => {
      if (this.snap.callId !== callId || TERMINAL.has(this.snap.phase) || !('error' in ack)) return;
      if (ack.error.code === 'network_error' && socket.status !== 'connected') {
        this.serverWaitTimer ??= this.setTimer(() => {
          this.serverWaitTimer = null;
          if (this.snap.callId === callId) this.finishLocally('disconnected');
        }, this.deps.serverWaitMs ?? SERVER_WAIT_MS);
        return;
      }
      void this.settleFromServer(callId);
    });
  }

  private listenToSocket(socket: SantaSocket): void {
    let dropped = false;
    this.unsubscribe.push(
      socket.onStatus((status) => {
        if (status === 'reconnecting') {
          dropped = true;
          if (this.snap.callId) this.update({ connectionLost: true });
        } else if (status === 'connected' && dropped) {
          dropped = false;
          this.resume(socket);
        }
      }),
      socket.on('call:started', (started) => {
        if (this.snap.callId === started.callId) this.update({ simulated: started.simulated });
        else if (this.snap.callId === null && this.startedBeforeAck.size < 8)
          this.startedBeforeAck.set(started.callId, started.simulated);
      }),
      socket.on('call:transcript', (line) => {
        if (this.snap.callId !== line.callId || line.speaker !== 'santa') return;
        // Checked words only, as the server relays them: deltas grow the line, a final one is the whole line.
        const text = line.final ? line.text : (this.lineDone ? '' : this.snap.santaLine) + line.text;
        this.lineDone = line.final;
        this.update({ santaLine: text.slice(-400) });
      }),
      socket.on('call:santa_stopped', (stopped) => {
        if (this.snap.callId !== stopped.callId) return;
        this.lineDone = true;
        this.update({ santaLine: '' });
      }),
      socket.on('call:tick', (tick) => {
        if (this.snap.callId !== tick.callId) return;
        this.update({ remainingSeconds: tick.remainingSeconds, elapsedSeconds: tick.elapsedSeconds });
      }),
      socket.on('call:warning', (warning) => {
        if (this.snap.callId !== warning.callId) return;
        if (warning.kind === 'time_low') this.update({ timeLow: true });
        for (const l of this.warningListeners) l(warning);
      }),
      socket.on('call:ended', (ended) => {
        // Other calls of the account (another child's window) are not this session's business.
        if (this.snap.callId !== ended.callId) return;
        this.finish(ended.reason, ended.seconds);
      }),
    );
  }

  /**
   * A new socket after a network blip, or on another server process after ours went away:
   * claim the call back before the server's grace period ends it. The process that answers
   * may not have the call yet (its owner died and the takeover is still under way) or the
   * answer may be lost: anything but ok or call_not_found is asked again, backing off, as long
   * as the socket stays up (a reconnect asks again anyway).
   */
  private resume(socket: SantaSocket, attempt = 0): void {
    const callId = this.snap.callId;
    if (this.resumeTimer !== null) this.clearTimer(this.resumeTimer);
    this.resumeTimer = null;
    if (!callId || TERMINAL.has(this.snap.phase)) return;
    // Nothing to take back: the media is gone, so the call ends (and says how) now that the server answers.
    if (this.mediaGone) return this.endAtServer(callId);
    void socket.resumeCall(callId).then((ack) => {
      if (this.snap.callId !== callId || TERMINAL.has(this.snap.phase)) return;
      if (!('error' in ack)) {
        this.update({ remainingSeconds: ack.remainingSeconds, connectionLost: false });
        return;
      }
      // The server no longer has the call: it ended while we were away (its grace period ran
      // out, or it ended for another reason and the call:ended went to the old socket).
      if (ack.error.code === 'call_not_found') void this.settleFromServer(callId);
      // A session that is gone ends its calls at the server; asking again changes nothing.
      else if (ack.error.code === 'unauthorized') return;
      else if (socket.status === 'connected' && this.socket === socket && this.resumeTimer === null) {
        const delay = Math.min(RESUME_RETRY_MIN_MS * 2 ** attempt, RESUME_RETRY_MAX_MS);
        this.resumeTimer = this.setTimer(() => {
          this.resumeTimer = null;
          if (socket.status === 'connected') this.resume(socket, attempt + 1);
        }, delay);
      }
    });
  }

  /** The child (or the window closing) hangs up. Safe to call at any time, more than once. */
  async hangUp(): Promise<void> {
    this.hangUpRequested = true;
    const { phase, callId } = this.snap;
    if (TERMINAL.has(phase) || phase === 'ending') return;
    if (!callId || !this.socket) {
      // Nothing placed yet; start() notices the flag at its next step.
      if (phase === 'idle') this.finishLocally('hangup');
      return;
    }
    this.update({ phase: 'ending' });
    const socket = this.socket;
    await new Promise<void>((resolve) => {
      this.endTimer = this.setTimer(() => {
        this.finishLocally('hangup');
        resolve();
      }, this.deps.endTimeoutMs ?? 5000);
      const off = this.subscribe((s) => {
        if (TERMINAL.has(s.phase)) {
          queueMicrotask(() => off());
          resolve();
        }
      });
      void socket.endCall(callId).then((ack) => {
        // Any refusal ends the call here: call_not_found means the server holds no live call of
        // ours (it ended while we were away and its call:ended went to a socket that was gone),
        // so no call:ended is coming. An ok waits for call:ended, which says what was charged.
        if ('error' in ack) this.finishLocally('hangup');
      });
    });
  }

  /**
   * The server holds no live call of ours: it ended while we were away (a restart, its grace
   * period) and its call:ended went to a socket that was gone. Ask it why and what it charged;
   * only if it cannot say, end as disconnected with the seconds seen here.
   */
  private async settleFromServer(callId: string): Promise<void> {
    let record: Awaited<ReturnType<NonNullable<CallSessionDeps['lookup']>>> | null = null;
    try {
      record = (await this.deps.lookup?.(callId)) ?? null;
    } catch {
      record = null;
    }
    if (this.snap.callId !== callId) return;
    if (record?.endedAt && record.reason) this.finish(record.reason, record.seconds);
    else this.finishLocally('disconnected');
  }

  private finishLocally(reason: CallEndReason): void {
    this.finish(reason, this.snap.elapsedSeconds);
  }

  private finish(reason: CallEndReason, seconds: number): void {
    if (TERMINAL.has(this.snap.phase)) return;
    // Terminal from here: update() ignores any later patch.
    this.update({
      phase: 'ended',
      endReason: reason,
      endedSeconds: seconds,
      santaLine: '',
      santaSpeaking: false,
      connectionLost: false,
    });
    this.release();
  }

  private fail(code: string): void {
    if (TERMINAL.has(this.snap.phase)) return;
    this.update({ phase: 'failed', errorCode: code, santaLine: '', santaSpeaking: false });
    this.release();
  }

  /** Stops the mic, closes the channel, the peer and the socket. */
  private release(): void {
    if (this.endTimer !== null) this.clearTimer(this.endTimer);
    if (this.connectTimer !== null) this.clearTimer(this.connectTimer);
    if (this.resumeTimer !== null) this.clearTimer(this.resumeTimer);
    if (this.serverWaitTimer !== null) this.clearTimer(this.serverWaitTimer);
    this.endTimer = this.connectTimer = this.resumeTimer = this.serverWaitTimer = null;
    for (const off of this.unsubscribe.splice(0)) off();
    for (const track of this.mic?.getTracks() ?? []) track.stop();
    try {
      this.channel?.close();
    } catch {
      // already closed
    }
    this.peer?.close();
    this.socket?.close();
    this.mic = null;
    this.channel = null;
    this.peer = null;
    this.socket = null;
  }
}

function localTimeZone(): string | undefined {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
  } catch {
    return undefined;
  }
}

class SessionError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}
