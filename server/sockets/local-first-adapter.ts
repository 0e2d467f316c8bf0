import { MessageType, type BroadcastOptions, type ClusterAdapter } from 'socket.io-adapter';
import type { Logger } from '../core/logger.js';

export interface RemoteBacklogOptions {
  /**
   * Appends in flight beyond which new ones are dropped: the events stream's own length
   * (EVENT_STREAM_MAX_LEN). The other processes could not read more once Redis is back (the
   * stream is trimmed to about that many entries), and memory would otherwise grow with every
   * tick of every live call for as long as Redis stays away.
   */
  cap: number;
  logger: Logger;
  /** One event not sent to the other processes (the Prometheus counter). */
  onDrop?: () => void;
}

/**
 * The appends of this process's events for the other processes, counted while they wait for
 * Redis (ioredis' offline queue holds them, unbounded, while Redis is away). Past the cap a new
 * append is dropped: one warning per outage (an outage here ends when every waiting append
 * has been sent), never its payload, which may be a transcript.
 */
export class RemoteBacklog {
  private inFlight = 0;
  private droppedThisOutage = 0;

  constructor(private readonly opts: RemoteBacklogOptions) {}

  /** Appends sent and not yet answered by Redis. */
  get waiting(): number {
    return this.inFlight;
  }

  /**
   * Starts one append, or drops it (false) when `cap` appends are waiting already. `always`:
   * never dropped (a disconnect of revoked sockets), counted all the same.
   */
  send(append: () => Promise<unknown>, always = false): boolean {
    if (this.inFlight >= this.opts.cap && !always) {
      if (this.droppedThisOutage++ === 0)
        this.opts.logger.warn(
          { waiting: this.inFlight },
          'Redis is away and too many socket events wait for it: events for the other processes are dropped until it is back (this process delivers its own)',
        );
      this.opts.onDrop?.();
      return false;
    }
    this.inFlight++;
    // A failed append (the connection closed for good) is the library's to report, as before.
    append()
      .catch(() => undefined)
      .finally(() => {
        if (--this.inFlight > 0 || this.droppedThisOutage === 0) return;
        this.opts.logger.info({ dropped: this.droppedThisOutage }, 'socket events for the other processes flow again');
        this.droppedThisOutage = 0;
      });
    return true;
  }
}

interface EncodedOptions {
  rooms: string[];
  except: string[];
  flags: BroadcastOptions['flags'];
}

/** ClusterAdapter's protected publisher (socket.io-adapter 2.5), which these overrides call. */
interface Publisher {
  publishAndReturnOffset(
    message:
      | { type: MessageType.BROADCAST; data: { packet: unknown; opts: EncodedOptions } }
      | { type: MessageType.DISCONNECT_SOCKETS; data: { opts: EncodedOptions; close?: boolean } },
  ): Promise<string>;
}

/** As ClusterAdapter encodes a broadcast's options for the other processes. */
const encoded = (opts: BroadcastOptions): EncodedOptions => ({
  rooms: [...opts.rooms],
  except: [...(opts.except ?? [])],
  flags: opts.flags,
});

/** The same options, for this process's sockets only: the library's own local path. */
const localOnly = (opts: BroadcastOptions): BroadcastOptions => ({ ...opts, flags: { ...opts.flags, local: true } });

/**
 * socket.io's ClusterAdapter (so the Redis streams adapter) awaits the append of a broadcast to
 * the stream before it delivers the broadcast to this process's own sockets: while Redis is
 * away every event waits, even to a socket on the call's own process (the parent's live view
 * freezes, then catches up at once). Here a broadcast is delivered to this process's sockets
 * at once (the library's local path, `flags.local`), then its BROADCAST message is appended
 * for the other processes in the background, bounded by `backlog`. Order holds: local
 * deliveries in emit order, and appends on the one events connection in emit order too. No
 * socket gets it twice: every reader skips the stream entries of its own uid
 * (ClusterAdapter.onMessage).
 *
 * Disconnects (a revoked session, a closed account) go the same way, and are never dropped:
 * were they still to wait for Redis while broadcasts no longer do, a revoked socket on this
 * process would get the events emitted after its revocation. Nor are the events `neverDrop`
 * names. Broadcasts with an ack and every other message type stay the library's.
 *
 * Not with connectionStateRecovery (we do not use it): its packets carry the stream offset,
 * known only once the append is answered, so the library's order is kept then.
 */
export function deliverLocallyFirst<A extends ClusterAdapter>(
  adapter: A,
  backlog: RemoteBacklog,
  /** Events appended for the other processes past the cap too (by name: the packet's first datum). */
  neverDrop: (event: unknown) => boolean = () => false,
): A {
  if ((adapter.nsp as { server: { opts: { connectionStateRecovery?: unknown } } }).server.opts.connectionStateRecovery)
    return adapter;
  const publisher = adapter as unknown as Publisher;
  const libraryBroadcast = adapter.broadcast.bind(adapter);
  adapter.broadcast = (packet: unknown, opts: BroadcastOptions): Promise<void> => {
    // Delivered before this returns: the local path awaits nothing.
    const delivered = libraryBroadcast(packet, localOnly(opts));
    if (!opts.flags?.local)
      backlog.send(
        () => publisher.publishAndReturnOffset({ type: MessageType.BROADCAST, data: { packet, opts: encoded(opts) } }),
        neverDrop((packet as { data?: unknown[] }).data?.[0]),
      );
    return delivered;
  };
  const libraryDisconnect = adapter.disconnectSockets.bind(adapter);
  adapter.disconnectSockets = (opts: BroadcastOptions, close: boolean): Promise<void> => {
    const done = libraryDisconnect(localOnly(opts), close);
    if (!opts.flags?.local)
      backlog.send(
        () =>
          publisher.publishAndReturnOffset({
            type: MessageType.DISCONNECT_SOCKETS,
            data: { opts: encoded(opts), close },
          }),
        true,
      );
    return done;
  };
  return adapter;
}
