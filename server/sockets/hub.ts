import type { Server as HttpServer } from 'node:http';
import { Server, type Namespace, type Socket } from 'socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type {
  ClientToServerEventsReceived,
  HandshakeRefusal,
  InterServerEvents,
  ServerEvent,
  ServerEventPayload,
  ServerToClientEvents,
} from '../../shared/schemas/socket.js';
import type { Logger } from '../core/logger.js';
import type { AccountsService, Authenticated } from '../accounts/service.js';
import type { CorsCheck } from '../core/cors.js';
import type { RedisConnection } from '../redis/connection.js';
import { redisSocketSlots } from '../redis/socket-slots.js';
import { guardNamespace, guardSocket } from './guard.js';
import { deliverLocallyFirst, RemoteBacklog } from './local-first-adapter.js';

export interface SocketData {
  auth: Authenticated;
}

/**
 * Server-to-server events (the calls' nudges to a call's owner, INTER_SERVER_EVENTS). Emits to
 * an account's room and disconnects of a session's sockets need none: with REDIS_URL they
 * travel to every process through the adapter itself (its BROADCAST and DISCONNECT_SOCKETS
 * messages), typed by ServerToClientEvents like a local emit.
 */
export type { InterServerEvents } from '../../shared/schemas/socket.js';

/** The socket.io server and socket, typed by the contract in shared/schemas/socket.ts. */
export type SocketServer = Server<ClientToServerEventsReceived, ServerToClientEvents, InterServerEvents, SocketData>;
export type ClientSocket = Socket<ClientToServerEventsReceived, ServerToClientEvents, InterServerEvents, SocketData>;

/** Emits to every socket of one account: the side panel watches the call window's call. */
export interface Notifier {
  toAccount<E extends ServerEvent>(accountId: string, event: E, payload: ServerEventPayload<E>): void;
  /** Disconnect every socket of an account (closed, restricted, password changed). */
  disconnectAccount(accountId: string): void;
  /** Disconnect the sockets opened with one sign-in session (logout, revocation). */
  disconnectSession(sessionId: string): void;
}

export const accountRoom = (accountId: string) => `account:${accountId}`;
export const sessionRoom = (sessionId: string) => `session:${sessionId}`;

/** 64 KiB: an SDP offer fits many times over; anything larger is refused before parsing. */
export const MAX_SOCKET_MESSAGE_BYTES = 64 * 1024;

/**
 * Open sockets one sign-in session may hold (the side panel and a call window need two, a
 * reload briefly three), and one account across all its sessions (a few browsers, each with
 * its own session). Beyond them the handshake is refused: one token cannot open hundreds.
 */
export const MAX_SOCKETS_PER_SESSION = 6;
export const MAX_SOCKETS_PER_ACCOUNT = 20;

/**
 * Entries the events stream is trimmed to (about): minutes of our traffic, far more than a
 * reader falls behind. Also how many appends for the other processes may wait for a Redis that
 * is away (RemoteBacklog): more could not all be read once it is back.
 */
export const EVENT_STREAM_MAX_LEN = 10_000;

/**
 * Sent to the other processes even past EVENT_STREAM_MAX_LEN: the guardrail's withdrawal of
 * Santa's words, whose relayed words may already wait in the stream (stopped words are never
 * left on a screen). Rare, so they cannot grow the backlog by much.
 */
const NEVER_DROPPED: ReadonlySet<unknown> = new Set<ServerEvent>(['call:santa_stopped']);

/**
 * With Redis, socket.io's streams adapter: every broadcast is appended to one Redis stream that
 * every process reads, from the last entry it has read. A Redis that blinks loses no event
 * (the events client queues its appends while Redis is away, up to EVENT_STREAM_MAX_LEN, and
 * each reader resumes from its offset), unlike the pub/sub adapter. Reads block for at most a
 * second, so a process that closes lets go of its reader soon.
 */
function streamsAdapter(redis: RedisConnection, logger: Logger, onDrop?: () => void) {
  const adapterFor = createAdapter(redis.events, {
    streamName: `${redis.keyPrefix}socket.io`,
    channelPrefix: `${redis.keyPrefix}socket.io`,
    sessionKeyPrefix: `${redis.keyPrefix}sio:session:`,
    maxLen: EVENT_STREAM_MAX_LEN,
    readCount: 100,
    blockTimeInMs: 1000,
  });
  // This process's sockets get each event at once, whether Redis is up or not (local-first-adapter.ts).
  const backlog = new RemoteBacklog({ cap: EVENT_STREAM_MAX_LEN, logger, onDrop });
  // A function, not an arrow: socket.io calls it with `new`.
  return function localFirstStreamsAdapter(nsp: Namespace) {
    return deliverLocallyFirst(adapterFor(nsp), backlog, (event) => NEVER_DROPPED.has(event));
  };
}

export interface SocketHubOptions {
  /** An event for the other processes was dropped: too many waited for Redis (the Prometheus counter). */
  onRemoteEventDropped?: () => void;
}

export function createSocketHub(
  http: HttpServer,
  accounts: AccountsService,
  cors: CorsCheck,
  logger: Logger,
  redis?: RedisConnection,
  opts: SocketHubOptions = {},
) {
  const io: SocketServer = new Server(http, {
    ...(redis ? { adapter: streamsAdapter(redis, logger, opts.onRemoteEventDropped) } : {}),
    maxHttpBufferSize: MAX_SOCKET_MESSAGE_BYTES,
    cors: { origin: (origin, cb) => cb(null, cors(origin)), credentials: false },
    serveClient: false,
    pingInterval: 10_000,
    pingTimeout: 10_000,
  });
  // With Redis the caps count the sockets of every process; while Redis is away, this process's own.
  const slots = redis
    ? redisSocketSlots(redis, { perSession: MAX_SOCKETS_PER_SESSION, perAccount: MAX_SOCKETS_PER_ACCOUNT })
    : null;
  // Before any other 'connection' listener: no packet and no handler can throw out of the event loop.
  guardNamespace(io.sockets, logger);
  io.on('connection', (socket) => guardSocket(socket, logger));

  // The handshake carries the bearer token in `auth: { token }`; a bad or expired one is refused.
  io.use(async (socket, next) => {
    try {
      const token: unknown = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
      const auth = typeof token === 'string' ? await accounts.authenticate(token) : null;
      if (!auth) {
        const err = new Error('unauthorized') as Error & { data?: unknown };
        err.data = {
          code: 'unauthorized',
          message: 'Sign in again: the session is missing, expired or revoked',
        } satisfies HandshakeRefusal;
        return next(err);
      }
      const refuse = () => {
        const err = new Error('rate_limited') as Error & { data?: unknown };
        err.data = {
          code: 'rate_limited',
          message: 'Too many open connections for this sign-in; close one and try again',
        };
        next(err);
      };
      // Across processes: checked and taken in one Redis script, so concurrent handshakes cannot both pass.
      const claimed = slots ? await slots.claim(auth.session.id, auth.account.id, socket.id) : null;
      if (claimed === false) return refuse();
      if (claimed) {
        // The engine.io connection's close comes for every socket, also one that never finished connecting.
        socket.conn.once('close', () => slots?.release(auth.session.id, auth.account.id, socket.id));
      } else {
        // In this process: counted and joined with no await in between, so concurrent handshakes cannot both pass.
        const open = (room: string) => io.sockets.adapter.rooms.get(room)?.size ?? 0;
        if (
          open(sessionRoom(auth.session.id)) >= MAX_SOCKETS_PER_SESSION ||
          open(accountRoom(auth.account.id)) >= MAX_SOCKETS_PER_ACCOUNT
        )
          return refuse();
      }
      socket.data.auth = auth;
      void socket.join([accountRoom(auth.account.id), sessionRoom(auth.session.id)]);
      next();
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'socket auth failed');
      next(new Error('internal_error'));
    }
  });

  const notifier: Notifier = {
    toAccount(accountId, event, payload) {
      // socket.io cannot relate a generic event name to its parameters; the signature above does.
      const room = io.to(accountRoom(accountId));
      (room.emit as (event: ServerEvent, payload: ServerEventPayload<ServerEvent>) => boolean).call(
        room,
        event,
        payload,
      );
    },
    disconnectSession(sessionId) {
      io.in(sessionRoom(sessionId)).disconnectSockets(true);
    },
    disconnectAccount(accountId) {
      io.in(accountRoom(accountId)).disconnectSockets(true);
    },
  };

  return { io, notifier, close: () => slots?.close() };
}
