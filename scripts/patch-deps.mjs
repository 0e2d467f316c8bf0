#!/usr/bin/env node
// Fixes to dependencies that their newest release does not have yet, applied after every
// install (npm's postinstall, so `npm ci` on a fresh machine and in production alike). Each
// fix names the exact text it replaces: when an upgrade changed that text, the install stops
// here, so the fix is looked at again (dropped if upstream fixed it) instead of silently lost.
// Running it twice changes nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/**
 * werift 0.24.4 (and 0.25.2, the newest): a DTLS client that gets a second HelloVerifyRequest
 * throws and fails the whole peer connection. A second one is ordinary: when the server's
 * answer takes more than half a second (a busy event loop is enough), the client sends its
 * ClientHello again and the server answers both (RFC 6347 4.2.1: clients SHOULD handle
 * several). It also must not restart flight 3 once the handshake has moved on: that would
 * clear the handshake messages the Finished message is computed over. Our flight 3 is
 * already on its way and retransmits itself until the server answers, so the late
 * HelloVerifyRequest is dropped. werift is the DTLS client wherever it answers an offer
 * (Simulated Santa, the OpenAI fake).
 */
const WERIFT_FLIGHT3 = {
  why: 'werift DTLS client: a repeated HelloVerifyRequest no longer fails the connection',
  files: ['node_modules/werift/lib/index.mjs', 'node_modules/werift/lib/dtls/src/flight/client/flight3.js'],
  from: /if \(this\.dtls\.flight === 3\)\s*throw new Error\(\);/,
  to: 'if (this.dtls.flight >= 3) return; /* call-santa scripts/patch-deps.mjs: a repeated HelloVerifyRequest */',
};

const PATCHES = [WERIFT_FLIGHT3];

let failed = false;
for (const patch of PATCHES) {
  for (const file of patch.files) {
    const path = join(root, file);
    let text;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      // Not installed here (e.g. a partial install): nothing to fix.
      continue;
    }
    if (text.includes(patch.to)) continue;
    if (!patch.from.test(text)) {
      console.error(`patch-deps: ${file}: the text to fix is not there any more (${patch.why}); review the patch`);
      failed = true;
      continue;
    }
    writeFileSync(path, text.replace(patch.from, patch.to));
    console.log(`patch-deps: ${file}: ${patch.why}`);
  }
}
if (failed) process.exit(1);
