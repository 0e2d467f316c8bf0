import type { Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { AppError, toWire } from '../core/errors.js';
import { parse } from '../core/validate.js';
import { EventRateLimiter } from '../core/rate-limit.js';
import { callEndSchema, callResumeSchema, callStartSchema, type AckError } from '../../shared/schemas/calls.js';
import type { AccountsService } from '../accounts/service.js';
import type { SocketData } from '../sockets/hub.js';
import type { CallsService } from './service.js';

export interface CallSocketOptions {
  /** Events a socket may send at once (token bucket size). */
  burst?: number;
  /** Tokens regained per second, on the injected clock. */
  perSecond?: number;
  /** Refused events in a row after which the socket is dropped. */
  dropAfter?: number;
}

type Ack = (response: unknown) => void;

function ackError(err: unknown, logger: Logger, event: string): AckError {
  // The same error shape as REST answers with.
  if (err instanceof AppError) return toWire(err);
  logger.error({ event, err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err) }, 'call socket handler failed');
  return { error: { code: 'internal_error', message: 'Something went wrong on our side' } };
}

/**
 * Parse a call:start. A missing or non-string `sdp` is a validation error like any other
 * (invalid_request with fields.sdp); a string that cannot be an offer (too short, too large)
 * is invalid_sdp, as the service's offer check answers, so the call window shows the right message.
 */
function parseStart(payload: unknown): z.output<typeof callStartSchema> {
  try {
    return parse(callStartSchema, payload);
  } catch (err) {
    const sdp: unknown = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>).sdp : undefined;
    if (err instanceof AppError && err.fields && Object.keys(err.fields).length === 1 && err.fields.sdp && typeof sdp === 'string') {
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
export function registerCallSockets(io: Server, deps: { calls: CallsService; accounts: Pick<AccountsService, 'authenticate'>; clock: Clock; logger: Logger }, options: CallSocketOptions = {}): void {
  const { calls, accounts, clock, logger } = deps;
  const burst = options.burst ?? 10;
  const perSecond = options.perSecond ?? 2;
  const dropAfter = options.dropAfter ?? 50;

  io.on('connection', (socket: Socket) => {
    const data = socket.data as SocketData;
    const accountId = data.auth.account.id;
    const limiter = new EventRateLimiter(clock, burst, perSecond, dropAfter);

    // Middleware, not onAny: socket.io calls onAny listeners before the middleware, and the
    // token must be taken (and a flood refused) before any event is answered.
    socket.use((packet, next) => {
      const verdict = limiter.take();
      const ack = packet[packet.length - 1];
      const reply = typeof ack === 'function' ? (ack as Ack) : null;
      if (verdict !== 'ok') {
        reply?.({ error: { code: 'rate_limited', message: `Too many events; try again in ${limiter.retryAfterSeconds()} s` } } satisfies AckError);
        if (verdict === 'drop') {
          logger.warn({ accountId }, 'socket dropped for flooding events');
          socket.disconnect(true);
        }
        return;
      }
      // No handler: answered like REST's unknown endpoint, after costing its token. Neither the
      // name nor the payload is logged (both are the client's).
      if (socket.listeners(packet[0]).length === 0) {
        reply?.({ error: { code: 'not_found', message: 'No such event' } } satisfies AckError);
        return;
      }
      next();
    });

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
    const signedOut = (reply: Ack): void => {
      reply({ error: { code: 'unauthorized', message: 'Your session has ended; sign in again' } } satisfies AckError);
      socket.disconnect(true);
    };

    socket.on('call:start', async (payload: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      const reply = ack as Ack;
      try {
        if (!(await stillSignedIn())) return signedOut(reply);
        const body = parseStart(payload);
        const result = await calls.start({ accountId, socketId: socket.id, profileId: body.profileId, sdp: body.sdp, timeZone: body.timeZone });
        // The window's socket may have gone while the provider answered: start its grace period now.
        if (socket.disconnected) calls.socketDisconnected(socket.id);
        reply(result);
      } catch (err) {
        reply(ackError(err, logger, 'call:start'));
      }
    });

    socket.on('call:end', async (payload: unknown, ack: unknown) => {
      const reply: Ack = typeof ack === 'function' ? (ack as Ack) : () => undefined;
      try {
        if (!(await stillSignedIn())) return signedOut(reply);
        const body = parse(callEndSchema, payload);
        await calls.endFromSocket(accountId, socket.id, body.callId);
        reply({ ok: true });
      } catch (err) {
        reply(ackError(err, logger, 'call:end'));
      }
    });

    socket.on('call:resume', async (payload: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      const reply = ack as Ack;
      try {
        if (!(await stillSignedIn())) return signedOut(reply);
        const body = parse(callResumeSchema, payload);
        const { remainingSeconds } = calls.resume(accountId, socket.id, body.callId);
        reply({ ok: true, remainingSeconds });
      } catch (err) {
        reply(ackError(err, logger, 'call:resume'));
      }
    });

    socket.on('disconnect', () => calls.socketDisconnected(socket.id));
  });
}
