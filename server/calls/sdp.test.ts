import { describe, expect, it } from 'vitest';
import { offerProblem } from './sdp.js';
import { BROWSER_OFFER } from '../../test/calls/support.js';

describe('a call offer is checked before any credit is held', () => {
  it('accepts an audio and data-channel offer', () => {
    expect(offerProblem(BROWSER_OFFER)).toBeNull();
    expect(offerProblem(BROWSER_OFFER.replace(/\r\n/g, '\n'))).toBeNull();
  });

  it('refuses any offer with a video track (P2)', () => {
    const withVideo = BROWSER_OFFER + 'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\na=rtpmap:96 VP8/90000\r\n';
    expect(offerProblem(withVideo)).toMatch(/video/i);
    const videoOnly = BROWSER_OFFER.replace('m=audio 9 UDP/TLS/RTP/SAVPF 111', 'm=video 9 UDP/TLS/RTP/SAVPF 96');
    expect(offerProblem(videoOnly)).toMatch(/video/i);
  });

  it('refuses what is not an offer', () => {
    const cases = [
      'hello world, not sdp at all',
      BROWSER_OFFER.replace('v=0', 'v=1'),
      BROWSER_OFFER.replace(/a=setup:actpass/g, 'a=setup:active'), // an answer
      BROWSER_OFFER.replace(/a=fingerprint:[^\r]*\r\n/g, ''),
      BROWSER_OFFER.replace(/a=ice-ufrag:[^\r]*\r\n/g, ''),
      BROWSER_OFFER.replace('m=audio 9 UDP/TLS/RTP/SAVPF 111', 'm=text 9 RTP/AVP 98'),
      BROWSER_OFFER.replace(/m=audio[\s\S]*?(?=m=application)/, ''), // no audio
      BROWSER_OFFER.replace('s=-', 's=-\u0000'),
      BROWSER_OFFER + 'not a line\r\n',
      BROWSER_OFFER + `a=x:${'y'.repeat(33 * 1024)}\r\n`,
    ];
    for (const sdp of cases) expect(offerProblem(sdp), sdp.slice(0, 40)).not.toBeNull();
  });
});
