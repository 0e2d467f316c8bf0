import { isIPv4 } from 'node:net';

/**
 * Which ICE candidates of a browser's offer Simulated Santa's werift peer may know about.
 *
 * The offer comes from whoever holds a parent's token, so its candidate lines are addresses a
 * stranger chose. A full ICE agent sends STUN connectivity checks to every one of them (with
 * retransmissions), which would let an offer aim this server's UDP traffic at other services
 * on the machine or its network (SSRF) or at a third party (amplification). Two layers:
 *
 * 1. Simulated Santa is an ICE-lite agent (RFC 8445 §2.5, as media servers are): it never starts
 *    a connectivity check. It only answers the browser's checks, from the address each one came
 *    from, and only checks carrying this call's ICE password; the browser (the full, controlling
 *    agent) nominates. So no address the offer lists receives anything from us unless it first
 *    proved, with the call's credentials, that it is the browser. (SimulatedCall sets iceLite.)
 * 2. Before werift sees the offer, its candidate lines are cut to what a browser would
 *    legitimately offer this peer (this function), so werift does no work for the others:
 *    - UDP only, component 1 or 2, at most MAX_OFFER_CANDIDATES of them;
 *    - an IPv4 literal: no host name, and no mDNS `.local` name (werift would resolve those
 *      itself, with multicast DNS on the local network or a DNS query for a name the caller
 *      chose); the peer has no IPv6 socket. A browser hiding its address behind mDNS is still
 *      reached: its own checks reveal its address (a peer-reflexive candidate);
 *    - an address this peer can reach and a browser could have: with loopbackOnly (the default:
 *      the peer is bound to 127.0.0.1, the browser on this machine) exactly 127.0.0.1;
 *      otherwise a unicast address that is not this machine (127/8, 0/8), link-local
 *      (169.254/16, where cloud metadata services answer), multicast or reserved;
 *    - a port 1024-65535 that is not a well-known local UDP service: browsers bind their ICE
 *      sockets to unprivileged ephemeral ports, never to DNS, NTP, SNMP (below 1024), SSDP,
 *      STUN/TURN, mDNS or memcached (REFUSED_PORTS).
 * Documented in docs/OPERATIONS.md ("Simulated Santa's network rule").
 */
export const MAX_OFFER_CANDIDATES = 8;

/** Well-known UDP services above 1024 that no browser's ICE socket uses. */
export const REFUSED_PORTS: ReadonlySet<number> = new Set([1900, 3478, 5349, 5353, 11211]);

export interface CandidateRule {
  /** The peer is bound to 127.0.0.1 and the browser runs on this machine. */
  loopbackOnly: boolean;
}

const CANDIDATE = /^a=candidate:\S+ (\d+) (\S+) \d+ (\S+) (\d+) typ (\S+)/;

/** Why a candidate line is cut, or null when the peer may know it. */
export function candidateProblem(line: string, rule: CandidateRule): string | null {
  const m = CANDIDATE.exec(line);
  if (!m) return 'not a candidate line';
  const [, component, transport, address, portText] = m as unknown as [string, string, string, string, string];
  if (component !== '1' && component !== '2') return 'component';
  if (transport.toLowerCase() !== 'udp') return 'transport';
  if (!isIPv4(address)) return 'not an IPv4 address';
  if (rule.loopbackOnly ? address !== '127.0.0.1' : !remoteUnicast(address)) return 'address';
  const port = Number(portText);
  if (port < 1024 || port > 65535 || REFUSED_PORTS.has(port)) return 'port';
  return null;
}

function remoteUnicast(address: string): boolean {
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
