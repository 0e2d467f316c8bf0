/**
 * The server under measurement, in its own process so its memory and CPU are its own:
 * the real app (createApp) on a seeded data directory, with the bench's fake realtime
 * provider (BENCH_PROVIDER_LATENCY_MS) or, with BENCH_PROVIDER=simulated, Simulated Santa.
 * Talks to the bench over the fork IPC channel: 'ready', and answers 'stats', 'gc' and 'settle'.
 */
import { parseConfig } from '../../server/config/config.js';
import { createLogger } from '../../server/core/logger.js';
import { createApp } from '../../server/app.js';
import { FakeRealtimeProvider } from '../../test/fakes/realtime-provider.js';

export interface ChildStats {
  rss: number;
  heapUsed: number;
  external: number;
  userMicros: number;
  systemMicros: number;
  liveCalls: number;
  sockets: number;
  at: number;
}

async function main(): Promise<void> {
  const config = parseConfig({
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
  });
  const realtime =
    process.env.BENCH_PROVIDER === 'simulated'
      ? undefined
      : new FakeRealtimeProvider(Number(process.env.BENCH_PROVIDER_LATENCY_MS ?? 0), { conversation: false });
  const app = await createApp({ config, logger: createLogger(config.logLevel), ...(realtime ? { realtime } : {}) });
  const address = await app.listen(0, '127.0.0.1');
  const stats = (): ChildStats => {
    const m = process.memoryUsage();
    const r = process.resourceUsage();
    return {
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      userMicros: r.userCPUTime,
      systemMicros: r.systemCPUTime,
      liveCalls: app.services.calls.liveCount(),
      sockets: app.io.of('/').sockets.size,
      at: Date.now(),
    };
  };
  process.on('message', (msg: { type: string; id: number }) => {
    if (msg.type === 'settle') {
      // The start-up retention sweep (a seeded season has data past its deadlines) and the
      // compaction after it are a one-off: figures are taken once they are over.
      void app.services.retention
        .idle()
        .then(() => app.store.flush())
        .then(() => process.send?.({ type: 'reply', id: msg.id, stats: stats() }));
      return;
    }
    if (msg.type === 'gc') {
      (globalThis as { gc?: () => void }).gc?.();
      (globalThis as { gc?: () => void }).gc?.();
    }
    if (msg.type === 'stop') {
      void app.close().then(() => process.exit(0));
      return;
    }
    process.send?.({ type: 'reply', id: msg.id, stats: stats() });
  });
  process.send?.({ type: 'ready', port: address.port });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
