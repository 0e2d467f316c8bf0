import { MediaStreamTrack, RTCPeerConnection } from 'werift';
import type { ChannelLike, MicStream, PeerLike, TrackLike } from '../../extension/lib/call-session.js';
import { peerNetworkConfig } from '../../server/realtime/simulated/loopback.js';

/**
 * werift in the place of the browser's RTCPeerConnection, for the extension's own call
 * session (extension/lib/call-session.ts) in tests: the session takes its peer as a
 * dependency, and this adapter gives werift the browser's event surface. Loopback only, so
 * no WebRTC packet leaves 127.0.0.1.
 */
export class WeriftCallPeer implements PeerLike {
  readonly pc = new RTCPeerConnection({ ...peerNetworkConfig({ loopbackOnly: true }), bundlePolicy: 'max-bundle' });
  /** Every data channel message received, for checks that Santa's events arrive. */
  readonly messages: string[] = [];
  private closed = false;

  addTrack(track: MediaStreamTrack | globalThis.MediaStreamTrack): unknown {
    if (!(track instanceof MediaStreamTrack)) throw new Error('WeriftCallPeer takes werift tracks (weriftMic())');
    return this.pc.addTransceiver(track, { direction: 'sendrecv' });
  }

  createDataChannel(label: string): ChannelLike {
    const channel = this.pc.createDataChannel(label);
    const listeners: Array<(ev: MessageEvent) => void> = [];
    const openListeners: Array<(ev: MessageEvent) => void> = [];
    channel.onMessage.subscribe((data) => {
      const text = typeof data === 'string' ? data : data.toString('utf8');
      this.messages.push(text);
      for (const l of listeners) l({ data: text } as MessageEvent);
    });
    channel.stateChanged.subscribe((state) => {
      if (state === 'open') for (const l of openListeners) l({} as MessageEvent);
    });
    return {
      label,
      get readyState() {
        return channel.readyState;
      },
      addEventListener: (type, listener) => void (type === 'open' ? openListeners : listeners).push(listener),
      close: () => channel.close(),
    };
  }

  async createOffer(): Promise<RTCSessionDescriptionInit> {
    const offer = await this.pc.createOffer();
    return { type: 'offer', sdp: offer.sdp };
  }

  async setLocalDescription(description: RTCSessionDescriptionInit): Promise<void> {
    await this.pc.setLocalDescription({ type: 'offer', sdp: description.sdp ?? '' });
  }

  async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: description.sdp ?? '' });
  }

  get localDescription(): { sdp: string } | null {
    const sdp = this.pc.localDescription?.sdp;
    return sdp ? { sdp } : null;
  }

  get iceGatheringState(): string {
    return this.pc.iceGatheringState;
  }

  get connectionState(): string {
    return this.pc.connectionState;
  }

  addEventListener(type: string, listener: (ev: Event) => void): void {
    const fire = (ev: object) => listener(ev as Event);
    if (type === 'icegatheringstatechange') this.pc.iceGatheringStateChange.subscribe(() => fire({}));
    else if (type === 'connectionstatechange') this.pc.connectionStateChange.subscribe(() => fire({}));
    else if (type === 'icecandidate')
      this.pc.onIceCandidate.subscribe((candidate) => fire({ candidate: candidate ?? null }));
    else if (type === 'track')
      this.pc.onTrack.subscribe((track) => fire({ track, streams: [{ id: track.id }], receiver: null }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.pc.close();
  }
}

/** A microphone for the call session: one werift audio track (silent; the server only meters time). */
export function weriftMic(): MicStream & { readonly track: MediaStreamTrack } {
  const track = new MediaStreamTrack({ kind: 'audio' });
  const asLike = track as unknown as TrackLike;
  return { track, getAudioTracks: () => [asLike], getTracks: () => [asLike] };
}
