import { isDeepStrictEqual } from 'node:util';
import type { Store, StoreTables, TableName } from './types.js';
import { TABLE_NAMES } from './schema.js';
import { AuditService, type ChainCheck } from '../audit/service.js';
import { creditState, type CreditState } from '../credits/ledger-math.js';
import { systemClock } from '../core/clock.js';
import { oldestFirst } from '../core/order.js';

/** The target already holds data: a copy would mix two installations, so nothing is written. */
export class CopyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyRefusedError';
  }
}

export interface TableCount {
  table: TableName | 'photo files';
  source: number;
  target: number;
}

export interface CopyReport {
  /** Source and target rows per table after the copy (photo files last). */
  counts: TableCount[];
  rows: number;
  photos: number;
  /** The copy alone: rows and photo files written, committed. */
  copyMs: number;
  /** Every target row read back and compared with its source row. */
  rowsCompared: number;
  /** Rows that differ or are missing on the target: `table/id`. */
  rowMismatches: string[];
  audit: { source: ChainCheck; target: ChainCheck };
  /** Accounts whose credit state (balance, available, held, owed) is the same on both stores. */
  balances: { accounts: number; mismatched: string[] };
  ok: boolean;
}

export interface CopyOptions {
  /** Progress lines (rows per table as they go, then the checks). */
  log?: (line: string) => void;
  /** Rows read from the source per batch (default 1,000). */
  batchSize?: number;
  /** Report progress within a table every this many rows (default 10,000). */
  progressEvery?: number;
}

async function counts(store: Store): Promise<Map<TableCount['table'], number>> {
  const out = new Map<TableCount['table'], number>();
  for (const t of TABLE_NAMES) out.set(t, await store[t].count());
  out.set('photo files', (await store.photoFiles.list()).length);
  return out;
}

async function balances(store: Store): Promise<Map<string, CreditState>> {
  const byAccount = new Map<string, Parameters<typeof creditState>[0][number][]>();
  for await (const batch of store.ledger.scan(2000)) {
    for (const e of batch) {
      // Entries kept after a purge carry no account: they are compared as one group.
      const id = e.accountId ?? '(no account)';
      let list = byAccount.get(id);
      if (!list) byAccount.set(id, (list = []));
      list.push(e);
    }
  }
  // Entries in a fixed order: the state is a sum, but a fixed order keeps the comparison exact.
  return new Map([...byAccount].map(([id, list]) => [id, creditState(list.sort(oldestFirst('at')))]));
}

/**
 * Copies every table and every photo file of `source` into an empty `target`, then checks the
 * result: counts per table, every row read back and compared, the audit chain verified on both,
 * every account's credit state equal. Rows keep their ids and every field (deadlines, holds,
 * hashes) byte for byte; they go in through the target's own Table interface, so its sealing,
 * blind indexes and data keys are the ones the server uses.
 *
 * All rows land in one transaction (on PostgreSQL): a copy that fails leaves no row behind.
 * Photo files are written first, one by one, and removed again if the rows fail; a copy killed
 * half-way can leave photo files, and the next run is then refused (docs/OPERATIONS.md says
 * how to start again).
 */
export async function copyStore(source: Store, target: Store, options: CopyOptions = {}): Promise<CopyReport> {
  const log = options.log ?? (() => undefined);
  const batchSize = options.batchSize ?? 1000;
  const every = options.progressEvery ?? 10_000;

  const before = await counts(target);
  const occupied = [...before].filter(([, n]) => n > 0);
  if (occupied.length) {
    throw new CopyRefusedError(
      `the target is not empty (${occupied.map(([t, n]) => `${t}: ${n}`).join(', ')}); store:copy only fills an empty database, so nothing was copied. ` +
        'Copy into a newly created database (docs/OPERATIONS.md, "Moving onto PostgreSQL").',
    );
  }

  const started = Date.now();
  const photoIds = await source.photoFiles.list();
  const written: string[] = [];
  let rows = 0;
  try {
    for (const id of photoIds) {
      const bytes = await source.photoFiles.get(id);
      if (!bytes) continue; // removed while listing: the source is not running, so this does not happen
      await target.photoFiles.put(id, bytes);
      written.push(id);
    }
    log(`photo files: ${written.length}`);
    await target.atomically(async (t: StoreTables) => {
      for (const name of TABLE_NAMES) {
        let n = 0;
        for await (const batch of source[name].scan(batchSize)) {
          for (const row of batch) await (t[name] as StoreTables[TableName]).insert(row as never);
          const was = n;
          n += batch.length;
          if (Math.floor(n / every) > Math.floor(was / every)) log(`${name}: ${n} rows ...`);
        }
        rows += n;
        log(`${name}: ${n} rows`);
      }
    });
  } catch (err) {
    for (const id of written) await target.photoFiles.remove(id).catch(() => undefined);
    throw err;
  }
  await target.flush();
  const copyMs = Date.now() - started;
  log(
    `copied ${rows} rows and ${written.length} photo files in ${(copyMs / 1000).toFixed(1)} s (${Math.round(rows / Math.max(copyMs / 1000, 0.001))} rows/s)`,
  );

  // The checks read both stores afresh: what the target now answers, not what was sent to it.
  const src = await counts(source);
  const dst = await counts(target);
  const countRows: TableCount[] = [...src].map(([table, n]) => ({ table, source: n, target: dst.get(table) ?? 0 }));

  log('comparing every row ...');
  const rowMismatches: string[] = [];
  let rowsCompared = 0;
  for (const name of TABLE_NAMES) {
    // The target's rows in batches (one query per batch, not one per row), then each source row against its copy.
    const copied = new Map<string, unknown>();
    for await (const batch of (target[name] as StoreTables[TableName]).scan(batchSize))
      for (const row of batch) copied.set(row.id, row);
    for await (const batch of (source[name] as StoreTables[TableName]).scan(batchSize)) {
      for (const row of batch) {
        rowsCompared++;
        if (!isDeepStrictEqual(copied.get(row.id), row)) rowMismatches.push(`${name}/${row.id}`);
      }
    }
  }
  for (const id of photoIds) {
    const a = await source.photoFiles.get(id);
    const b = await target.photoFiles.get(id);
    if (!a || !b || !a.equals(b)) rowMismatches.push(`photo files/${id}`);
  }

  const audit = {
    source: await new AuditService({ store: source, clock: systemClock }).verifyChain(),
    target: await new AuditService({ store: target, clock: systemClock }).verifyChain(),
  };
  const a = await balances(source);
  const b = await balances(target);
  const mismatched = [...new Set([...a.keys(), ...b.keys()])].filter((id) => !isDeepStrictEqual(a.get(id), b.get(id)));

  const ok =
    countRows.every((c) => c.source === c.target) &&
    rowMismatches.length === 0 &&
    audit.target.ok === audit.source.ok &&
    audit.target.entries === audit.source.entries &&
    mismatched.length === 0;
  return {
    counts: countRows,
    rows,
    photos: written.length,
    copyMs,
    rowsCompared,
    rowMismatches,
    audit,
    balances: { accounts: a.size, mismatched },
    ok,
  };
}

/** The final check as the command prints it: one line per table, then the audit chain and the balances. */
export function formatReport(r: CopyReport): string {
  const width = Math.max(...r.counts.map((c) => c.table.length), 'table'.length);
  const num = (n: number | string) => String(n).padStart(9);
  const lines = [`${'table'.padEnd(width)} ${num('source')} ${num('target')}`];
  for (const c of r.counts)
    lines.push(
      `${c.table.padEnd(width)} ${num(c.source)} ${num(c.target)}  ${c.source === c.target ? 'ok' : 'DIFFERENT'}`,
    );
  lines.push(
    r.rowMismatches.length === 0
      ? `rows: all ${r.rowsCompared} rows and ${r.photos} photo files read back from the target and equal to the source`
      : `rows: ${r.rowMismatches.length} differ or are missing on the target: ${r.rowMismatches.slice(0, 10).join(', ')}${r.rowMismatches.length > 10 ? ', ...' : ''}`,
  );
  const chain = (c: ChainCheck) =>
    c.ok ? `verifies (${c.entries} entries)` : `BROKEN at entry ${c.brokenAt} of ${c.entries}`;
  lines.push(`audit chain: source ${chain(r.audit.source)}, target ${chain(r.audit.target)}`);
  lines.push(
    r.balances.mismatched.length === 0
      ? `balances: equal for all ${r.balances.accounts} accounts with ledger entries`
      : `balances: ${r.balances.mismatched.length} accounts DIFFER: ${r.balances.mismatched.slice(0, 10).join(', ')}`,
  );
  lines.push(
    r.ok ? 'copy complete: the target matches the source' : 'COPY CHECK FAILED: the target does not match the source',
  );
  return lines.join('\n');
}
