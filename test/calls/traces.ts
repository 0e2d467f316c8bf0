import { expect } from 'vitest';
import type { TestServer } from '../support/server.js';
import { decryptedDataDir } from './support.js';

/** What a call must never leave behind: what was said, the SDP bodies and the bearer tokens. */
export interface Secrets {
  texts: string[];
  sdps: string[];
  tokens: string[];
  /** Kept in the store by design (profile text) but never to be logged. */
  logOnly?: string[];
}

/** The parts of an SDP that identify it: its ICE password and DTLS fingerprint. */
export function sdpMarkers(sdp: string): string[] {
  const markers: string[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('a=ice-pwd:') || line.startsWith('a=fingerprint:'))
      markers.push(line.slice(line.indexOf(':') + 1).trim());
  }
  return [...new Set(markers)];
}

/**
 * Grep the data directory (every file decrypted) and the captured logs for the secrets (P1,
 * P3, and the rule that SDP and tokens are never stored or logged). Also checks that the lists
 * are not empty, so the check cannot pass by having nothing to look for.
 */
export function assertNoTraces(
  server: Pick<TestServer, 'dataDir' | 'logs'>,
  secrets: Secrets,
  extraLogs: string[] = [],
): void {
  expect(secrets.texts.length, 'transcript texts to look for').toBeGreaterThan(0);
  expect(secrets.sdps.length, 'SDPs to look for').toBeGreaterThan(0);
  expect(secrets.tokens.length, 'tokens to look for').toBeGreaterThan(0);
  const places: [string, string][] = [
    ['data dir', decryptedDataDir(server.dataDir)],
    ['logs', [...server.logs, ...extraLogs].join('\n')],
  ];
  expect(places[0]![1].length).toBeGreaterThan(1000); // the store really was read
  expect(places[1]![1]).toContain('call started'); // and the logs really hold call lines
  const needles: [string, string][] = [
    ...secrets.texts.map((t): [string, string] => ['transcript', t]),
    ...secrets.sdps.flatMap((s) => sdpMarkers(s).map((m): [string, string] => ['sdp', m])),
    ...secrets.tokens.map((t): [string, string] => ['token', t]),
    ['sdp', 'a=ice-ufrag'],
    ['sdp', 'm=audio'],
  ];
  for (const [where, haystack] of places) {
    for (const [kind, needle] of needles) {
      expect(haystack.includes(needle), `${kind} found in the ${where}: ${needle.slice(0, 24)}…`).toBe(false);
    }
  }
  for (const needle of secrets.logOnly ?? []) {
    expect(places[1]![1].includes(needle), `profile text found in the logs: ${needle.slice(0, 24)}…`).toBe(false);
  }
}
