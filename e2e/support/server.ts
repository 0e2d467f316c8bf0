import { FakeClock, systemClock } from '../../server/core/clock.js';
import { SimulatedSantaProvider } from '../../server/realtime/simulated-santa.js';
import { payDevCheckout } from '../../test/support/dev-checkout.js';
import { startTestServer, type TestServer } from '../../test/support/server.js';

export type { TestServer };

/**
 * The real server in this process on 127.0.0.1: lowdb in a temp dir, dev payments (no
 * Stripe key) and Simulated Santa (no OpenAI key). Two clocks on purpose: the server's
 * clock is a FakeClock, so the test decides how many seconds a call is metered and the
 * balance check is exact; Santa himself runs on real time, so his voice and his words
 * stream to the browser as they would in a real call.
 */
const E2E_ENV = { LOG_LEVEL: 'warn', OPENAI_API_KEY: '', STRIPE_SECRET_KEY: '', STRIPE_WEBHOOK_SECRET: '' };

export function startE2eServer(): Promise<TestServer> {
  const realtime = new SimulatedSantaProvider({ clock: systemClock });
  // Starts at the real time: the browser dates the usage chart by its own clock.
  return startTestServer({ clock: new FakeClock(Date.now()), env: E2E_ENV, app: { realtime } });
}

/**
 * The server stopped and started again at the same address, on the same data and clock, as a
 * restart on a parent's machine: the extension, still pointed at it, reconnects by itself.
 * Santa is a new instance, as in a new process (a closed provider takes no more calls).
 */
export async function restartE2eServer(old: TestServer): Promise<TestServer> {
  await old.stop();
  const realtime = new SimulatedSantaProvider({ clock: systemClock });
  return startTestServer({
    clock: old.clock,
    dataDir: old.dataDir,
    port: Number(new URL(old.url).port),
    env: E2E_ENV,
    app: { realtime },
  });
}

/** What the server holds for the account, straight from the API (the test's own view, not the UI's). */
export async function creditsOf(
  server: TestServer,
  token: string,
): Promise<{ balanceSeconds: number; availableSeconds: number }> {
  const res = await server.api.get('/api/credits', token);
  if (res.status !== 200) throw new Error(`GET /api/credits: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { balanceSeconds: number; availableSeconds: number };
}

/** Buys a pack through the dev checkout over plain HTTP (the Firefox test's setup). */
export async function buyPackOverHttp(server: TestServer, token: string, packId = 'pack-10'): Promise<void> {
  const checkout = await server.api.post('/api/credits/checkout', { packId }, token);
  if (checkout.status !== 200) throw new Error(`checkout: ${checkout.status} ${JSON.stringify(checkout.body)}`);
  const pay = await payDevCheckout(String(checkout.body.url));
  if (pay.status !== 303) throw new Error(`dev pay: ${pay.status}`);
}
