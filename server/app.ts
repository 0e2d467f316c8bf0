import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { constants as tlsConstants } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import { startupWarnings, type Config } from './config/config.js';
import { systemClock, type Clock, type TimerHandle } from './core/clock.js';
import { createLogger, type Logger } from './core/logger.js';
import { corsCheck } from './core/cors.js';
import { errorHandler, handler, notFoundHandler, requireJson } from './core/http.js';
import { openStore } from './store/lowdb-store.js';
import { openPgStore } from './store/pg-store.js';
import { toIso, toIsoOrNull } from '../shared/units.js';
import type { Store } from './store/types.js';
import { AuditService } from './audit/service.js';
import { AccountsService } from './accounts/service.js';
import { requireAuth } from './accounts/auth.js';
import { authRoutes, meRoutes } from './accounts/routes.js';
import { makeAccountView } from './accounts/view.js';
import { ConsentService } from './consent/service.js';
import { consentRoutes, policyRoutes } from './consent/routes.js';
import { PhotosService } from './photos/service.js';
import { photoUploadRoutes, profilePhotoRoutes } from './photos/routes.js';
import { ProfilesService } from './profiles/service.js';
import { profileRoutes } from './profiles/routes.js';
import { createSocketHub, type Notifier, type SocketServer } from './sockets/hub.js';
import { hardenEngineHttp } from './sockets/engine-http.js';
import { CreditsService } from './credits/service.js';
import { creditsRoutes } from './credits/routes.js';
import { PaymentsService } from './payments/service.js';
import { paymentsProvider } from './payments/setup.js';
import { checkoutReturnRoutes, devCheckoutRoutes, stripeWebhookRoutes, WEBHOOK_PATH } from './payments/routes.js';
import { MailService } from './mail/service.js';
import { smtpTransport } from './mail/smtp.js';
import { DEV_OUTBOX_PATH, devOutboxRoutes } from './mail/dev-outbox.js';
import { NoticesService } from './notices/service.js';
import { noticeRoutes } from './notices/routes.js';
import { policyPageRoutes } from './notices/policy-page.js';
import { AccountPurger } from './privacy/purge.js';
import { PrivacyService } from './privacy/service.js';
import { privacyRoutes } from './privacy/routes.js';
import type { LiveCalls } from './privacy/live-calls.js';
import type { RealtimeProvider } from './realtime/provider.js';
import type { CallsService } from './calls/service.js';
import { chooseRealtimeProvider, createCallsService } from './calls/module.js';
import { callPeers, registerCallPeerEvents, registerCallSockets } from './calls/socket.js';
import { newProcessId } from './calls/lease.js';
import { callRoutes } from './calls/routes.js';
import { CallRecords } from './calls/records.js';
import { RetentionService } from './retention/service.js';
import { RetentionScheduler } from './retention/scheduler.js';
import { JOBS, JobsService } from './jobs/service.js';
import { SupportService } from './support/service.js';
import { supportRoutes } from './support/routes.js';
import { PasswordResetService } from './accounts/password-reset.js';
import { passwordResetPageRoutes, passwordResetRoutes } from './accounts/password-reset-routes.js';
import { AdminService } from './admin/service.js';
import { adminAuth } from './admin/auth.js';
import { adminRoutes } from './admin/routes.js';
import { Metrics } from './admin/metrics.js';
import { RedisConnection } from './redis/connection.js';
import { holdProcessLock, type ProcessLock } from './store/pg/process-lock.js';
import { redisRateLimits } from './redis/rate-limits.js';
import { memoryRateLimits, type RateLimits } from './core/rate-limit.js';

/** How long an idle HTTP keep-alive connection stays open (see the listener below). */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** How long a stopping process lets requests in flight finish before it cuts their connections. */
export const SHUTDOWN_GRACE_MS = 2000;

export interface AppOptions {
  config: Config;
  clock?: Clock;
  logger?: Logger;
  /** An already-open store (tests share one); otherwise the lowdb store under DATA_DIR is opened. */
  store?: Store;
  /** The realtime provider; default: OpenAI with OPENAI_API_KEY, otherwise Simulated Santa. */
  realtime?: RealtimeProvider;
  /** This process's id (lease.ts); default: a new one. Tests name their processes. */
  processId?: string;
  /**
   * Whether other processes share the store (the default: with REDIS_URL). Then a shutdown hands
   * live calls over instead of ending them; tests of several processes on one store without
   * Redis say so here.
   */
  clustered?: boolean;
}

export interface App {
  readonly express: Express;
  readonly http: HttpServer;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly services: {
    audit: AuditService;
    accounts: AccountsService;
    consent: ConsentService;
    profiles: ProfilesService;
    photos: PhotosService;
    credits: CreditsService;
    calls: CallsService;
    payments: PaymentsService;
    mail: MailService;
    notices: NoticesService;
    privacy: PrivacyService;
    purger: AccountPurger;
    retention: RetentionScheduler;
    /** Named jobs that run on one process at a time across every process on the store. */
    jobs: JobsService;
    support: SupportService;
    passwordResets: PasswordResetService;
  };
  readonly notifier: Notifier;
  /** The Redis connections with REDIS_URL, else null. */
  readonly redis: RedisConnection | null;
  /** The socket.io server (the authorization matrix enumerates its events). */
  readonly io: SocketServer;
  /** Starts background work (timers, recovery) and listens; resolves with the bound address. */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /** Graceful shutdown: stop accepting, end live work, flush and close the store. */
  close(): Promise<void>;
}

/** Every /api path under these prefixes needs a bearer token; add a module's prefix here. */
const PROTECTED_API_PREFIXES = ['/me', '/profiles', '/credits', '/calls', '/support'];

/** The composition root: the only place that knows every module. */
export async function createApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  for (const warning of startupWarnings(config)) logger.warn(warning);
  const store: Store =
    options.store ??
    (config.databaseUrl
      ? await openPgStore({ url: config.databaseUrl, dataKey: config.dataKey ?? '', clock })
      : await openStore({ dataDir: config.dataDir, dataKey: config.dataKey, clock }));
  // On PostgreSQL: alone without REDIS_URL (a second such server refuses to start, as lowdb's
  // LOCK file does for a data directory), or shared with the other servers that have REDIS_URL.
  let processLock: ProcessLock | null = null;
  if (config.databaseUrl && !options.store) {
    try {
      processLock = await holdProcessLock(config.databaseUrl, config.redisUrl ? 'shared' : 'alone', logger);
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  const app = express();
  const http = config.tls
    ? (createHttpsServer(
        {
          cert: readFileSync(config.tls.certFile),
          key: readFileSync(config.tls.keyFile),
          minVersion: 'TLSv1.3',
          secureOptions: tlsConstants.SSL_OP_NO_TLSv1_2,
        },
        app,
      ) as unknown as HttpServer)
    : createHttpServer(app);
  // An idle keep-alive connection is kept longer than a proxy keeps its upstream ones (nginx's
  // keepalive_timeout is 60 s): were Node (5 s by default) to close first, a proxy could send
  // the next request into a connection that is closing, and answer a POST with a 502.
  http.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  http.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  // Requests Node's own HTTP parser refuses (headers over 16 KB, malformed HTTP) never reach
  // Express: they too answer in the one JSON error shape, then the connection closes.
  http.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const error = tooLarge
      ? { code: 'payload_too_large', message: 'The request headers are too large' }
      : { code: 'invalid_request', message: 'The request could not be read' };
    const body = JSON.stringify({ error });
    socket.end(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  const allowOrigin = corsCheck(config.extensionOrigins);

  // REDIS_URL: several processes share socket events and count every rate limit together.
  const redis = config.redisUrl ? new RedisConnection(config.redisUrl, config.redisKeyPrefix, clock, logger) : null;
  const limits: RateLimits = redis
    ? redisRateLimits(redis, memoryRateLimits(clock), clock, logger)
    : memoryRateLimits(clock);
  const audit = new AuditService({ store, clock });
  const jobs = new JobsService({ store, logger });
  const accounts = new AccountsService({
    store,
    clock,
    audit,
    options: { sessionTtlDays: config.sessionTtlDays, signupsPerAddressPerHour: config.signupsPerAddressPerHour },
    limits,
  });
  // Before the socket hub, which counts in it; the mail and calls it reads are asked only at a scrape.
  const metrics = new Metrics({
    store,
    accounts,
    audit,
    outboxPending: () => mail.pendingCount(),
    liveCalls: () => calls.liveCount(),
  });
  const {
    io,
    notifier,
    close: closeHub,
  } = createSocketHub(http, accounts, allowOrigin, logger, redis ?? undefined, {
    onRemoteEventDropped: () => metrics.socketEventDropped(),
  });
  // One helmet for both: socket.io's polling answers bypass Express and get the same headers.
  const securityHeaders = helmet();
  hardenEngineHttp(io.engine, securityHeaders);
  accounts.onSessionsRevoked((ids) => ids.forEach((id) => notifier.disconnectSession(id)));
  // Consent asks payments (declared below; asked only once requests run) for a payment made before consent.
  const consent: ConsentService = new ConsentService({
    store,
    clock,
    audit,
    payments: { firstCompleted: (accountId) => payments.firstCompleted(accountId) },
  });
  await consent.ensureInitialPolicy();
  const photos = new PhotosService({ store, clock, limits });
  // The call records' door for other modules: profiles detach a deleted child's calls through it.
  const callRecords = new CallRecords({ store });
  const profiles = new ProfilesService({ store, clock, audit, consent, photos, calls: callRecords });
  const credits = new CreditsService({ store, clock, audit, notifier, packs: config.packs });
  const { provider: paymentProvider, webhookSecret } = paymentsProvider(config, logger);
  const payments = new PaymentsService({ store, clock, credits, consent, accounts, provider: paymentProvider, logger });

  // Privacy, retention, notices, mail, support and admin (issue 6).
  const publicUrl = config.publicUrl ?? `http://localhost:${config.port}`;
  const mailTransport = config.smtpUrl ? smtpTransport(config.smtpUrl) : null;
  const mail = new MailService({
    store,
    clock,
    accounts,
    transport: mailTransport,
    jobs,
    options: { from: config.mailFrom },
    logger,
  });
  const notices = new NoticesService({
    store,
    clock,
    consent,
    accounts,
    mail,
    notifier,
    jobs,
    options: { publicUrl },
    logger,
  });
  // Calls (issue 4): the provider, the service, its sockets. Privacy and admin end calls through it.
  const realtime = options.realtime ?? chooseRealtimeProvider(config, clock, logger);
  const processId = options.processId ?? newProcessId();
  const clustered = options.clustered ?? config.redisUrl !== undefined;
  logger.info({ processId }, 'server process id (the owner its live calls name)');
  const calls = createCallsService({
    processId,
    clustered,
    // Nudges travel only through a cluster adapter (REDIS_URL); the in-memory one has nobody to tell.
    peers: callPeers(io, redis !== null),
    config,
    store,
    clock,
    logger,
    credits,
    consent,
    accounts,
    profiles,
    notifier,
    provider: realtime,
  });
  registerCallSockets(io, {
    calls,
    accounts,
    clock,
    logger,
    limits,
    // The session check before it has just read the store, so a store back from a blink says so here.
    canStartCalls: () => store.status().ok && (redis?.isUp() ?? true),
  });
  registerCallPeerEvents(io, calls, logger);
  const liveCalls: LiveCalls = calls;
  const passwordResets = new PasswordResetService({
    store,
    clock,
    audit,
    accounts,
    mail,
    notifier,
    options: { publicUrl },
    logger,
    limits,
  });
  const support = new SupportService({ store, clock, audit, limits });
  const purger = new AccountPurger({
    clock,
    audit,
    profiles,
    parts: { accounts, passwordResets, consent, notices, support, mail, calls: callRecords, credits, payments },
  });
  const privacy = new PrivacyService({
    store,
    clock,
    audit,
    accounts,
    parts: { consent, profiles, credits, payments, calls: callRecords, notices, mail, support },
    purger,
    liveCalls,
    mail,
    notifier,
    options: { accountPurgeDays: config.accountPurgeDays },
    limits,
  });
  const retentionSweeps = new RetentionService({
    store,
    clock,
    audit,
    purger,
    photos,
    mail,
    accounts,
    passwordResets,
    calls,
    credits,
    support,
    options: { onItem: (step) => metrics.retentionItem(step), onSweep: (result) => metrics.retentionRun(result) },
    logger,
  });
  const retention = new RetentionScheduler({
    service: retentionSweeps,
    jobs,
    clock,
    intervalMs: config.retentionIntervalMs,
    logger,
  });
  const admin = new AdminService({
    clock,
    audit,
    accounts,
    profiles,
    consent,
    credits,
    payments,
    calls,
    notices,
    retention,
    mail,
    support,
  });

  const accountView = makeAccountView({
    consent: (id) => consent.state(id),
    credit: (id) => credits.state(id),
    notices: (id) => notices.forAccount(id),
  });

  app.disable('x-powered-by');
  // Forwarded headers count only from the proxies the operator named (TRUST_PROXY): otherwise any
  // client could name its own address per request and reset every per-address limit.
  app.set('trust proxy', config.trustProxy);
  app.use(securityHeaders);
  app.use(metrics.middleware());
  // An acknowledged change is a durable one (DESIGN §5): any request that may have written
  // answers only once the group commit has put it on disk, so a crash right after a 2xx loses
  // nothing (test/faults). Concurrent requests share one flush; reads are not held up.
  app.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    const end = res.end.bind(res) as (...args: unknown[]) => unknown;
    res.end = ((...args: unknown[]) => {
      store.flush().then(
        () => end(...args),
        (err: unknown) => {
          // A refusal still goes out; an acknowledgement that is not on disk does not.
          if (res.statusCode >= 400) return end(...args);
          logger.error(
            { err: err instanceof Error ? err.message : String(err), path: req.path },
            'store flush failed: the acknowledgement is withheld',
          );
          res.destroy();
        },
      );
      return res;
    }) as typeof res.end;
    next();
  });
  app.use(
    cors({
      origin: (origin, cb) => cb(null, allowOrigin(origin)),
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      exposedHeaders: ['Retry-After', 'Content-Disposition', 'WWW-Authenticate'],
      maxAge: 600,
    }),
  );
  // cors answers the preflight of an allowed origin only; a refused origin's preflight ends
  // here too, with 204 and no Access-Control-Allow-Origin, instead of reaching a route (a 401).
  app.use((req, res, next) => {
    if (req.method !== 'OPTIONS') return next();
    res.vary('Origin');
    res.status(204).end();
  });

  app.get(
    '/healthz',
    handler(async (_req, res) => {
      // A database answers a round trip; the embedded store's health is its own state.
      const reachable = store.probe ? await store.probe() : null;
      const s = store.status();
      const storeOk = s.ok && reachable === null;
      const lastFlushAt = toIsoOrNull(s.lastFlushAt);
      // Ready (200) only when the store and, with REDIS_URL, Redis are up: a load balancer
      // sends new work elsewhere meanwhile; live calls on this process go on (docs/OPERATIONS.md).
      const r = redis?.health();
      const ok = storeOk && (r?.ok ?? true);
      res.status(ok ? 200 : 503).json({
        ok,
        store: {
          kind: s.kind,
          ok: storeOk,
          pendingWrites: s.pendingWrites,
          lastFlushAt,
          ...(reachable ? { error: reachable } : {}),
        },
        ...(r
          ? {
              redis: {
                ok: r.ok,
                status: r.status,
                ...(r.lastError ? { error: r.lastError } : {}),
                ...(r.downSince !== null ? { downSince: toIso(r.downSince) } : {}),
              },
            }
          : {}),
      });
    }),
  );

  // The photo upload takes a raw image body, so it is mounted before the JSON-only /api router.
  app.use('/api/photos', photoUploadRoutes(photos, requireAuth(accounts)));
  // The Stripe webhook verifies its signature over the raw bytes, so it too comes before the JSON parser.
  app.use(stripeWebhookRoutes(payments, webhookSecret));

  const api = express.Router();
  // Every /api answer may carry personal data (the account, a profile, credit): no cache keeps one.
  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  api.use(requireJson);
  api.use(express.json({ limit: '64kb', strict: true }));
  const auth = requireAuth(accounts);
  api.use('/auth', authRoutes(accounts, accountView));
  api.use(
    '/auth',
    passwordResetRoutes(passwordResets, () => mail.delivery),
  );
  api.use(policyRoutes(consent));
  api.use(consentRoutes(consent, auth));
  // Sign-in is required under these prefixes only, so an unknown /api path is a 404, not a 401.
  api.use(PROTECTED_API_PREFIXES, auth);
  api.use(meRoutes(accounts, accountView));
  api.use(profileRoutes(profiles), profilePhotoRoutes(profiles));
  api.use(creditsRoutes({ credits, payments, publicUrl: config.publicUrl }));
  api.use(callRoutes(calls));
  api.use(privacyRoutes(privacy, accountView), noticeRoutes(notices), supportRoutes(support));
  app.use('/api', api);

  // Public pages: the policy (P18) and the page a password reset link opens.
  app.use(policyPageRoutes(consent), passwordResetPageRoutes());
  // Where a checkout returns to; and, with the dev provider, its local test checkout, which
  // delivers a signed event to this server's own webhook over loopback.
  app.use(checkoutReturnRoutes());
  if (paymentProvider.kind === 'dev') {
    const webhookUrl = () => {
      const a = http.address() as AddressInfo;
      const host =
        a.address === '0.0.0.0'
          ? '127.0.0.1'
          : a.address === '::'
            ? '[::1]'
            : a.family === 'IPv6'
              ? `[${a.address}]`
              : a.address;
      return `${config.tls ? 'https' : 'http'}://${host}:${a.port}${WEBHOOK_PATH}`;
    };
    app.use(devCheckoutRoutes({ payments, clock, logger, webhookSecret, webhookUrl, publicUrl: config.publicUrl }));
  }
  // Without SMTP_URL no email leaves the server; in development its outbox page shows what would have been sent.
  const devOutbox = !mailTransport && !config.production;
  if (devOutbox) app.use(devOutboxRoutes(mail));
  // Admin paths exist only with ADMIN_TOKEN; without it they are plain 404s.
  if (config.adminToken) {
    app.use('/admin', adminRoutes({ admin, metrics }, adminAuth(config.adminToken, clock, { limits })));
  }

  app.use(notFoundHandler);
  app.use(errorHandler(logger));

  let closed = false;
  let mailTimer: TimerHandle | null = null;
  let fanOutTimer: TimerHandle | null = null;
  let fanOutRun: Promise<unknown> | null = null;
  return {
    express: app,
    http,
    store,
    clock,
    logger,
    services: {
      audit,
      accounts,
      consent,
      credits,
      payments,
      profiles,
      photos,
      calls,
      mail,
      notices,
      privacy,
      purger,
      retention,
      jobs,
      support,
      passwordResets,
    },
    notifier,
    redis,
    io,
    async listen(port = config.port, host = config.host) {
      // Finish a policy fan-out a crash interrupted, then start the retention timer (its
      // first sweep runs now) and the outbox delivery retries.
      await notices.resumeFanOuts();
      // Calls whose process is gone are taken over (OpenAI) or ended and settled from their
      // checkpoints before anyone can call. A process alone on its store (lowdb's LOCK, or
      // PostgreSQL without REDIS_URL and its advisory lock) knows every call it finds open is
      // such a call. Then the watcher looks on, every CALL_LEASE_WATCH_MS.
      // One process at a time (the claims are conditional anyway; the settling scan need not run twice at once).
      await jobs.runExclusive(JOBS.callRecovery, () => calls.recover({ everyOpen: !clustered }), { wait: true });
      calls.startWatching();
      // A process that starts while Redis is away still starts (it reports so on /healthz and
      // refuses new calls until Redis is back); one with Redis reachable listens once connected.
      if (redis && !(await redis.waitUntilUp(5000)))
        logger.warn('Redis is not reachable yet: /healthz answers 503 and new calls are refused until it is');
      retention.start();
      // A fan-out another process left half-done (it died) is finished here, on the retention cadence.
      fanOutTimer ??= clock.setInterval(() => {
        if (fanOutRun) return;
        fanOutRun = notices
          .resumeFanOuts()
          .catch((err: unknown) => logger.error({ err: (err as Error).message }, 'policy fan-out resume failed'))
          .finally(() => (fanOutRun = null));
      }, config.retentionIntervalMs);
      if (mailTransport) mailTimer ??= clock.setInterval(() => mail.kick(), 60_000);
      mail.kick();
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          if (!mailTransport) {
            // Said once at start: password resets and notices would otherwise vanish without a word.
            const a = http.address() as AddressInfo;
            const where = devOutbox
              ? `${config.tls ? 'https' : 'http'}://localhost:${a.port}${DEV_OUTBOX_PATH}`
              : 'GET /admin/outbox';
            logger.warn(
              { outbox: where },
              `SMTP_URL is not set: no email is sent (password resets, notices); the messages wait in the outbox: ${where}`,
            );
          }
          resolve(http.address() as AddressInfo);
        });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      // No new connections from here on: a client whose socket dropped must not reconnect to a
      // process that is ending its calls (it would be told they ended, as if by this process).
      const listenerClosed = new Promise<void>((resolve) => (http.listening ? http.close(() => resolve()) : resolve()));
      // While the store is still open: with other processes on the store (clustered), every live
      // OpenAI call is handed over at once (its lease ends now; another process's watcher takes
      // it within CALL_LEASE_WATCH_MS); alone, or for Simulated Santa, it ends and is settled
      // ('server_shutdown'). Then the sockets close, and their clients reconnect elsewhere.
      await calls.shutdown();
      await realtime.close();
      // socket.io's close waits for the HTTP server's, and that for every connection to end. A
      // request in flight gets a moment to be answered; then what is left is cut: a connection
      // that never sent a whole request (a browser's preconnect) would otherwise hold the stop
      // until its headers timeout, a minute or more. Wall time: an injected test clock stands still.
      const ioClosed = new Promise<void>((resolve) => io.close(() => resolve()));
      let grace: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([ioClosed, new Promise<void>((resolve) => (grace = setTimeout(resolve, SHUTDOWN_GRACE_MS)))]);
      clearTimeout(grace);
      http.closeAllConnections?.();
      await ioClosed;
      closeHub();
      await redis?.close();
      await listenerClosed;
      await retention.stop();
      await passwordResets.settled();
      mailTimer?.cancel();
      fanOutTimer?.cancel();
      await fanOutRun;
      mail.stop();
      await mail.idle();
      mailTransport?.close?.();
      await store.close();
      await processLock?.release();
    },
  };
}
