import { AuditService } from '../audit/service.js';
import { systemClock } from '../core/clock.js';
import { StoreOpenError } from './errors.js';
import { TABLE_NAMES } from './schema.js';
import type { Store, Table, TableName, Tables } from './types.js';

export interface CopyReport {
  tables: { table: TableName | 'photoFiles'; source: number; target: number }[];
  auditChain: { ok: boolean; entries: number };
  rows: number;
  ms: number;
}

const BATCH = 500;

/**
 * Copies every table and photo of one store into another that is empty: rows as they are
 * (ids, ledger entries, deadlines, audit entries and their hashes unchanged), a transaction
 * per batch. Ends with a count check per table and the audit chain verified on the target.
 */
export async function copyStore(source: Store, target: Store, log: (line: string) => void = () => undefined, now: () => number = Date.now): Promise<CopyReport> {
  const started = now();
  for (const t of TABLE_NAMES) {
    if ((await target[t].count()) > 0) throw new StoreOpenError(`the target is not empty (${t} has rows): store:copy only copies into an empty database`);
  }
  if ((await target.photoFiles.list()).length > 0) throw new StoreOpenError('the target is not empty (it holds photos): store:copy only copies into an empty database');

  let rows = 0;
  for (const t of TABLE_NAMES) {
    const from = source[t] as unknown as Table<Tables[TableName]>;
    let n = 0;
    for await (const batch of from.scan(BATCH)) {
      await target.atomically(async (tx) => {
        const into = tx[t] as unknown as Table<Tables[TableName]>;
        for (const row of batch) await into.insert(row);
      });
      n += batch.length;
    }
    rows += n;
    log(`${t}: ${n} rows`);
  }
  const photos = await source.photoFiles.list();
  for (const id of photos) {
    const bytes = await source.photoFiles.get(id);
    if (bytes) await target.photoFiles.put(id, bytes);
  }
  log(`photoFiles: ${photos.length} photos`);
  await target.flush();

  const tables: CopyReport['tables'] = [];
  for (const t of TABLE_NAMES) tables.push({ table: t, source: await source[t].count(), target: await target[t].count() });
  tables.push({ table: 'photoFiles', source: photos.length, target: (await target.photoFiles.list()).length });
  const auditChain = await new AuditService({ store: target, clock: systemClock }).verifyChain();
  return { tables, auditChain: { ok: auditChain.ok, entries: auditChain.entries }, rows, ms: now() - started };
}
