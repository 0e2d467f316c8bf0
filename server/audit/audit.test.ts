import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock } from '../core/clock.js';
import { openStore, type LowdbStore } from '../store/lowdb-store.js';
import { decrypt, encrypt } from '../store/crypto.js';
import { tempDataDir } from '../../test/support/server.js';
import { AuditService } from './service.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function auditAt(dir: string): Promise<{ store: LowdbStore; audit: AuditService }> {
  const store = await openStore({ dataDir: dir });
  cleanup.push(() => store.close());
  return { store, audit: new AuditService(store, new FakeClock()) };
}

async function seed(): Promise<string> {
  const dir = tempDataDir('callsanta-audit-');
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const { store, audit } = await auditAt(dir);
  await Promise.all(Array.from({ length: 30 }, (_, i) => audit.record('admin', i % 2 ? 'credits.grant' : 'consent.given', `acct-${i}`, { seconds: i })));
  expect(await audit.verifyChain()).toEqual({ ok: true, entries: 30 });
  await store.close();
  return dir;
}

/** Copy the data dir and change the audit rows in the copy, re-encrypted with the same key. */
function tamperedCopy(dir: string, change: (rows: Record<string, unknown>[]) => void): string {
  const copy = tempDataDir('callsanta-audit-copy-');
  cleanup.push(() => rmSync(copy, { recursive: true, force: true }));
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, 'LOCK'), { force: true });
  const key = Buffer.from(readFileSync(join(copy, 'data.key'), 'utf8').trim(), 'hex');
  const all: { file: string; doc: { tables: { audit?: Record<string, unknown>[] } } }[] = [];
  for (const f of readdirSync(copy).filter((n) => n.startsWith('audit-'))) {
    all.push({ file: f, doc: JSON.parse(decrypt(key, readFileSync(join(copy, f)), f).toString()) });
  }
  const rows = all.flatMap((a) => a.doc.tables.audit ?? []);
  change(rows);
  for (const a of all) {
    a.doc.tables.audit = (a.doc.tables.audit ?? []).filter((r) => rows.includes(r));
    writeFileSync(join(copy, a.file), encrypt(key, Buffer.from(JSON.stringify(a.doc)), a.file));
  }
  return copy;
}

describe('the hash-chained audit log', () => {
  it('stays linear and verifiable under concurrent appends and across a restart', async () => {
    const dir = await seed();
    const { audit } = await auditAt(dir);
    await audit.record('system', 'retention.sweep', null, { purged: 0 });
    const rows = await audit.all();
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(await audit.verifyChain()).toEqual({ ok: true, entries: 31 });
  });

  it('detects any edited entry', async () => {
    const dir = await seed();
    for (const field of ['action', 'actor', 'subject', 'at', 'details'] as const) {
      const copy = tamperedCopy(dir, (rows) => {
        const victim = rows.find((r) => r.seq === 7)!;
        victim[field] = field === 'at' ? 12345 : field === 'details' ? { seconds: 9999 } : 'edited';
      });
      const { audit } = await auditAt(copy);
      const check = await audit.verifyChain();
      expect(check.ok, field).toBe(false);
      expect(check.brokenAt).toBe(7);
    }
  });

  it('detects a removed entry, and an edit that recomputes the entry hash', async () => {
    const dir = await seed();
    const removed = tamperedCopy(dir, (rows) => rows.splice(rows.findIndex((r) => r.seq === 12), 1));
    expect((await (await auditAt(removed)).audit.verifyChain()).ok).toBe(false);

    const last = tamperedCopy(dir, (rows) => rows.splice(rows.findIndex((r) => r.seq === 30), 1));
    // Dropping the newest entry leaves a consistent chain; the head anchored in another file tells.
    expect(await (await auditAt(last)).audit.verifyChain()).toEqual({ ok: false, entries: 29, brokenAt: 30 });

    const rehashed = tamperedCopy(dir, (rows) => {
      const victim = rows.find((r) => r.seq === 3)!;
      victim.action = 'forged';
      victim.hash = 'f'.repeat(64);
    });
    expect((await (await auditAt(rehashed)).audit.verifyChain()).brokenAt).toBe(3);
  });

  it('holds ids and counts, never personal text', async () => {
    const dir = await seed();
    const { audit } = await auditAt(dir);
    for (const row of await audit.all()) {
      expect(row.subject === null || /^acct-\d+$/.test(row.subject)).toBe(true);
      for (const v of Object.values(row.details)) expect(['number', 'boolean'].includes(typeof v) || v === null || typeof v === 'string').toBe(true);
    }
  });
});
