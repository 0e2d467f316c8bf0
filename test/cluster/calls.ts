import { CallSession, type CallSnapshot } from '../../extension/lib/call-session.js';
import { connectSocket, type SantaSocket } from '../../extension/lib/socket.js';
import type { CallEndReason } from '../../shared/index.js';
import { openPgStore } from '../../server/store/pg-store.js';
import type { Store } from '../../server/store/types.js';
import { WeriftCallPeer, weriftMic } from '../support/werift-call-peer.js';
import type { ClusterNode, ServerCluster } from './cluster.js';
import type { ClusterFamily } from './family.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until<T>(check: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * A child's call window as the extension runs it: its own call session (extension/lib/
 * call-session.ts) with werift in the place of the browser's peer connection, its socket
 * (extension/lib/socket.ts: WebSocket only, reconnecting with back-off) to the balancer, so
 * after its process goes it reconnects to whichever process answers and resumes the call.
 */
export class CallWindow {
  readonly session: CallSession;
  peer: WeriftCallPeer | null = null;
  socket: SantaSocket | null = null;
  /** Wall-clock ms when call:start was sent. */
  sentAt = 0;
  /** Every connection state the child's peer went through once it was connected. */
  readonly peerStates: string[] = [];

  constructor(
    readonly cluster: ServerCluster,
    readonly family: ClusterFamily,
  ) {
    this.session = new CallSession(family.profileId, {
      getMic: async () => weriftMic(),
      createPeer: () => {
        const peer = new WeriftCallPeer();
        this.peer = peer;
        peer.addEventListener('connectionstatechange', () => {
          if (this.peerStates.length || peer.connectionState === 'connected')
            this.peerStates.push(peer.connectionState);
        });
        return peer;
      },
      connect: () => {
        this.sentAt = Date.now();
        this.socket = connectSocket(cluster.url, family.token);
        return this.socket;
      },
      lookup: async (callId) => {
        const res = await fetch(`${cluster.url}/api/calls/${callId}`, {
          headers: { authorization: `Bearer ${family.token}` },
        });
        if (res.status !== 200) throw new Error(`GET /api/calls/${callId}: ${res.status}`);
        return (await res.json()) as { endedAt: string | null; reason: CallEndReason | null; seconds: number };
      },
      timeZone: 'Europe/Copenhagen',
      connectTimeoutMs: 30_000,
    });
  }

  get snapshot(): CallSnapshot {
    return this.session.snapshot;
  }

  get callId(): string {
    const id = this.session.snapshot.callId;
    if (!id) throw new Error('no call yet');
    return id;
  }

  /** Places the call and waits until it is live (media up), or throws with why not. */
  async start(timeoutMs = 45_000): Promise<void> {
    void this.session.start();
    await until(
      () => {
        const s = this.session.snapshot;
        if (s.phase === 'failed' || s.phase === 'ended')
          throw new Error(`the call did not go live: ${s.phase} ${s.errorCode ?? s.endReason}`);
        return s.phase === 'live';
      },
      timeoutMs,
      'the call to go live',
    );
  }

  /** The child's media is up and has never dropped since it first connected. */
  mediaUnbroken(): boolean {
    return this.peer?.connectionState === 'connected' && !this.peerStates.some((s) => s !== 'connected');
  }

  async hangUp(): Promise<CallSnapshot> {
    await this.session.hangUp();
    return this.session.snapshot;
  }
}

/**
 * The parent's side panel: the extension's socket client to the balancer, keeping every tick
 * and end it hears with the wall-clock time it heard it.
 */
export class PanelWatch {
  readonly socket: SantaSocket;
  readonly ticks = new Map<string, Array<{ at: number; elapsed: number }>>();
  readonly ended = new Map<string, { at: number; reason: CallEndReason; seconds: number }>();

  constructor(cluster: ServerCluster, token: string) {
    this.socket = connectSocket(cluster.url, token);
    this.socket.on('call:tick', (t) => {
      const list = this.ticks.get(t.callId) ?? [];
      list.push({ at: Date.now(), elapsed: t.elapsedSeconds });
      this.ticks.set(t.callId, list);
    });
    this.socket.on('call:ended', (e) =>
      this.ended.set(e.callId, { at: Date.now(), reason: e.reason, seconds: e.seconds }),
    );
  }

  /** The first tick of a call heard after `since` (ms), or undefined. */
  tickAfter(callId: string, since: number): { at: number; elapsed: number } | undefined {
    return this.ticks.get(callId)?.find((t) => t.at > since);
  }

  close(): void {
    this.socket.close();
  }
}

/** The test's own read-only view of the cluster's database: which process owns a call, its lease. */
export class ClusterStore {
  private constructor(readonly store: Store) {}

  static async open(cluster: ServerCluster, databaseUrl: string): Promise<ClusterStore> {
    return new ClusterStore(await openPgStore({ url: databaseUrl, dataKey: cluster.dataKey, poolSize: 2 }));
  }

  /** The process that owns the call now (its process id names its pid), or null when none of ours runs it. */
  async ownerOf(cluster: ServerCluster, callId: string): Promise<ClusterNode | null> {
    const row = await this.store.calls.get(callId);
    const pid = Number(/-(\d+)-[0-9a-f]+$/.exec(row?.ownerId ?? '')?.[1]);
    return cluster.running().find((n) => n.process.pid === pid) ?? null;
  }

  async leaseUntil(callId: string): Promise<number | null> {
    return (await this.store.calls.get(callId))?.leaseUntil ?? null;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
