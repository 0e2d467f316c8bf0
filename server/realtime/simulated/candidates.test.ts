import { describe, expect, it } from 'vitest';
import { candidateProblem, keepLegitimateCandidates, MAX_OFFER_CANDIDATES } from './candidates.js';

const line = (address: string, port: number, extra = '', transport = 'udp', component = 1) =>
  `a=candidate:1 ${component} ${transport} 2122260223 ${address} ${port} typ host${extra}`;
const localAddresses = new Set(['127.0.0.1', '192.0.2.2']);
const LOOPBACK = { loopbackOnly: true, localAddresses };
const REMOTE = { loopbackOnly: false, localAddresses };

describe("Simulated Santa's network rule for offer candidates", () => {
  it('keeps what a browser on this machine offers the loopback-bound peer', () => {
    expect(candidateProblem(line('127.0.0.1', 54321), LOOPBACK)).toBeNull();
    // A browser on this machine lists its interface address as its host candidate.
    expect(candidateProblem(line('192.0.2.2', 54321), LOOPBACK)).toBeNull();
    expect(candidateProblem(line('127.0.0.1', 60000, ' generation 0 ufrag abcd network-id 1'), LOOPBACK)).toBeNull();
    expect(candidateProblem(line('127.0.0.1', 54321, '', 'UDP', 2), LOOPBACK)).toBeNull();
  });

  it('cuts every other address, port, transport and name in loopback mode', () => {
    for (const [candidate, why] of [
      [line('10.0.0.5', 54321), 'address'],
      [line('127.0.0.2', 54321), 'address'],
      [line('169.254.169.254', 54321), 'address'],
      [line('192.168.1.10', 54321), 'address'],
      [line('127.0.0.1', 53), 'port'],
      [line('127.0.0.1', 123), 'port'],
      [line('127.0.0.1', 5353), 'port'],
      [line('127.0.0.1', 11211), 'port'],
      [line('127.0.0.1', 1900), 'port'],
      [line('127.0.0.1', 3478), 'port'],
      [line('127.0.0.1', 70000), 'port'],
      [line('127.0.0.1', 54321, ' tcptype passive', 'tcp'), 'transport'],
      [line('127.0.0.1', 54321, '', 'udp', 3), 'component'],
      [line('4f5e2d1c-0b9a-4c8d-9e7f-6a5b4c3d2e1f.local', 54321), 'not an IPv4 address'],
      [line('santa.example.com', 54321), 'not an IPv4 address'],
      [line('::1', 54321), 'not an IPv4 address'],
      ['a=candidate:garbage', 'not a candidate line'],
    ] as const) {
      expect(candidateProblem(candidate, LOOPBACK), candidate).toBe(why);
    }
  });

  it('off loopback, keeps unicast addresses of other machines, never this one, link-local or multicast', () => {
    for (const address of ['192.168.1.10', '10.1.2.3', '172.16.0.9', '100.64.1.1', '203.0.113.7'])
      expect(candidateProblem(line(address, 54321), REMOTE), address).toBeNull();
    for (const address of [
      '127.0.0.1',
      '127.9.9.9',
      '0.0.0.0',
      '169.254.169.254',
      '224.0.0.251',
      '239.255.255.250',
      '255.255.255.255',
      '240.0.0.1',
    ])
      expect(candidateProblem(line(address, 54321), REMOTE), address).toBe('address');
    expect(candidateProblem(line('203.0.113.7', 53), REMOTE)).toBe('port');
  });

  it('cuts the lines before werift sees them, keeps at most the first few and every other line', () => {
    const many = Array.from({ length: MAX_OFFER_CANDIDATES + 3 }, (_, i) => line('127.0.0.1', 50000 + i));
    const sdp = [
      'v=0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=ice-ufrag:abcd',
      line('127.0.0.1', 5353),
      line('4f5e2d1c-0b9a-4c8d-9e7f-6a5b4c3d2e1f.local', 54321),
      ...many,
      'a=end-of-candidates',
      '',
    ].join('\r\n');
    const result = keepLegitimateCandidates(sdp, LOOPBACK);
    const kept = result.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
    expect(kept).toEqual(many.slice(0, MAX_OFFER_CANDIDATES));
    expect(result.dropped).toBe(5);
    expect(result.sdp).toContain('a=ice-ufrag:abcd\r\n');
    expect(result.sdp).toContain('a=end-of-candidates\r\n');
    expect(result.sdp.startsWith('v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n')).toBe(true);
  });
});
