import { openStore } from '../../server/store/lowdb-store.js';
import { openPgStore } from '../../server/store/pg-store.js';
import { creditState } from '../../server/credits/ledger-math.js';
import { DAY_MS } from '../../shared/units.js';
import type { LedgerRow } from '../../server/store/types.js';
import type { AccountModel, Model, Rng } from './model.js';
import { call, deliver, tokenFor, type Target } from './workload.js';

const sum = (rows: LedgerRow[]) => rows.reduce((s, r) => s + r.seconds, 0);

/**
 * With the server dead (SIGKILL, no last flush), open its data directory with the store
 * itself and hold every acknowledged operation against what is on disk. Pending operations
 * (answer lost to the kill) are decided here, once: present means it happened.
 * `life` is the number of server lives so far; calls from earlier lives have been through a
 * restart's recovery and must be settled.
 */
/** What the store holds after a kill: the lowdb data dir, or with `databaseUrl` the PostgreSQL database (what was committed). */
export async function checkOnDisk(
  dataDir: string,
  dataKey: string,
  model: Model,
  life: number,
  databaseUrl?: string,
): Promise<string[]> {
  const problems: string[] = [];
  let store;
  try {
    store = databaseUrl
      ? await openPgStore({ url: databaseUrl, dataKey, poolSize: 2 })
      : await openStore({ dataDir, dataKey });
  } catch (err) {
    return [`the store does not open after the kill: ${err instanceof Error ? err.message : String(err)}`];
  }
  try {
    for (const a of [...model.accounts]) {
      const row = await store.accounts.findOne('email', a.email);
      const who = `${a.email}`;
      if (a.signup === 'pending') {
        if (!row) {
          model.accounts.splice(model.accounts.indexOf(a), 1); // never happened
          continue;
        }
        a.signup = 'acked';
        a.accountId = row.id;
      }
      if (!row) {
        problems.push(`${who}: an acknowledged sign-up is gone`);
        model.accounts.splice(model.accounts.indexOf(a), 1);
        continue;
      }
      if (a.close === 'acked') {
        if (row.status !== 'closed')
          problems.push(`${who}: an acknowledged account deletion is undone (status ${row.status})`);
        if (row.purgeBy !== a.purgeBy) problems.push(`${who}: the purge deadline ${a.purgeBy} became ${row.purgeBy}`);
      } else if (a.close === 'pending') {
        if (row.status === 'closed') {
          a.close = 'acked';
          a.purgeBy = row.purgeBy;
        } else a.close = 'no';
      }
      if (row.status === 'closed') {
        if (row.purgeBy === null || row.closedAt === null || row.purgeBy > row.closedAt + 30 * DAY_MS)
          problems.push(`${who}: a closed account without a purge deadline within 30 days`);
      }

      const entries = await store.ledger.findBy('accountId', row.id);
      // Purchases: each acknowledged event exactly once; nothing the test did not send.
      const purchases = entries.filter((e) => e.kind === 'purchase');
      const byRef = new Map(purchases.map((e) => [e.ref, e]));
      for (const ev of a.events) {
        const entry = byRef.get(`purchase:${ev.sessionId}`);
        if (ev.state === 'acked' && !entry) {
          problems.push(`${who}: acknowledged webhook ${ev.eventId} is not in the ledger (credit lost)`);
          ev.state = 'pending'; // Stripe would deliver it again: the replay after restart decides
        }
        if (ev.state === 'acked' && !(await store.webhookEvents.get(ev.eventId)))
          problems.push(`${who}: acknowledged webhook ${ev.eventId} is not recorded as received`);
        if (entry && entry.seconds !== ev.seconds)
          problems.push(`${who}: ${ev.eventId} credited ${entry.seconds} s, the pack has ${ev.seconds} s`);
        if (entry) ev.state = 'acked';
      }
      const known = new Set(a.events.map((e) => `purchase:${e.sessionId}`));
      for (const e of purchases)
        if (!known.has(e.ref)) problems.push(`${who}: a purchase nobody paid for: ${e.ref} (${e.seconds} s)`);
      if (purchases.length !== byRef.size) problems.push(`${who}: a purchase is in the ledger twice (credit doubled)`);

      // Grants: every grant has its own seconds value.
      const grants = entries.filter((e) => e.kind === 'grant');
      for (const g of [...a.grants]) {
        const n = grants.filter((e) => e.seconds === g.seconds).length;
        if (n > 1) problems.push(`${who}: grant of ${g.seconds} s applied ${n} times`);
        if (g.state === 'acked' && n === 0) {
          problems.push(`${who}: acknowledged grant of ${g.seconds} s is lost`);
          a.grants.splice(a.grants.indexOf(g), 1); // reported once
        }
        if (g.state === 'pending') {
          if (n === 0) a.grants.splice(a.grants.indexOf(g), 1);
          else g.state = 'acked';
        }
      }
      for (const e of grants)
        if (!a.grants.some((g) => g.seconds === e.seconds))
          problems.push(`${who}: a grant nobody gave: ${e.seconds} s`);

      // Calls: settled exactly once, never more than the hold, never more than the call lasted.
      const byCall = new Map<string, LedgerRow[]>();
      for (const e of entries) if (e.callId) byCall.set(e.callId, [...(byCall.get(e.callId) ?? []), e]);
      for (const [callId, rows] of byCall) {
        const kinds = (k: string) => rows.filter((r) => r.kind === k);
        const [hold, capture, release] = [kinds('hold'), kinds('capture'), kinds('release')];
        if (hold.length !== 1 || capture.length > 1 || release.length > 1)
          problems.push(
            `${who}: call ${callId} has ${hold.length} holds, ${capture.length} captures, ${release.length} releases`,
          );
        if (capture.length === 1 && release.length === 1 && sum(capture) + sum(release) !== sum(hold)) {
          problems.push(`${who}: call ${callId} settled ${sum(capture)} + ${sum(release)} s of a ${sum(hold)} s hold`);
        }
      }
      for (const c of a.calls) {
        const rows = byCall.get(c.callId);
        const callRow = await store.calls.get(c.callId);
        if (!rows || !callRow) {
          problems.push(`${who}: acknowledged call ${c.callId} left no record`);
          continue;
        }
        if (c.life < life) {
          const captured = sum(rows.filter((r) => r.kind === 'capture'));
          if (callRow.endedAt === null || callRow.settledAt === null)
            problems.push(`${who}: call ${c.callId} is still open after a restart's recovery`);
          if (!rows.some((r) => r.kind === 'release')) problems.push(`${who}: call ${c.callId} was never settled`);
          const lasted = Math.ceil(((c.endBy ?? Date.now()) - c.sentAt) / 1000) + 2;
          if (captured > lasted)
            problems.push(`${who}: call ${c.callId} charged ${captured} s for a call of at most ${lasted} s`);
        }
      }

      const state = creditState(entries);
      if (state.owesSeconds !== 0)
        problems.push(`${who}: the account owes ${state.owesSeconds} s with no refund ever made`);
      const captured = sum(entries.filter((e) => e.kind === 'capture'));
      const expected = sum(purchases) + sum(grants) - captured;
      if (state.balanceSeconds !== expected)
        problems.push(`${who}: balance ${state.balanceSeconds} s, expected ${expected} s`);
      const paid = a.events.filter((e) => e.state === 'acked').reduce((s, e) => s + e.seconds, 0);
      if (sum(purchases) !== paid)
        problems.push(`${who}: ledger purchases ${sum(purchases)} s, applied events ${paid} s`);

      // Profiles: a deletion that was acknowledged stays done (P9); a creation stays made.
      const profiles = await store.profiles.findBy('accountId', row.id);
      const ids = new Set(profiles.map((p) => p.id));
      for (const [id, st] of [...a.deletedProfiles]) {
        if (!ids.has(id)) a.deletedProfiles.set(id, 'acked');
        else if (st === 'acked') problems.push(`${who}: acknowledged profile deletion ${id} is undone`);
        else {
          a.deletedProfiles.delete(id); // the deletion never happened
          a.liveProfiles.add(id);
        }
      }
      if (row.status === 'active') {
        for (const id of [...a.liveProfiles]) {
          if (ids.has(id)) continue;
          problems.push(`${who}: acknowledged profile ${id} is gone`);
          a.liveProfiles.delete(id); // reported once
        }
        for (const id of ids) a.liveProfiles.add(id); // creations whose answer was lost
      }
    }
  } finally {
    await store.close();
  }
  return problems;
}

/**
 * After the restart (and its recovery): the server is healthy and its audit chain verifies;
 * every event Stripe would still deliver (the unacknowledged ones, and acknowledged ones
 * again) is answered 200 and changes nothing twice; balances are what the model says; no
 * call is left open. Accounts are sampled so a long run stays linear.
 */
export async function checkThroughApi(
  t: Target,
  model: Model,
  rng: Rng,
  touched: Set<AccountModel>,
): Promise<string[]> {
  const problems: string[] = [];
  const health = await call(t, 'GET', '/healthz');
  if (health?.status !== 200 || health.body.ok !== true)
    problems.push(`/healthz after restart: ${health?.status} ${JSON.stringify(health?.body)}`);
  const chain = await call(t, 'GET', '/admin/audit/verify', { admin: true });
  if (chain?.status !== 200 || chain.body.ok !== true)
    problems.push(`the audit chain does not verify after restart: ${JSON.stringify(chain?.body)}`);

  const sample = new Set<AccountModel>(touched);
  for (let i = 0; i < 15; i++) {
    const a = rng.pick(model.accounts);
    if (a) sample.add(a);
  }
  for (const a of sample) {
    if (a.signup !== 'acked' || !model.accounts.includes(a)) continue;
    // Stripe delivers again what was not acknowledged, and sometimes what was.
    for (const ev of a.events) {
      if (ev.state === 'acked' && !touched.has(a) && !rng.chance(0.3)) continue;
      const res = await deliver(t, ev.payload);
      if (res?.status !== 200)
        problems.push(`${a.email}: replay of ${ev.eventId} answered ${res?.status} ${JSON.stringify(res?.body)}`);
      else ev.state = 'acked';
    }
    if (a.close !== 'no') {
      if (a.close === 'acked' && touched.has(a)) {
        const login = await call(t, 'POST', '/api/auth/login', { body: { email: a.email, password: a.password } });
        // Closed and not yet purged: 403 account_closed (with its purge date, so the parent can
        // reopen it); purged: 401. Either way no session.
        const body = login?.body as { token?: unknown; error?: { code?: string } } | undefined;
        const refused = login?.status === 401 || (login?.status === 403 && body?.error?.code === 'account_closed');
        if (!refused || body?.token !== undefined)
          problems.push(`${a.email}: a deleted account signs in (${login?.status})`);
      }
      continue;
    }
    const token = await tokenFor(t, a);
    if (!token) {
      problems.push(`${a.email}: an acknowledged account cannot sign in after restart`);
      continue;
    }
    let cursor: string | null = null;
    const history: { kind: string; seconds: number; ref: string }[] = [];
    let balance = 0;
    do {
      const res = await call(
        t,
        'GET',
        `/api/credits?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token },
      );
      if (res?.status !== 200) {
        problems.push(`${a.email}: GET /api/credits answered ${res?.status}`);
        break;
      }
      balance = Number(res.body.balanceSeconds);
      history.push(...(res.body.history as typeof history));
      cursor = (res.body.nextCursor as string | null | undefined) ?? null;
    } while (cursor);
    const of = (k: string) => history.filter((h) => h.kind === k);
    const purchases = of('purchase');
    const paid = a.events.reduce((s, e) => s + e.seconds, 0);
    if (purchases.length !== a.events.length)
      problems.push(`${a.email}: ${purchases.length} purchases in the history for ${a.events.length} paid checkouts`);
    if (purchases.reduce((s, h) => s + h.seconds, 0) !== paid)
      problems.push(`${a.email}: purchases in the history do not add up to what was paid (${paid} s)`);
    const granted = a.grants.filter((g) => g.state === 'acked').reduce((s, g) => s + g.seconds, 0);
    if (of('grant').reduce((s, h) => s + h.seconds, 0) !== granted)
      problems.push(`${a.email}: grants in the history differ from the ${granted} s granted`);
    const expected = paid + granted - of('capture').reduce((s, h) => s + h.seconds, 0);
    if (balance !== expected) problems.push(`${a.email}: balance ${balance} s after replays, expected ${expected} s`);
    const calls = await call(t, 'GET', '/api/calls', { token });
    const open = ((calls?.body.calls ?? []) as { id: string; endedAt: string | null }[]).filter(
      (c) => c.endedAt === null,
    );
    if (open.length)
      problems.push(
        `${a.email}: ${open.length} call(s) still open after recovery: ${open.map((c) => c.id).join(', ')}`,
      );
  }
  return problems;
}
