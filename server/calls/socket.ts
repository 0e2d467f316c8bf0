import type { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { AppError, toWire } from '../core/errors.js';
import { parse } from '../core/validate.js';
import { memoryRateLimits, type EventVerdict, type RateLimits } from '../core/rate-limit.js';
import {
  CLIENT_EVENTS,
  INTER_SERVER_EVENTS,
  type AnyEventErrorCode,
  type MiddlewareErrorCode,
  type ClientEvent,
  type ClientEventAck,
  type ClientEventError,
  type ClientEventErrorCode,
} from '../../shared/schemas/socket.js';
import type { AccountsService } from '../accounts/service.js';
import type { ClientSocket, SocketServer } from '../sockets/hub.js';
import type { CallPeers, CallsService } from './service.js';

export interface CallSocketOptions {
  /** Events a socket may send at once (token bucket size). */
  burst?: number;
  /** Tokens regained per second, on the injected clock. */
  perSecond?: number;
  /** Refused events in a row after which the socket is dropped. */
  dropAfter?: number;
}

type Reply<E extends ClientEvent> = (response: ClientEventAck<E>) => void;

/** The client's ack callback, or a no-op for an event sent without one (call:end's ack is optional). */
function replyOf<E extends ClientEvent>(ack: unknown): Reply<E> {
  return typeof ack === 'function' ? (ack as Reply<E>) : () => undefined;
}

function mayAnswer<E extends ClientEvent>(event: E, code: string): code is ClientEventErrorCode<E> {
  return (CLIENT_EVENTS[event].codes as readonly string[]).includes(code);
}

/**
 * The same error shape as REST answers with, narrowed to the codes the contract lists for the
 * event: a code outside it is a server bug, answered (and logged) as internal_error rather
 * than sent to a client that was never told to expect it.
 */
function ackError<E extends ClientEvent>(event: E, err: unknown, logger: Logger): ClientEventError<E> {
  if (err instanceof AppError) {
    const wire = toWire(err);
    if (mayAnswer(event, wire.error.code)) return wire as ClientEventError<E>;
    logger.error({ event, code: wire.error.code }, 'call socket answered a code outside its contract');
  } else {
    logger.error(
      { event, err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err) },
      'call socket handler failed',
    );
  }
  return anyEventError<E>('internal_error', 'Something went wrong on our side');
}

/** A code every event may answer (TypeScript cannot see that through a generic event). */
function anyEventError<E extends ClientEvent>(code: AnyEventErrorCode, message: string): ClientEventError<E> {
  return { error: { code, message } } as ClientEventError<E>;
}

/**
 * Parse a call:start. A missing or non-string `sdp` is a validation error like any other
 * (invalid_request with fields.sdp); a string that cannot be an offer (too short, too large)
 * is invalid_sdp, as the service's offer check answers, so the call window shows the right message.
 */
function parseStart(payload: unknown): z.output<(typeof CLIENT_EVENTS)['call:start']['payload']> {
  try {
    return parse(CLIENT_EVENTS['call:start'].payload, payload);
  } catch (err) {
    const sdp: unknown =
      typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>).sdp : undefined;
    if (
      err instanceof AppError &&
      err.fields &&
      Object.keys(err.fields).length === 1 &&
      err.fields.sdp &&
      typeof sdp === 'string'
    ) {
      throw new AppError('invalid_sdp', 400, `Invalid SDP offer: ${err.fields.sdp}`);
    }
    throw err;
  }
}

/**
 * The socket.io adapter of the calls service: `call:start`, `call:end`, `call:resume`, each
 * with an ack. The hub has already authenticated the handshake and put the socket in its
 * account's room; payloads over the hub's maxHttpBufferSize never get here (the connection is
 * dropped). Every event costs a token; a flood is answered rate_limited and then dropped. An
 * event no handler knows is answered not_found at once, so the client need not wait for its
 * own timeout.
 */
export function registerCallSockets(
  io: SocketServer,
  deps: {
    calls: CallsService;
    accounts: Pick<AccountsService, 'authenticate'>;
    clock: Clock;
    logger: Logger;
    /** Where the event budgets are counted (with REDIS_URL, across processes); default: in this process. */
    limits?: RateLimits;
    /**
     * False while something the processes share is away (the store, Redis): call:start is
     * answered service_unavailable, so no call starts that could not be metered and seen
     * everywhere. Calls already live are not asked: they go on.
     */
    canStartCalls?: () => boolean;
  },
  options: CallSocketOptions = {},
): void {
  const { calls, accounts, clock, logger } = deps;
  const dropAfter = options.dropAfter ?? 50;
  // One budget per sign-in session, not per socket: reconnecting (to any process) does not refill it.
  const budget = (deps.limits ?? memoryRateLimits(clock)).events(
    'socket-events',
    options.burst ?? 10,
    options.perSecond ?? 2,
  );

  io.on('connection', (socket: ClientSocket) => {
    const accountId = socket.data.auth.account.id;
    const sessionId = socket.data.auth.session.id;
    // Refusals in a row on this socket: a client that goes on sending regardless is dropped.
    let refusedInARow = 0;

    // Middleware, not onAny: socket.io calls onAny listeners before the middleware, and the
    // token must be taken (and a flood refused) before any event is answered.
    socket.use((packet, next) => {
      void budget.take(sessionId).then(
        (verdict) => admit(packet, next, verdict),
        (err: unknown) =>
          logger.error({ err: err instanceof Error ? err.message : String(err) }, 'event budget failed'),
      );
    });
    const admit = (packet: unknown[], next: (err?: Error) => void, verdict: EventVerdict): void => {
      const ack = packet[packet.length - 1];
      const reply =
        typeof ack === 'function'
          ? (ack as (response: { error: { code: MiddlewareErrorCode; message: string } }) => void)
          : null;
      if (!verdict.ok) {
        refusedInARow++;
        reply?.({
          error: { code: 'rate_limited', message: `Too many events; try again in ${verdict.retryAfterSeconds} s` },
        });
        if (refusedInARow >= dropAfter && socket.connected) {
          logger.warn({ accountId }, 'socket dropped for flooding events');
          socket.disconnect(true);
        }
        return;
      }
      refusedInARow = 0;
      // No handler: answered like REST's unknown endpoint, after costing its token. Neither the
      // name nor the payload is logged (both are the client's).
      if (socket.listeners(packet[0] as ClientEvent).length === 0) {
        reply?.({ error: { code: 'not_found', message: 'No such event' } });
        return;
      }
      next();
    };

    /**
     * The session may have been revoked since the handshake (sign-out, password change, account
     * closed): every event checks it again, and a socket without a live session is dropped.
     */
    const stillSignedIn = async (): Promise<boolean> => {
      const token: unknown = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
      const auth = typeof token === 'string' ? await accounts.authenticate(token) : null;
      return auth !== null && auth.account.id === accountId;
    };
    /** Answer first, then drop the socket: the client learns why it was disconnected. */
    const signedOut = <E extends ClientEvent>(reply: Reply<E>): void => {
      reply(anyEventError<E>('unauthorized', 'Your session has ended; sign in again'));
      socket.disconnect(true);
    };

    socket.on('call:start', async (payload, ack) => {
      if (typeof ack !== 'function') return;
      const reply = replyOf<'call:start'>(ack);
      try {
        if (!(await stillSignedIn())) return signedOut(reply);
        const body = parseStart(payload);
        if (deps.canStartCalls && !deps.canStartCalls())
          throw new AppError(
            'service_unavailable',
            503,
            'New calls wait until the server is connected again; calls already going on are not affected',
          );
        const result = await calls.start({
          accountId,
          socketId: socket.id,
          profileId: body.profileId,
          sdp: body.sdp,
          timeZone: body.timeZone,
        });
        // The window's socket may have gone while the provider answered: start its grace period now.
        if (socket.disconnected) calls.socketDisconnected(socket.id);
        reply(result);
      } catch (err) {
        reply(ackError('call:start', err, logger));
      }
    });

    socket.on('call:end', async (payload, ack) => {
      const reply = replyOf<'call:end'>(ack);
      try {
        if (!(await stillSignedIn())) return signedOut(reply);
        const body = parse(CLIENT_EVENTS['call:end'].payload, payload);
        await calls.endFromSocket(accountId, socket.id, body.callId);
        reply({ ok: true });
      } catch (err) {
        reply(ackError('call:end', err, logger));
      }
    });

    socket.on('call:resume', async (payload, ack) => {
      if (typeof ack !== 'function') return;
      const reply = replyOf<'call:resume'>(ack);
      try {
        if (!(await stillSignedIn())) return signedOut(reply);
        const body = parse(CLIENT_EVENTS['call:resume'].payload, payload);
        const { remainingSeconds } = await calls.resume(accountId, socket.id, body.callId);
        reply({ ok: true, remainingSeconds });
      } catch (err) {
        reply(ackError('call:resume', err, logger));
      }
    });

    socket.on('call:connected', async (payload, ack) => {
      const reply = replyOf<'call:connected'>(ack);
      try {
        if (!(await stillSignedIn())) return signedOut(reply);
        const body = parse(CLIENT_EVENTS['call:connected'].payload, payload);
        await calls.windowConnected(accountId, body.callId);
        reply({ ok: true });
      } catch (err) {
        reply(ackError('call:connected', err, logger));
      }
    });

    socket.on('disconnect', () => calls.socketDisconnected(socket.id));
  });
}

/**
 * The other processes, through socket.io's server-side events (the cluster adapter carries them
 * with REDIS_URL). Without a cluster there is nobody to tell, and the in-memory adapter would
 * only warn, so nothing is sent.
 */
export function callPeers(io: SocketServer, clustered: boolean): CallPeers {
  if (!clustered) return { poke: () => undefined, greet: () => undefined };
  return {
    poke: (callId) => void io.serverSideEmit('call:poke', { callId }),
    greet: (callId) => void io.serverSideEmit('call:greet', { callId }),
  };
}

/** What the other processes tell this one about calls it may own; parsed like any input. */
export function registerCallPeerEvents(io: SocketServer, calls: CallsService, logger: Logger): void {
  io.on('call:poke', (payload: unknown) => {
    const parsed = INTER_SERVER_EVENTS['call:poke'].safeParse(payload);
    if (!parsed.success) return logger.warn('ignored a malformed call:poke from another process');
    calls
      .poked(parsed.data.callId)
      .catch((err: unknown) =>
        logger.warn({ callId: parsed.data.callId, err: (err as Error).message }, 'reading a poked call failed'),
      );
  });
  io.on('call:greet', (payload: unknown) => {
    const parsed = INTER_SERVER_EVENTS['call:greet'].safeParse(payload);
    if (parsed.success) calls.greetPoked(parsed.data.callId);
  });
}
