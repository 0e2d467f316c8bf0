import { MAX_SDP_BYTES } from '../../shared/schemas/calls.js';

/**
 * Checks that a browser's SDP looks like a WebRTC offer Call Santa accepts, before any
 * credit is held or the provider sees it. Video is refused outright (promise P2): the call
 * window never adds a camera track, so an offer with a video m-line is not ours, and
 * refusing it means no video can ever be negotiated, whatever the provider would answer.
 *
 * Returns null when the offer is acceptable, otherwise a short reason (never the SDP).
 */
export function offerProblem(sdp: string): string | null {
  if (Buffer.byteLength(sdp, 'utf8') > MAX_SDP_BYTES) return 'The offer is too large';
  // Printable text and line breaks only: anything else is not SDP.
  if (/[^\t\r\n\x20-\x7e]/.test(sdp)) return 'The offer contains characters SDP does not allow';
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== 'v=0') return 'The offer does not start with v=0';
  for (const line of lines) {
    if (!/^[a-z]=/.test(line)) return 'The offer has a line that is not SDP';
  }
  if (!lines.some((l) => l.startsWith('o='))) return 'The offer has no origin line';
  if (!lines.some((l) => l.startsWith('s='))) return 'The offer has no session name';
  const media = lines.filter((l) => l.startsWith('m='));
  if (media.length === 0) return 'The offer has no media';
  for (const m of media) {
    const kind = m.slice(2).split(' ')[0];
    if (kind === 'video') return 'Video is never sent on a call; the offer must not carry a video track';
    if (kind !== 'audio' && kind !== 'application')
      return `The offer has an unsupported media section (${kind === undefined ? '?' : kind.slice(0, 16)})`;
  }
  if (!media.some((m) => m.startsWith('m=audio '))) return 'The offer has no audio';
  if (!lines.some((l) => l.startsWith('a=fingerprint:'))) return 'The offer has no DTLS fingerprint';
  if (!lines.some((l) => l.startsWith('a=ice-ufrag:'))) return 'The offer has no ICE credentials';
  // An answer says active or passive; an offer leaves the DTLS role open.
  const setups = lines.filter((l) => l.startsWith('a=setup:'));
  if (setups.some((l) => l !== 'a=setup:actpass')) return 'This is not an offer (the DTLS role is already fixed)';
  return null;
}
