import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * Which ICE candidates of a browser's offer Simulated Santa's werift peer may send
 * connectivity checks to.
 *
 * The offer comes from whoever holds a parent's token, so its candidate lines are addresses a
 * stranger chose, and an ICE agent sends STUN checks (with retransmissions) to every one. Left
 * alone, an offer could aim this server's UDP traffic at other services on the machine or its
 * network (SSRF) or at a third party (amplification). So before werift sees the offer, its
 * candidate lines are cut to what a browser would legitimately offer this peer:
 * - UDP only, component 1 or 2, at most MAX_OFFER_CANDIDATES of them (in the offer's order);
 * - an IPv4 literal: no host name and no mDNS `.local` name, which werift would resolve itself
 *   (a DNS query for a name the caller chose, or multicast DNS on the local network); the peer
 *   has no IPv6 socket. A browser that hides its address behind mDNS is still reached: its own
 *   checks reveal it (a peer-reflexive candidate);
 * - an address the browser can have: with loopbackOnly (the default: the peer is bound to
 *   127.0.0.1 and the browser runs on this machine) one of this machine's own addresses
 *   (127.0.0.1, or an interface address, which a browser lists as its host candidate; a
 *   packet to it never leaves the machine); otherwise a unicast address of another machine,
 *   never this one (127/8, 0/8, its interface addresses), link-local (169.254/16, where cloud
 *   metadata services answer), multicast or reserved;
 * - a port 1024-65535 that is not a well-known UDP service: browsers bind their ICE sockets to
 *   unprivileged ephemeral ports, never to DNS, NTP, SNMP (below 1024), SSDP, STUN/TURN, mDNS
 *   or memcached (REFUSED_PORTS).
 * Why not ICE-lite (no checks of our own at all)? Firefox does not check a remote loopback
 * candidate from its host sockets; it connects only once our check reaches its host candidate.
 * Documented in docs/OPERATIONS.md ("Simulated Santa's network rule").
 */
export const MAX_OFFER_CANDIDATES = 8;

/** Well-known UDP services above 1024 that no browser's ICE socket uses. */
export const REFUSED_PORTS: readonly number[] = [1900, 3478, 5349, 5353, 11211];
const REFUSED = new Set(REFUSED_PORTS);

export interface CandidateRule {
  /** The peer is bound to 127.0.0.1 and the browser runs on this machine. */
  loopbackOnly: boolean;
  /** This machine's IPv4 addresses: 127.0.0.1 and its interface addresses (localIPv4Addresses()). */
  localAddresses: ReadonlySet<string>;
}

/** This machine's IPv4 addresses, loopback included. */
export function localIPv4Addresses(): Set<string> {
  const addresses = new Set(['127.0.0.1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4') addresses.add(a.address);
  }
  return addresses;
}

const CANDIDATE = /^a=candidate:\S+ (\d+) (\S+) \d+ (\S+) (\d+) typ \S+/;

/** Why a candidate line is cut, or null when the peer may check it. */
export function candidateProblem(line: string, rule: CandidateRule): string | null {
  const m = CANDIDATE.exec(line);
  if (!m) return 'not a candidate line';
  const [, component, transport, address, portText] = m as unknown as [string, string, string, string, string];
  if (component !== '1' && component !== '2') return 'component';
  if (transport.toLowerCase() !== 'udp') return 'transport';
  if (!isIPv4(address)) return 'not an IPv4 address';
  const allowed = rule.loopbackOnly
    ? rule.localAddresses.has(address)
    : !rule.localAddresses.has(address) && otherMachineUnicast(address);
  if (!allowed) return 'address';
  const port = Number(portText);
  if (port < 1024 || port > 65535 || REFUSED.has(port)) return 'port';
  return null;
}

function otherMachineUnicast(address: string): boolean {
  const [a = 0, b = 0] = address.split('.').map(Number);
  if (a === 0 || a === 127) return false; // this machine
  if (a === 169 && b === 254) return false; // link-local, cloud metadata
  if (a >= 224) return false; // multicast, reserved, broadcast
  return true;
}

/**
 * The offer with only the candidate lines the rule keeps (the first MAX_OFFER_CANDIDATES of
 * them); every other line as it was. Returns how many were cut, for a log line without addresses.
 */
export function keepLegitimateCandidates(sdp: string, rule: CandidateRule): { sdp: string; dropped: number } {
  let kept = 0;
  let dropped = 0;
  const lines = sdp.split(/\r?\n/).filter((line) => {
    if (!line.startsWith('a=candidate:')) return true;
    if (kept < MAX_OFFER_CANDIDATES && candidateProblem(line, rule) === null) {
      kept++;
      return true;
    }
    dropped++;
    return false;
  });
  return { sdp: lines.join('\r\n'), dropped };
}
