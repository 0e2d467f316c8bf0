import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/server.js';
import { admin, expectStatus, publishPolicy, scriptedFamily } from './test-helpers.js';

const root = new URL('../..', import.meta.url).pathname;

/**
 * P19: the only third parties are the model provider, the payment processor and
 * infrastructure (mail). Any code that can open an outbound connection must live in one of
 * these places; a new outbound integration anywhere else fails this test until it is
 * reviewed, added here and to the privacy policy.
 */
const ALLOWED_OUTBOUND: Record<string, string> = {
  'server/realtime/': 'the model provider (OpenAI Realtime) for the live call',
  'server/santa/': "the model provider's moderation endpoint, for Santa's guardrail",
  'server/payments/': 'the payment processor (Stripe); the dev provider posts to this server over loopback',
  'server/mail/': "outgoing mail through the operator's SMTP server",
  'server/accounts/password-reset-routes.ts':
    "the reset page's own script, posting to this same server from the parent's browser",
};

const OUTBOUND = [
  /\bfetch\(/,
  /\bhttps?\.(request|get)\(/,
  /\bnew WebSocket\(/,
  /\b(net|tls)\.(connect|createConnection)\(/,
  /from '(openai|stripe|nodemailer|ws|undici|axios|got|node-fetch|socket\.io-client)'/,
  /from 'node:(dgram|dns)'/,
];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.startsWith('test-')) out.push(path);
  }
  return out;
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('P19: no third parties beyond the model provider, the payment processor and infrastructure', () => {
  it('only the model provider, payment and mail modules contain code that opens outbound connections', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(join(root, 'server'))) {
      const rel = relative(root, file);
      const text = readFileSync(file, 'utf8');
      const hit = OUTBOUND.find((re) => re.test(text));
      if (hit && !Object.keys(ALLOWED_OUTBOUND).some((p) => rel.startsWith(p))) offenders.push(`${rel} (${hit})`);
    }
    expect(offenders, 'outbound code outside the reviewed third-party modules').toEqual([]);
  });

  it('with the embedded defaults a whole family session opens no connection beyond this machine', async () => {
    const remotes: string[] = [];
    const onSocket = (message: unknown) => {
      const socket = (message as { socket: Socket }).socket;
      socket.once('connect', () => remotes.push(socket.remoteAddress ?? 'unknown'));
    };
    subscribe('net.client.socket', onSocket);
    try {
      server = await startTestServer();
      const family = await scriptedFamily(server);
      await publishPolicy(server, 'p19', { material: false, effectiveInDays: 1 });
      expectStatus(await server.api.post('/api/auth/password-reset/request', { email: family.email }), 202);
      await server.app.services.passwordResets.settled();
      expectStatus(await server.api.get('/api/me/export', family.token), 200);
      expectStatus(await admin(server.api).post('/admin/retention/run'), 200);
    } finally {
      unsubscribe('net.client.socket', onSocket);
    }
    expect(remotes.length).toBeGreaterThan(0);
    expect(remotes.filter((r) => r !== '127.0.0.1' && r !== '::1' && r !== '::ffff:127.0.0.1')).toEqual([]);
  });
});
