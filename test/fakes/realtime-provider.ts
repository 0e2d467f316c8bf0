import { randomUUID } from 'node:crypto';
import type { RealtimeProvider, SantaSessionConfig, StartedCall } from '../../server/realtime/provider.js';
import { RealtimeProviderError } from '../../server/realtime/provider.js';
import { ControlChannel } from '../../server/realtime/control-channel.js';

/**
 * The shape of a browser's offer for a call: one audio track and the oai-events data channel,
 * with ICE and DTLS (what the server's offer check accepts).
 */
export const BROWSER_OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:bench',
  'a=ice-pwd:benchbenchbenchbenchbench',
  'a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
  'a=setup:actpass',
  'a=mid:0',
  'a=sendrecv',
  'a=rtpmap:111 opus/48000/2',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:bench',
  'a=ice-pwd:benchbenchbenchbenchbench',
  'a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
  'a=setup:actpass',
  'a=mid:1',
  'a=sctp-port:5000',
  '',
].join('\r\n');

const ANSWER_SDP = BROWSER_OFFER.replace(/a=setup:actpass/g, 'a=setup:active');

/**
 * A realtime provider that answers every offer after a fixed delay and keeps a silent control
 * channel: what is left to measure is the server's own work around the provider (broker
 * overhead, metering), and tests get calls without WebRTC.
 */
export class FakeRealtimeProvider implements RealtimeProvider {
  readonly kind = 'simulated' as const;
  private readonly calls = new Map<string, ControlChannel>();
  started = 0;

  constructor(private readonly latencyMs = 0) {}

  get live(): number {
    return this.calls.size;
  }

  async startCall(_offerSdp: string, _session: SantaSessionConfig, signal?: AbortSignal): Promise<StartedCall> {
    if (this.latencyMs > 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, this.latencyMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new RealtimeProviderError('aborted', 'aborted'));
        });
      });
    }
    const providerCallId = `fake_${randomUUID()}`;
    // A silent channel: it takes what the server sends and never speaks.
    const control = new ControlChannel(() => undefined, () => undefined);
    this.calls.set(providerCallId, control);
    control.onClose(() => this.calls.delete(providerCallId));
    this.started++;
    return { providerCallId, answerSdp: ANSWER_SDP, control };
  }

  async hangup(providerCallId: string): Promise<void> {
    this.calls.get(providerCallId)?.close();
  }

  async close(): Promise<void> {
    for (const c of [...this.calls.values()]) c.close();
  }
}
