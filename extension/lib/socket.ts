import './zod-config.js';
import { io, type Socket } from 'socket.io-client';
import type { z } from 'zod';
import {
  callEndAckSchema,
  callEndedSchema,
  callResumeAckSchema,
  callStartAckSchema,
  callStartedEventSchema,
  callStartSchema,
  callTickSchema,
  callTranscriptSchema,
  callWarningSchema,
  creditsUpdatedEventSchema,
  noticeSchema,
  type CallStart,
  type CallStartAck,
} from '../../shared/index.js';

/**
 * The socket client: one authenticated socket.io connection, every incoming payload checked
 * with its shared schema (a payload that does not match is dropped, never half-rendered),
 * acks validated too. The call window uses it to place its call; the side panel to watch.
 */
export const SERVER_EVENTS = {
  'call:started': callStartedEventSchema,
  'call:tick': callTickSchema,
  'call:warning': callWarningSchema,
  'call:transcript': callTranscriptSchema,
  'call:ended': callEndedSchema,
  'credits:updated': creditsUpdatedEventSchema,
  notice: noticeSchema,
} as const;

export type ServerEvent = keyof typeof SERVER_EVENTS;
export type ServerPayload<E extends ServerEvent> = z.output<(typeof SERVER_EVENTS)[E]>;

export type SocketStatus = 'connecting' | 'connected' | 'reconnecting' | 'unauthorized' | 'closed';

export type CallEndAck = { ok: true } | { error: { code: string; message: string } };
export type CallResumeAck = { ok: true; remainingSeconds: number } | { error: { code: string; message: string } };

/** What the call session and the side panel need from a socket; tests pass a fake. */
export interface SantaSocket {
  on<E extends ServerEvent>(event: E, handler: (payload: ServerPayload<E>) => void): () => void;
  onStatus(handler: (status: SocketStatus) => void): () => void;
  readonly status: SocketStatus;
  startCall(body: CallStart): Promise<CallStartAck>;
  endCall(callId: string): Promise<CallEndAck>;
  /** After a reconnect the call window takes its call back on the new socket. */
  resumeCall(callId: string): Promise<CallResumeAck>;
  close(): void;
}

/** The minimal part of socket.io-client's Socket used here, so a fake can stand in. */
export interface RawSocket {
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  off(event: string, fn: (...args: unknown[]) => void): unknown;
  timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
  disconnect(): unknown;
  readonly io?: { on(event: string, fn: (...args: unknown[]) => void): unknown };
}

export type SocketFactory = (baseUrl: string, token: string) => RawSocket;

export const defaultSocketFactory: SocketFactory = (baseUrl, token) =>
  io(baseUrl, {
    auth: { token },
    // WebSocket first; long-polling only if something in between refuses WebSockets.
    transports: ['websocket', 'polling'],
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  }) as Socket as unknown as RawSocket;

/** The server has START_TIMEOUT to reach the provider and answer; it does its own timeouts inside that. */
export const START_ACK_TIMEOUT_MS = 30_000;
const END_ACK_TIMEOUT_MS = 10_000;

export function connectSocket(baseUrl: string, token: string, factory: SocketFactory = defaultSocketFactory): SantaSocket {
  const raw = factory(baseUrl, token);
  let status: SocketStatus = 'connecting';
  const statusHandlers = new Set<(s: SocketStatus) => void>();
  const setStatus = (next: SocketStatus) => {
    if (status === next || status === 'closed') return;
    status = next;
    for (const h of statusHandlers) h(next);
  };

  raw.on('connect', () => setStatus('connected'));
  raw.on('disconnect', (reason) => {
    // 'io client disconnect' is our own close(); anything else reconnects by itself.
    if (reason !== 'io client disconnect') setStatus('reconnecting');
  });
  raw.on('connect_error', (err) => {
    const data = (err as { data?: { code?: unknown } } | null)?.data;
    if (data?.code === 'unauthorized' || (err instanceof Error && err.message === 'unauthorized')) {
      setStatus('unauthorized');
      raw.disconnect();
    } else setStatus('reconnecting');
  });

  return {
    get status() {
      return status;
    },
    on(event, handler) {
      const schema = SERVER_EVENTS[event];
      const listener = (payload: unknown) => {
        const parsed = schema.safeParse(payload);
        if (parsed.success) handler(parsed.data as ServerPayload<typeof event>);
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
      const checked = callStartSchema.safeParse(body);
      if (!checked.success) return { error: { code: 'invalid_request', message: 'Not a valid call:start' } };
      let ack: unknown;
      try {
        ack = await raw.timeout(START_ACK_TIMEOUT_MS).emitWithAck('call:start', checked.data);
      } catch {
        return { error: { code: 'network_error', message: 'No answer from the server' } };
      }
      const parsed = callStartAckSchema.safeParse(ack);
      return parsed.success ? parsed.data : { error: { code: 'bad_response', message: 'Unexpected call:start answer' } };
    },
    async endCall(callId) {
      let ack: unknown;
      try {
        ack = await raw.timeout(END_ACK_TIMEOUT_MS).emitWithAck('call:end', { callId });
      } catch {
        return { error: { code: 'network_error', message: 'No answer from the server' } };
      }
      const parsed = callEndAckSchema.safeParse(ack);
      return parsed.success ? parsed.data : { error: { code: 'bad_response', message: 'Unexpected call:end answer' } };
    },
    async resumeCall(callId) {
      let ack: unknown;
      try {
        ack = await raw.timeout(END_ACK_TIMEOUT_MS).emitWithAck('call:resume', { callId });
      } catch {
        return { error: { code: 'network_error', message: 'No answer from the server' } };
      }
      const parsed = callResumeAckSchema.safeParse(ack);
      return parsed.success ? parsed.data : { error: { code: 'bad_response', message: 'Unexpected call:resume answer' } };
    },
    close() {
      setStatus('closed');
      status = 'closed';
      statusHandlers.clear();
      raw.disconnect();
    },
  };
}
