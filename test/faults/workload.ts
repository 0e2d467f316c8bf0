import Stripe from 'stripe';
import { io as connect, type Socket } from 'socket.io-client';
import { createBrowserPeer } from '../support/webrtc-peer.js';
import type { AccountModel, EventModel, Model, Rng } from './model.js';

export interface Target {
  url: string;
  adminToken: string;
  webhookSecret: string;
  packs: Record<string, number>;
}

export interface Res {
  status: number;
  body: Record<string, unknown>;
}

/** One HTTP call; null when no answer came (the server was killed, or refused the connection). */
export async function call(
  t: Target,
  method: string,
  path: string,
  opts: { token?: string; admin?: boolean; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Res | null> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.admin) headers.authorization = `Bearer ${t.adminToken}`;
  let body: string | undefined = opts.raw;
  if (body === undefined && opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  try {
    const res = await fetch(t.url + path, { method, headers, body, signal: AbortSignal.timeout(20_000) });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { text };
    }
    return { status: res.status, body: parsed };
  } catch {
    return null;
  }
}

/** The checkout.session.completed Stripe would send for a paid dev session. */
export function completedEvent(
  eventId: string,
  sessionId: string,
  accountId: string,
  packId: string,
  amount: number,
): string {
  return JSON.stringify({
    id: eventId,
    object: 'event',
    type: 'checkout.session.completed',
    created: Math.trunc(Date.now() / 1000),
    livemode: false,
    data: {
      object: {
        id: sessionId,
        object: 'checkout.session',
        mode: 'payment',
        status: 'complete',
        payment_status: 'paid',
        amount_total: amount,
        currency: 'dkk',
        payment_intent: `pi_${eventId}`,
        metadata: { accountId, packId },
      },
    },
  });
}

export function deliver(t: Target, payload: string): Promise<Res | null> {
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: t.webhookSecret });
  return call(t, 'POST', '/api/stripe/webhook', {
    raw: payload,
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
  });
}

/** A token that works now: the remembered one, or a fresh sign-in (a session may have been lost with a kill). */
export async function tokenFor(t: Target, a: AccountModel): Promise<string | null> {
  if (a.token) {
    const me = await call(t, 'GET', '/api/me', { token: a.token });
    if (me?.status === 200) return a.token;
  }
  const login = await call(t, 'POST', '/api/auth/login', { body: { email: a.email, password: a.password } });
  if (login?.status !== 200) return null;
  a.token = String(login.body.token);
  return a.token;
}

export interface Counters {
  ops: Record<string, number>;
  acked: Record<string, number>;
}

/**
 * The mixed workload: sign-ups, purchases through signed webhooks (and their replays),
 * admin grants, profiles made and deleted, calls with Simulated Santa, account deletions and
 * retention sweeps, from several workers at once, until `stop()` says the server is going.
 */
export class Workload {
  private stopped = false;
  readonly counters: Counters = { ops: {}, acked: {} };
  private readonly live = new Set<Promise<void>>();
  /** Accounts this server life has worked on: the API checks look at all of them. */
  readonly touched = new Set<AccountModel>();

  constructor(
    private readonly t: Target,
    private readonly model: Model,
    private readonly rng: Rng,
    private readonly life: () => number,
    private readonly options: { calls: boolean },
  ) {}

  start(workers: number): void {
    this.stopped = false;
    this.touched.clear();
    for (let i = 0; i < workers; i++) {
      const p = this.worker().finally(() => this.live.delete(p));
      this.live.add(p);
    }
  }

  /** Stop issuing; the caller kills the server, then awaits `settled()`. */
  stop(): void {
    this.stopped = true;
  }

  async settled(): Promise<void> {
    await Promise.all([...this.live]);
  }

  private count(op: string, acked: boolean) {
    this.counters.ops[op] = (this.counters.ops[op] ?? 0) + 1;
    if (acked) this.counters.acked[op] = (this.counters.acked[op] ?? 0) + 1;
  }

  private async worker(): Promise<void> {
    while (!this.stopped) {
      const r = this.rng.next();
      const active = this.model.active().filter((a) => !a.busy);
      const a = this.rng.pick(active);
      if (!a || r < 0.12) await this.signup();
      else {
        a.busy = true;
        this.touched.add(a);
        try {
          if (r < 0.4) await this.purchase(a);
          else if (r < 0.47) await this.replay(a);
          else if (r < 0.53) await this.grant(a);
          else if (r < 0.63) await this.createProfile(a);
          else if (r < 0.69) await this.deleteProfile(a);
          else if (r < 0.72) await this.closeAccount(a);
          else if (r < 0.76) await this.retention();
          else if (this.options.calls) await this.call(a);
          else await this.purchase(a);
        } finally {
          a.busy = false;
        }
      }
    }
  }

  private async signup(): Promise<void> {
    const a = this.model.newAccount();
    this.touched.add(a);
    const res = await call(this.t, 'POST', '/api/auth/signup', {
      body: { email: a.email, password: a.password, name: 'Fault Parent', locale: 'en' },
    });
    this.count('signup', res?.status === 201);
    if (res?.status !== 201) return; // pending (or refused, which a later sign-in reveals)
    a.signup = 'acked';
    a.token = String(res.body.token);
    a.accountId = String((res.body.account as { id: string }).id);
    const policy = await call(this.t, 'GET', '/api/policy');
    if (policy?.status === 200)
      await call(this.t, 'POST', '/api/consent', { token: a.token, body: { policyVersion: policy.body.version } });
  }

  private async purchase(a: AccountModel): Promise<void> {
    const token = await tokenFor(this.t, a);
    if (!token || !a.accountId) return;
    const packId = this.rng.chance(0.5) ? 'pack-10' : 'pack-30';
    const checkout = await call(this.t, 'POST', '/api/credits/checkout', { token, body: { packId } });
    if (checkout?.status !== 200) return;
    const sessionId = new URL(String(checkout.body.url)).pathname.split('/').pop() ?? '';
    const eventId = this.model.uniqueEventId();
    const payload = completedEvent(eventId, sessionId, a.accountId, packId, packId === 'pack-10' ? 4900 : 9900);
    // Known before it is sent: Stripe keeps delivering an event until it is acknowledged.
    const ev: EventModel = { eventId, sessionId, payload, seconds: this.t.packs[packId] ?? 0, state: 'pending' };
    a.events.push(ev);
    const res = await deliver(this.t, payload);
    this.count('purchase', res?.status === 200);
    if (res?.status === 200) ev.state = 'acked';
  }

  private async replay(a: AccountModel): Promise<void> {
    const ev = this.rng.pick(a.events.filter((e) => e.state === 'acked'));
    if (!ev) return this.purchase(a);
    const res = await deliver(this.t, ev.payload);
    this.count('replay', res?.status === 200);
  }

  private async grant(a: AccountModel): Promise<void> {
    const g = { seconds: this.model.uniqueGrantSeconds(), state: 'pending' as 'pending' | 'acked' };
    a.grants.push(g);
    const res = await call(this.t, 'POST', `/admin/accounts/${a.accountId}/credits`, {
      admin: true,
      body: { seconds: g.seconds, reason: 'fault suite' },
    });
    this.count('grant', res?.status === 201);
    if (res?.status === 201) g.state = 'acked';
  }

  private async createProfile(a: AccountModel): Promise<void> {
    const token = await tokenFor(this.t, a);
    if (!token) return;
    const body = {
      name: `Child ${this.rng.int(1, 999)}`,
      age: this.rng.int(3, 12),
      language: 'en',
      wishList: ['a sledge'],
    };
    let res = await call(this.t, 'POST', '/api/profiles', { token, body });
    if (res?.status === 403) {
      // Consent may have been lost with a kill before it was flushed: give it again.
      const policy = await call(this.t, 'GET', '/api/policy');
      if (policy?.status === 200)
        await call(this.t, 'POST', '/api/consent', { token, body: { policyVersion: policy.body.version } });
      res = await call(this.t, 'POST', '/api/profiles', { token, body });
    }
    this.count('profile', res?.status === 201);
    if (res?.status === 201) a.liveProfiles.add(String(res.body.id));
  }

  private async deleteProfile(a: AccountModel): Promise<void> {
    const id = this.rng.pick([...a.liveProfiles]);
    const token = await tokenFor(this.t, a);
    if (!id || !token) return;
    a.liveProfiles.delete(id);
    a.deletedProfiles.set(id, 'pending');
    const res = await call(this.t, 'DELETE', `/api/profiles/${id}`, { token });
    this.count('deleteProfile', res?.status === 204);
    if (res?.status === 204) a.deletedProfiles.set(id, 'acked');
  }

  private async closeAccount(a: AccountModel): Promise<void> {
    if (a.calls.some((c) => c.endBy === null)) return;
    const token = await tokenFor(this.t, a);
    if (!token) return;
    a.close = 'pending';
    const res = await call(this.t, 'DELETE', '/api/me', { token, body: { password: a.password } });
    this.count('close', res?.status === 202);
    if (res?.status === 202) {
      a.close = 'acked';
      a.purgeBy = Date.parse(String(res.body.purgeBy));
    }
  }

  private async retention(): Promise<void> {
    const res = await call(this.t, 'POST', '/admin/retention/run', { admin: true });
    this.count('retention', res?.status === 200);
  }

  /** A short call with Simulated Santa, ended by the child, unless the server dies first. */
  private async call(a: AccountModel): Promise<void> {
    const profileId = this.rng.pick([...a.liveProfiles]);
    const token = await tokenFor(this.t, a);
    if (!profileId || !token) return this.createProfile(a);
    const holdMs = this.rng.int(300, 2500);
    const peer = await createBrowserPeer();
    const socket = connect(this.t.url, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      timeout: 5000,
    });
    try {
      const connected = await new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('connect_error', () => resolve(false));
        socket.once('disconnect', () => resolve(false));
      });
      if (!connected) return;
      const sentAt = Date.now();
      const ack = await withAck<Record<string, unknown>>(
        socket,
        (cb) => socket.emit('call:start', { profileId, sdp: peer.offerSdp }, cb),
        20_000,
      );
      this.count('call', typeof ack?.callId === 'string');
      if (!ack || typeof ack.callId !== 'string') return;
      const c = { callId: ack.callId, sentAt, endBy: null as number | null, life: this.life() };
      a.calls.push(c);
      await peer.setAnswer(String(ack.sdp)).catch(() => undefined);
      const until = Date.now() + holdMs;
      while (Date.now() < until && socket.connected) await new Promise((r) => setTimeout(r, 50));
      if (socket.connected) {
        const ended = await withAck<Record<string, unknown>>(
          socket,
          (cb) => socket.emit('call:end', { callId: c.callId }, cb),
          10_000,
        );
        if (ended?.ok === true) c.endBy = Date.now();
      }
    } finally {
      socket.close();
      await peer.close().catch(() => undefined);
    }
  }
}

/** An emit with an ack; null when no ack comes in time or the connection drops first (a kill). */
function withAck<T>(socket: Socket, emit: (cb: (v: T) => void) => void, ms: number): Promise<T | null> {
  return new Promise((resolve) => {
    const done = (v: T | null) => {
      clearTimeout(timer);
      socket.off('disconnect', gone);
      resolve(v);
    };
    const gone = () => done(null);
    const timer = setTimeout(gone, ms);
    socket.once('disconnect', gone);
    emit((v) => done(v));
  });
}
