import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../store/types.js';
import type { AccountsService } from '../accounts/service.js';
import type { AuditService } from '../audit/service.js';
import type { SweepStep } from '../retention/service.js';

/** Where each count comes from: the module that owns the rows (and the store for its own state). */
export interface MetricsSources {
  store: Pick<Store, 'status'>;
  accounts: Pick<AccountsService, 'census'>;
  audit: Pick<AuditService, 'count'>;
  /** Live calls right now (the calls module). */
  liveCalls: () => Promise<number> | number;
  outboxPending: () => Promise<number>;
}

/**
 * Prometheus metrics for GET /admin/metrics: counts and timings only, never a label that
 * carries an id, email or path parameter. One registry per app, so tests that run several
 * servers in one process do not share or clash.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;
  private readonly retentionItems: Counter<'step'>;
  private readonly retentionRuns: Counter<'result'>;
  private readonly socketEventsDropped: Counter;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'callsanta_' });
    this.httpRequests = new Counter({
      name: 'callsanta_http_requests_total',
      help: 'HTTP requests by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'callsanta_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.retentionItems = new Counter({
      name: 'callsanta_retention_items_total',
      help: 'Items deleted, purged or compacted by retention sweeps',
      labelNames: ['step'],
      registers,
    });
    this.retentionRuns = new Counter({
      name: 'callsanta_retention_runs_total',
      help: 'Retention sweeps by result',
      labelNames: ['result'],
      registers,
    });
    this.socketEventsDropped = new Counter({
      name: 'callsanta_socket_events_dropped_total',
      help: "Socket events not sent to the other processes: too many were waiting for Redis (this process's own sockets got them)",
      registers,
    });
    const { store, accounts, audit } = sources;
    new Gauge({
      name: 'callsanta_accounts',
      help: 'Accounts by status',
      labelNames: ['status'],
      registers,
      async collect() {
        const census = await accounts.census();
        this.set({ status: 'active' }, census.active);
        this.set({ status: 'closed' }, census.closed);
      },
    });
    new Gauge({
      name: 'callsanta_calls_live',
      help: 'Calls in progress',
      registers,
      async collect() {
        this.set(await sources.liveCalls());
      },
    });
    new Gauge({
      name: 'callsanta_outbox_pending',
      help: 'Emails waiting in the outbox',
      registers,
      async collect() {
        this.set(await sources.outboxPending());
      },
    });
    new Gauge({
      name: 'callsanta_audit_entries',
      help: 'Entries in the audit log',
      registers,
      async collect() {
        this.set(await audit.count());
      },
    });
    new Gauge({
      name: 'callsanta_store_pending_writes',
      help: 'Store shards waiting to be written',
      registers,
      collect() {
        this.set(store.status().pendingWrites);
      },
    });
  }

  /** Counts and times every request by its route pattern (e.g. /api/profiles/:id), never the raw path. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      const end = this.httpDuration.startTimer();
      res.on('finish', () => {
        const pattern = (req.route as { path?: unknown } | undefined)?.path;
        const route = typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : 'unmatched';
        this.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
        end({ method: req.method, route });
      });
      next();
    };
  }

  retentionItem(step: SweepStep): void {
    this.retentionItems.inc({ step });
  }

  retentionRun(result: 'ok' | 'failed'): void {
    this.retentionRuns.inc({ result });
  }

  /** An event for the other processes was dropped while Redis was away (server/sockets/local-first-adapter.ts). */
  socketEventDropped(): void {
    this.socketEventsDropped.inc();
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
