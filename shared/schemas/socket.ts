import { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import { noticeSchema } from './account.js';
import {
  callConnectedSchema,
  callEndedSchema,
  callEndSchema,
  callResumeSchema,
  callSantaStoppedSchema,
  callStartedEventSchema,
  callStartOkSchema,
  callStartSchema,
  callTickSchema,
  callTranscriptSchema,
  callWarningSchema,
} from './calls.js';
import { creditsUpdatedEventSchema } from './credits.js';

/**
 * The socket.io contract, once, for both sides: every event in each direction, its payload,
 * its ack and the error codes that ack may carry. The server's `Server<...>` generics, its
 * Notifier and the extension's socket client are all typed from these two maps, so an event
 * or a code that is not here does not compile on either side (docs/API.md describes each).
 */

/** Answered to any client event: the session re-check, the token bucket, the payload check, a bug. */
export const ANY_EVENT_ERRORS = [
  'unauthorized',
  'rate_limited',
  'invalid_request',
  'internal_error',
] as const satisfies readonly ErrorCode[];

function clientEvent<P extends z.ZodType, O extends z.ZodType, const C extends readonly ErrorCode[]>(spec: {
  payload: P;
  ok: O;
  errors: C;
  ackRequired: boolean;
}) {
  const codes = [...ANY_EVENT_ERRORS, ...spec.errors] as const;
  const error = z.object({
    error: z.object({ code: z.enum(codes), message: z.string(), fields: z.record(z.string(), z.string()).optional() }),
  });
  return { ...spec, codes, error, ack: z.union([spec.ok, error]) };
}

export const CLIENT_EVENTS = {
  /** The call window places a call; without an ack the server ignores it. */
  'call:start': clientEvent({
    payload: callStartSchema,
    ok: callStartOkSchema,
    errors: [
      'invalid_sdp',
      // Only in a race: a closed account's sessions end with it, so its sockets are answered
      // unauthorized first; an account closed between that check and the start is this.
      'account_closed',
      'processing_restricted',
      'consent_required',
      'consent_unverified',
      'consent_outdated',
      // The profile is missing or another account's.
      'not_found',
      'quiet_hours',
      'daily_limit_reached',
      'call_in_progress',
      'insufficient_credit',
      'credit_owed',
      // Another child's live (or starting) call holds the time (GET /api/calls/readiness says whose).
      'credit_held',
      'provider_unavailable',
      // The store or (with REDIS_URL) Redis is away: new calls wait until it is back; live ones go on.
      'service_unavailable',
    ],
    ackRequired: true,
  }),
  /** The call window (hangup) or any other socket of the account (parent) ends the call; ack optional. */
  'call:end': clientEvent({
    payload: callEndSchema,
    ok: z.object({ ok: z.literal(true) }),
    errors: ['call_not_found'],
    ackRequired: false,
  }),
  /** The call window, back on a new socket within the grace period, takes its call again. */
  'call:resume': clientEvent({
    payload: callResumeSchema,
    ok: z.object({ ok: z.literal(true), remainingSeconds: z.number().int() }),
    errors: ['call_not_found'],
    ackRequired: true,
  }),
  /**
   * The call window's peer connection and data channel are up: the server asks Santa to greet
   * now, so the greeting is heard (without it, after a fallback delay). Once per call; ack optional.
   */
  'call:connected': clientEvent({
    payload: callConnectedSchema,
    ok: z.object({ ok: z.literal(true) }),
    errors: ['call_not_found'],
    ackRequired: false,
  }),
} as const;

/** Any other event name is answered at once with not_found ("no such event"), or rate_limited. */
export const UNKNOWN_EVENT_ERRORS = ['not_found', 'rate_limited'] as const satisfies readonly ErrorCode[];
/** What the socket's own middleware answers, before it knows which event it is: any event's shared codes, or an unknown one's. */
export type MiddlewareErrorCode = (typeof ANY_EVENT_ERRORS)[number] | (typeof UNKNOWN_EVENT_ERRORS)[number];

/**
 * A handshake refused for its token: the client's `connect_error` carries this as `err.data`
 * (and `err.message === 'unauthorized'`); the client stops reconnecting and signs in again.
 */
export const handshakeRefusalSchema = z.object({ code: z.literal('unauthorized'), message: z.string() });
export type HandshakeRefusal = z.output<typeof handshakeRefusalSchema>;

/** Server -> client, to every socket of the account. */
export const SERVER_EVENTS = {
  'call:started': callStartedEventSchema,
  'call:tick': callTickSchema,
  'call:warning': callWarningSchema,
  'call:transcript': callTranscriptSchema,
  'call:santa_stopped': callSantaStoppedSchema,
  'call:ended': callEndedSchema,
  'credits:updated': creditsUpdatedEventSchema,
  notice: noticeSchema,
} as const;

/**
 * Server -> server, between the processes of one installation (socket.io's serverSideEmit,
 * carried by the cluster adapter with REDIS_URL; one process alone has nobody to tell). Best
 * effort nudges: the call record in the store is the truth, and its owner reads it at every
 * checkpoint anyway (server/calls/lease.ts). They travel over Redis pub/sub, so one sent while
 * Redis is away is often lost; the checkpoint read honours it within CALL_CHECKPOINT_SECONDS.
 */
export const INTER_SERVER_EVENTS = {
  /** A call's record changed on another process (an end asked, the call window moved): its owner reads it now. */
  'call:poke': z.object({ callId: z.string().min(1).max(200) }),
  /** call:connected reached a process that does not run the call: its owner lets Santa greet. */
  'call:greet': z.object({ callId: z.string().min(1).max(200) }),
} as const;
export type InterServerEvent = keyof typeof INTER_SERVER_EVENTS;
export type InterServerPayload<E extends InterServerEvent> = z.output<(typeof INTER_SERVER_EVENTS)[E]>;
/** socket.io's `ServerSideEvents`: what arrives is parsed with the event's schema before use. */
export type InterServerEvents = { [E in InterServerEvent]: (payload: InterServerPayload<E>) => void };

export type ClientEvent = keyof typeof CLIENT_EVENTS;
export type AnyEventErrorCode = (typeof ANY_EVENT_ERRORS)[number];
/** What a client sends (before the server's parse: so the schema's input side). */
export type ClientEventPayload<E extends ClientEvent> = z.input<(typeof CLIENT_EVENTS)[E]['payload']>;
export type ClientEventOk<E extends ClientEvent> = z.output<(typeof CLIENT_EVENTS)[E]['ok']>;
export type ClientEventErrorCode<E extends ClientEvent> = (typeof CLIENT_EVENTS)[E]['codes'][number];
export type ClientEventError<E extends ClientEvent> = z.output<(typeof CLIENT_EVENTS)[E]['error']>;
export type ClientEventAck<E extends ClientEvent> = ClientEventOk<E> | ClientEventError<E>;

export type ServerEvent = keyof typeof SERVER_EVENTS;
export type ServerEventPayload<E extends ServerEvent> = z.output<(typeof SERVER_EVENTS)[E]>;

/** socket.io's `EmitEvents` of the server and `ListenEvents` of a client. */
export type ServerToClientEvents = { [E in ServerEvent]: (payload: ServerEventPayload<E>) => void };
/** socket.io's `EmitEvents` of a client: a typed payload and the ack it is answered with. */
export type ClientToServerEvents = {
  [E in ClientEvent]: (payload: ClientEventPayload<E>, ack: (response: ClientEventAck<E>) => void) => void;
};
/**
 * The server's `ListenEvents`: the same events, but a payload is whatever arrived (each
 * handler parses it with the event's schema) and an ack may be missing.
 */
export type ClientToServerEventsReceived = {
  [E in ClientEvent]: (payload: unknown, ack?: (response: ClientEventAck<E>) => void) => void;
};

export type CallStartAck = ClientEventAck<'call:start'>;
export type CallEndAck = ClientEventAck<'call:end'>;
export type CallResumeAck = ClientEventAck<'call:resume'>;
export type CallConnectedAck = ClientEventAck<'call:connected'>;
export const callStartAckSchema = CLIENT_EVENTS['call:start'].ack;
export const callEndAckSchema = CLIENT_EVENTS['call:end'].ack;
export const callResumeAckSchema = CLIENT_EVENTS['call:resume'].ack;
export const callConnectedAckSchema = CLIENT_EVENTS['call:connected'].ack;
