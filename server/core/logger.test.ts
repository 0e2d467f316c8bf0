import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger('info', sink), text: () => lines.join('') };
}

describe('structured logs never carry secrets or children’s words', () => {
  it('redacts tokens, passwords, SDP, transcripts and profile text wherever they appear', () => {
    const { logger, text } = capture();
    logger.info(
      {
        token: 'tok-secret',
        password: 'pw-secret',
        sdp: 'v=0 sdp-secret',
        text: 'transcript-secret',
        wishList: ['pony-secret'],
        body: { behaviorNotes: 'notes-secret', name: 'child-name-secret', email: 'mail-secret@example.test' },
        req: { headers: { authorization: 'Bearer header-secret' } },
        callId: 'c-1',
      },
      'event',
    );
    const out = text();
    for (const secret of [
      'tok-secret',
      'pw-secret',
      'sdp-secret',
      'transcript-secret',
      'pony-secret',
      'notes-secret',
      'child-name-secret',
      'mail-secret',
      'header-secret',
    ]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('c-1');
    expect(JSON.parse(out).token).toBe('[redacted]');
  });
});
