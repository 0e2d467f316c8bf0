export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface OfferShape {
  audioDirection: MediaDirection | null;
  hasDataChannel: boolean;
}

/** What a browser offer asks for: the audio m-line's direction and whether it has a data channel. */
export function describeOffer(sdp: string): OfferShape {
  const sections = sdp.split(/\r?\n(?=m=)/);
  let audioDirection: MediaDirection | null = null;
  let hasDataChannel = false;
  for (const section of sections) {
    if (section.startsWith('m=audio') && audioDirection === null) {
      const match = /\r?\na=(sendrecv|sendonly|recvonly|inactive)\b/.exec(section);
      audioDirection = (match?.[1] as MediaDirection | undefined) ?? 'sendrecv';
    } else if (section.startsWith('m=application') && /webrtc-datachannel/.test(section)) {
      hasDataChannel = true;
    }
  }
  return { audioDirection, hasDataChannel };
}

/** The answerer's direction for an offered one. */
export function answerDirection(offered: MediaDirection): MediaDirection {
  if (offered === 'sendrecv') return 'sendrecv';
  if (offered === 'recvonly') return 'sendonly';
  if (offered === 'sendonly') return 'recvonly';
  return 'inactive';
}
