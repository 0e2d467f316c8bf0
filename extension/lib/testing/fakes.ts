import type { CallStart } from '../../../shared/index.js';
import type { ChannelLike, MicStream, PeerLike, TrackLike } from '../call-session.js';
import type {
  CallEndResult,
  CallResumeResult,
  CallStartResult,
  RawSocket,
  SantaSocket,
  ServerEvent,
  ServerPayload,
  SocketStatus,
} from '../socket.js';

/**
 * Test doubles for the browser's WebRTC objects and the socket, with the same surface the
 * call session uses. They record what was done to them so tests can check it.
 */

export class FakeRawSocket implements RawSocket {
  handlers = new Map<string, Set<(...args: unknown[]) => void>>();
  emitted: Array<{ event: string; args: unknown[] }> = [];
  disconnected = false;
  /** As socket.io's: false when it will not reconnect by itself; `connects` counts connect() calls. */
  active = true;
  connects = 0;
  answer: (event: string, args: unknown[]) => Promise<unknown> = async () => undefined;

  connect() {
    this.connects++;
    return this;
  }

  on(event: string, fn: (...args: unknown[]) => void) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(fn);
    return this;
  }
  off(event: string, fn: (...args: unknown[]) => void) {
    this.handlers.get(event)?.delete(fn);
    return this;
  }
  timeout(_ms: number) {
    return {
      emitWithAck: (event: string, ...args: unknown[]) => {
        this.emitted.push({ event, args });
        return this.answer(event, args);
      },
    };
  }
  disconnect() {
    this.disconnected = true;
    return this;
  }
  /** The server sends an event. */
  fire(event: string, ...args: unknown[]) {
    for (const fn of this.handlers.get(event) ?? []) fn(...args);
  }
}

export class FakeTrack implements TrackLike {
  stopped = false;
  constructor(readonly kind: 'audio' | 'video') {}
  stop() {
    this.stopped = true;
  }
}

export class FakeStream implements MicStream {
  constructor(readonly tracks: FakeTrack[]) {}
  getAudioTracks() {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getTracks() {
    return this.tracks;
  }
}

export class FakeChannel implements ChannelLike {
  closed = false;
  readyState: RTCDataChannelState = 'connecting';
  private listeners: Array<(ev: MessageEvent) => void> = [];
  private openListeners: Array<() => void> = [];
  constructor(readonly label: string) {}
  addEventListener(type: 'message' | 'open', listener: (ev: MessageEvent) => void) {
    if (type === 'open') this.openListeners.push(() => listener({} as MessageEvent));
    else this.listeners.push(listener);
  }
  /** The data channel opens (SCTP over the connected transport). */
  open() {
    this.readyState = 'open';
    for (const l of this.openListeners) l();
  }
  close() {
    this.closed = true;
  }
  /** The provider sends an oai-events message. */
  receive(event: object) {
    for (const l of this.listeners) l({ data: JSON.stringify(event) } as MessageEvent);
  }
}

export const OFFER_SDP =
  'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n';

export class FakePeer implements PeerLike {
  tracks: Array<{ track: unknown; streams: unknown[] }> = [];
  channels: FakeChannel[] = [];
  local: RTCSessionDescriptionInit | null = null;
  remote: RTCSessionDescriptionInit | null = null;
  iceGatheringState = 'new';
  connectionState = 'new';
  closed = false;
  /** complete: gathering finishes right after setLocalDescription; manual: the test finishes it. */
  gathering: 'complete' | 'manual' = 'complete';
  private listeners = new Map<string, Array<(ev: Event) => void>>();

  get localDescription() {
    return this.local?.sdp ? { sdp: this.local.sdp } : null;
  }
  addTrack(track: MediaStreamTrack, ...streams: MediaStream[]) {
    this.tracks.push({ track, streams });
    return {};
  }
  createDataChannel(label: string) {
    const ch = new FakeChannel(label);
    this.channels.push(ch);
    return ch;
  }
  async createOffer() {
    return { type: 'offer' as const, sdp: OFFER_SDP };
  }
  async setLocalDescription(d: RTCSessionDescriptionInit) {
    this.local = d;
    this.iceGatheringState = 'gathering';
    if (this.gathering === 'complete') queueMicrotask(() => this.finishGathering());
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.remote = d;
  }
  addEventListener(type: string, listener: (ev: Event) => void) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type)!.push(listener);
  }
  close() {
    this.closed = true;
  }
  dispatch(type: string, ev: object = {}) {
    for (const l of this.listeners.get(type) ?? []) l(ev as Event);
  }
  finishGathering() {
    this.iceGatheringState = 'complete';
    this.dispatch('icegatheringstatechange');
  }
  setConnection(state: string) {
    this.connectionState = state;
    this.dispatch('connectionstatechange');
  }
}

/** A SantaSocket whose server side the test plays. */
export class FakeSantaSocket implements SantaSocket {
  status: SocketStatus = 'connected';
  closed = false;
  starts: CallStart[] = [];
  ends: string[] = [];
  resumes: string[] = [];
  connected: string[] = [];
  startAck: (body: CallStart) => Promise<CallStartResult> = async () => ({
    callId: 'call-1',
    sdp: 'v=0 answer',
    availableSeconds: 600,
  });
  endAck: (callId: string) => Promise<CallEndResult> = async () => ({ ok: true });
  resumeAck: (callId: string) => Promise<CallResumeResult> = async () => ({ ok: true, remainingSeconds: 300 });
  private handlers = new Map<string, Set<(payload: never) => void>>();
  private statusHandlers = new Set<(s: SocketStatus) => void>();

  on<E extends ServerEvent>(event: E, handler: (payload: ServerPayload<E>) => void) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(handler as (payload: never) => void);
    return () => void this.handlers.get(event)!.delete(handler as (payload: never) => void);
  }
  onStatus(handler: (s: SocketStatus) => void) {
    this.statusHandlers.add(handler);
    return () => void this.statusHandlers.delete(handler);
  }
  startCall(body: CallStart) {
    this.starts.push(body);
    return this.startAck(body);
  }
  endCall(callId: string) {
    this.ends.push(callId);
    return this.endAck(callId);
  }
  resumeCall(callId: string) {
    this.resumes.push(callId);
    return this.resumeAck(callId);
  }
  async callConnected(callId: string) {
    this.connected.push(callId);
    return { ok: true as const };
  }
  close() {
    this.closed = true;
  }
  emit<E extends ServerEvent>(event: E, payload: ServerPayload<E>) {
    for (const h of this.handlers.get(event) ?? []) (h as (p: ServerPayload<E>) => void)(payload);
  }
  setStatus(status: SocketStatus) {
    this.status = status;
    for (const h of this.statusHandlers) h(status);
  }
  listenerCount(): number {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n + this.statusHandlers.size;
  }
}

export const tick = () => new Promise((r) => setTimeout(r, 0));
