import type { RTCPeerConnectionConfig } from 'werift';

export interface PeerNetworkOptions {
  /** Gather only a 127.0.0.1 host candidate and bind to it, so no packet leaves the machine. */
  loopbackOnly?: boolean;
  /** Extra host addresses to offer (loopback is always added). */
  iceAdditionalHostAddresses?: string[];
}

/**
 * werift configuration for a peer that lives on this machine. Loopback-only turns off the
 * interface scan entirely and binds the one UDP socket to 127.0.0.1: then the SDP carries no
 * LAN address and traffic cannot leave the host, which is what tests and the embedded
 * Simulated Santa want when the browser runs on the same machine.
 */
export function peerNetworkConfig(options: PeerNetworkOptions = {}): RTCPeerConnectionConfig {
  const loopbackOnly = options.loopbackOnly ?? true;
  const additional = [...new Set(['127.0.0.1', ...(options.iceAdditionalHostAddresses ?? [])])];
  if (!loopbackOnly) return { iceAdditionalHostAddresses: additional, iceUseIpv6: false };
  return {
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
  };
}

/** Drop candidate lines for anything but 127.0.0.1 (defence in depth for loopback-only). */
export function keepLoopbackCandidates(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('a=candidate:') || / 127\.0\.0\.1 \d+ typ /.test(line))
    .join('\r\n');
}
