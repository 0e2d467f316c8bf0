import { ConfigError, helpText, parseConfig } from './config/config.js';
import { createLogger } from './core/logger.js';
import { StoreOpenError } from './store/errors.js';
import { createApp } from './app.js';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(helpText() + '\n');
    return;
  }
  let config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Call Santa cannot start: ${err.message}\nRun with --help to see every variable.\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  let app;
  try {
    app = await createApp({ config, logger });
  } catch (err) {
    if (err instanceof StoreOpenError) {
      process.stderr.write(`Call Santa cannot start: ${err.message}\n`);
      process.exit(3);
    }
    throw err;
  }
  const address = await app.listen();
  const scheme = config.tls ? 'https' : 'http';
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  logger.info(
    {
      url: `${scheme}://${host}:${address.port}`,
      realtime: config.openai.apiKey ? 'openai' : 'simulated',
      payments: config.stripe.secretKey ? 'stripe' : 'dev (simulated, no money moves)',
      admin: config.adminToken ? 'on' : 'off',
    },
    'Call Santa server listening',
  );
  if (config.production && config.openai.apiKey && !config.openai.zeroDataRetention) {
    logger.warn(
      'OPENAI_ZERO_DATA_RETENTION is not true: promise P1 holds for the model provider only with zero data retention (docs/OPERATIONS.md)',
    );
  }
  if (config.production && !config.tls) {
    logger.warn('No TLS_CERT_FILE/TLS_KEY_FILE: terminate TLS 1.3 in front of this server (promise P16)');
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // The drain (app.close): no new connections or calls; live calls handed over to the other
    // processes (with REDIS_URL) or ended and settled; sockets closed so clients reconnect
    // elsewhere; the store flushed. A deploy restarting processes one by one drops no call.
    logger.info({ signal, liveCalls: app.services.calls.liveCount() }, 'draining and shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    try {
      await app.close();
      process.exit(0);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'shutdown failed');
      process.exit(1);
    }
  };
  // Closing the Redis connections rejects the commands still queued on them (the streams
  // adapter's last reads, a limiter's counter) with "Connection is closed", some with no one
  // left to catch it. During the drain that is expected and must not cut the drain short (the
  // store not closed, the exit code 1 a deploy reads as a crash); at any other time it stays fatal.
  process.on('unhandledRejection', (reason: unknown) => {
    if (!stopping) throw reason;
    logger.warn({ err: reason instanceof Error ? reason.message : String(reason) }, 'a rejection during the drain');
  });
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Call Santa crashed at start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
