import './zod-config.js';
import { io, type Socket } from 'socket.io-client';
import {
  CLIENT_EVENTS,
  handshakeRefusalSchema,
  SERVER_EVENTS,
  type ClientEvent,
  type ClientEventAck,
  type ClientEventPayload,
  type ClientToServerEvents,
  type ServerEvent,
  type ServerEventPayload,
  type ServerToClientEvents,
} from '../../shared/index.js';

/**
 * The socket client: one authenticated socket.io connection, typed by the contract in
 * shared/schemas/socket.ts. Every incoming payload is checked with its shared schema (a
 * payload that does not match is dropped, never half-rendered), and every ack too. The call
 * window uses it to place its call; the side panel to watch.
 */
export type { ServerEvent } from '../../shared/index.js';
export type ServerPayload<E extends ServerEvent> = ServerEventPayload<E>;

/** Answers made on this side: no server answer in time, or one outside the contract. */
export type ClientSideError = { error: { code: 'network_error' | 'bad_response'; message: string } };
/** An event's ack as the contract types it, or what this side answers when there was none. */
export type SocketAck<E extends ClientEvent> = ClientEventAck<E> | ClientSideError;
export type CallStartResult = SocketAck<'call:start'>;
export type CallEndResult = SocketAck<'call:end'>;
export type CallResumeResult = SocketAck<'call:resume'>;
export type CallConnectedResult = SocketAck<'call:connected'>;

export type SocketStatus = 'connecting' | 'connected' | 'reconnecting' | 'unauthorized' | 'closed';

/** What the call session and the side panel need from a socket; tests pass a fake. */
export interface SantaSocket {
  on<E extends ServerEvent>(event: E, handler: (payload: ServerPayload<E>) => void): () => void;
  onStatus(handler: (status: SocketStatus) => void): () => void;
  readonly status: SocketStatus;
  startCall(body: ClientEventPayload<'call:start'>): Promise<CallStartResult>;
  endCall(callId: string): Promise<CallEndResult>;
  /** After a reconnect the call window takes its call back on the new socket. */
  resumeCall(callId: string): Promise<CallResumeResult>;
  /** The call's media and data channel are up: the server may let Santa greet. */
  callConnected(callId: string): Promise<CallConnectedResult>;
  close(): void;
}

/** The minimal part of socket.io-client's Socket used here, so a fake can stand in. */
export interface RawSocket {
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  off(event: string, fn: (...args: unknown[]) => void): unknown;
  /** Only the contract's client events; the ack is checked by the caller, so it is unknown here. */
  timeout(ms: number): {
    emitWithAck<E extends ClientEvent>(event: E, payload: ClientEventPayload<E>): Promise<unknown>;
  };
  disconnect(): unknown;
  /** socket.io's: false once it will not reconnect by itself. */
  readonly active?: boolean;
  connect?(): unknown;
  readonly io?: { on(event: string, fn: (...args: unknown[]) => void): unknown };
}

export type SocketFactory = (baseUrl: string, token: string) => RawSocket;

/**
 * How socket.io reconnects a lost transport: from half a second, doubling, up to 5 s, each
 * delay spread by half either way, so the sockets a stopped process drops do not all knock on
 * the next process in the same instant. 5 s at most keeps a call window well inside the
 * server's grace period (CALL_GRACE_SECONDS, 20 s by default) while a process restarts.
 */
export const RECONNECT_OPTIONS = {
  reconnection: true,
  reconnectionDelay: 500,
  reconnectionDelayMax: 5000,
  randomizationFactor: 0.5,
} as const;

export const defaultSocketFactory: SocketFactory = (baseUrl, token) => {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(baseUrl, {
    auth: { token },
    // WebSocket only: each connection lives on the one process it reached, so any process
    // behind a load balancer can take a reconnect, with no sticky sessions (long-polling
    // would need every request of a session to reach the same process).
    transports: ['websocket'],
    ...RECONNECT_OPTIONS,
  });
  // RawSocket is the narrower surface the client uses (and a fake implements).
  return socket as unknown as RawSocket;
};

/** The server has START_TIMEOUT to reach the provider and answer; it does its own timeouts inside that. */
export const START_ACK_TIMEOUT_MS = 30_000;
const END_ACK_TIMEOUT_MS = 10_000;
/**
 * When socket.io itself will not reconnect: the first retry, doubling up to the last. The last
 * is socket.io's own ceiling, so a call window whose process went away retries often enough
 * to resume its call within the server's grace period.
 */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = RECONNECT_OPTIONS.reconnectionDelayMax;

export interface ConnectOptions {
  /** 0..1, for the spread of this side's retries (Math.random by default; tests fix it). */
  random?: () => number;
}

export function connectSocket(
  baseUrl: string,
  token: string,
  factory: SocketFactory = defaultSocketFactory,
  options: ConnectOptions = {},
): SantaSocket {
  const random = options.random ?? Math.random;
  const raw = factory(baseUrl, token);
  let status: SocketStatus = 'connecting';
  const statusHandlers = new Set<(s: SocketStatus) => void>();
  const setStatus = (next: SocketStatus) => {
    if (status === next || status === 'closed') return;
    status = next;
    for (const h of statusHandlers) h(next);
  };

  // socket.io retries a lost transport by itself, but not a handshake its server's middleware
  // refused (other than unauthorized: a store hiccup) nor a disconnect the server made (an
  // account's sockets dropped when it was restricted): then `active` is false, and this side
  // tries again, backing off, so the window and the panel never stay "reconnecting" for good.
  // A draining process disconnects all its sockets at once: each delay is spread by half
  // either way (as socket.io's own), so they do not all arrive at the next process together.
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let retryDelay = RETRY_MIN_MS;
  const retryIfIdle = () => {
    if (raw.active !== false || !raw.connect || retryTimer !== null) return;
    const spread = Math.round(retryDelay * (0.5 + random()));
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (status === 'reconnecting') raw.connect?.();
    }, spread);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  };

  raw.on('connect', () => {
    retryDelay = RETRY_MIN_MS;
    setStatus('connected');
  });
  raw.on('disconnect', (reason) => {
    // 'io client disconnect' is our own close().
    if (reason === 'io client disconnect') return;
    setStatus('reconnecting');
    retryIfIdle();
  });
  raw.on('connect_error', (err) => {
    const data = (err as { data?: unknown } | null)?.data;
    if (handshakeRefusalSchema.safeParse(data).success || (err instanceof Error && err.message === 'unauthorized')) {
      setStatus('unauthorized');
      raw.disconnect();
    } else {
      setStatus('reconnecting');
      retryIfIdle();
    }
  });

  /** Emit a client event and check its ack against the contract. */
  async function request<E extends ClientEvent>(
    event: E,
    payload: ClientEventPayload<E>,
    timeoutMs: number,
  ): Promise<SocketAck<E>> {
    let ack: unknown;
    try {
      ack = await raw.timeout(timeoutMs).emitWithAck(event, payload);
    } catch {
      return { error: { code: 'network_error', message: 'No answer from the server' } };
    }
    const parsed = CLIENT_EVENTS[event].ack.safeParse(ack);
    return parsed.success
      ? (parsed.data as ClientEventAck<E>)
      : { error: { code: 'bad_response', message: `Unexpected ${event} answer` } };
  }

  return {
    get status() {
      return status;
    },
    on(event, handler) {
      const schema = SERVER_EVENTS[event];
      const listener = (payload: unknown) => {
        const parsed = schema.safeParse(payload);
        if (parsed.success) handler(parsed.data as ServerEventPayload<typeof event>);
        else console.warn(`Dropped a ${event} event that does not match the contract`);
      };
      raw.on(event, listener);
      return () => raw.off(event, listener);
    },
    onStatus(handler) {
      statusHandlers.add(handler);
      return () => statusHandlers.delete(handler);
    },
    async startCall(body) {
      const checked = CLIENT_EVENTS['call:start'].payload.safeParse(body);
      if (!checked.success) return { error: { code: 'invalid_request', message: 'Not a valid call:start' } };
      return request('call:start', checked.data, START_ACK_TIMEOUT_MS);
    },
    endCall: (callId) => request('call:end', { callId }, END_ACK_TIMEOUT_MS),
    resumeCall: (callId) => request('call:resume', { callId }, END_ACK_TIMEOUT_MS),
    callConnected: (callId) => request('call:connected', { callId }, END_ACK_TIMEOUT_MS),
    close() {
      if (retryTimer !== null) clearTimeout(retryTimer);
      retryTimer = null;
      setStatus('closed');
      status = 'closed';
      statusHandlers.clear();
      raw.disconnect();
    },
  };
}
