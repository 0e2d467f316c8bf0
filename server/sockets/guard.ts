import type { EventEmitter } from 'node:events';
import type { Socket } from 'socket.io';
import type { Logger } from '../core/logger.js';

/**
 * socket.io hands every decoded packet to the socket's middleware and listeners, and calls both
 * from its own callbacks (a WebSocket 'message' handler, a process.nextTick): a listener that
 * throws there, or an async one that rejects, is an uncaught exception that ends the process,
 * every live call with it. So every socket of ours is guarded in one place: the packet's shape is
 * checked before anyone reads it, and every middleware and listener registered on the socket (or
 * on the namespace, for 'connection') runs inside a catch.
 */

type Listener = (...args: unknown[]) => unknown;
type Middleware = Parameters<Socket['use']>[0];
type Packet = Parameters<Middleware>[0];
type Ack = (response: unknown) => void;

const INVALID_EVENT = {
  error: { code: 'invalid_request', message: 'An event is a name (a string) followed by its arguments' },
} as const;
const INTERNAL = { error: { code: 'internal_error', message: 'Something went wrong on our side' } } as const;

/** The longest event name any client of ours sends; longer ones are refused before any lookup. */
const MAX_EVENT_NAME = 64;

/**
 * What a handler may assume: a non-empty array whose first element is a string of a sane length.
 * socket.io's parser lets through `42` (no name at all, so an empty argument list), a numeric
 * name (`42[1]`), and a binary event whose placeholder-only payload decodes to nothing (`451-`).
 */
export function wellFormedPacket(packet: unknown): packet is [string, ...unknown[]] {
  return (
    Array.isArray(packet) &&
    packet.length > 0 &&
    typeof packet[0] === 'string' &&
    packet[0].length > 0 &&
    packet[0].length <= MAX_EVENT_NAME
  );
}

function describe(err: unknown): { name: string; message: string; stack?: string } | string {
  return err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err);
}

/** Runs fn; a synchronous throw or a rejected promise goes to onError, never up the stack. */
function contained(fn: () => unknown, onError: (err: unknown) => void): void {
  try {
    const result = fn();
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      (result as PromiseLike<unknown>).then(undefined, onError);
    }
  } catch (err) {
    onError(err);
  }
}

/**
 * Wraps every listener added to this emitter from now on. The wrapper carries `.listener`, as
 * Node's own once-wrappers do, so `off(event, original)` still finds it.
 */
function guardListeners(emitter: EventEmitter, onError: (err: unknown, event: string | symbol) => void): void {
  for (const method of ['on', 'addListener', 'prependListener', 'once', 'prependOnceListener'] as const) {
    const original = emitter[method].bind(emitter) as (event: string | symbol, listener: Listener) => EventEmitter;
    const patched = (event: string | symbol, listener: Listener) => {
      const wrapped = function (this: unknown, ...args: unknown[]) {
        contained(
          () => listener.apply(this, args),
          (err) => onError(err, event),
        );
      };
      (wrapped as Listener & { listener?: Listener }).listener = listener;
      original(event, wrapped);
      return emitter;
    };
    (emitter as unknown as Record<string, unknown>)[method] = patched;
  }
}

/** The namespace's 'connection' listeners: a throw while setting up one socket ends only that socket. */
export function guardNamespace(namespace: EventEmitter, logger: Logger): void {
  guardListeners(namespace, (err, event) => {
    logger.error({ event: String(event), err: describe(err) }, 'socket namespace listener failed');
  });
}

/**
 * Call first in the first 'connection' listener, before anything else registers on the socket:
 * the shape check is then the first middleware, and every later middleware and listener is guarded.
 */
export function guardSocket(socket: Socket, logger: Logger): void {
  const accountId = (socket.data as { auth?: { account?: { id?: string } } } | undefined)?.auth?.account?.id;
  // Neither the event name nor its payload is logged: both are the client's.
  const failed = (where: string) => (err: unknown) => {
    logger.error({ accountId, where, err: describe(err) }, 'socket handler failed');
  };

  // socket.io emits 'error' when a middleware passes an error to next(); an EventEmitter with no
  // 'error' listener throws it.
  socket.on('error', (err: unknown) => {
    logger.warn({ accountId, err: describe(err) }, 'socket error: disconnected');
    socket.disconnect(true);
  });

  const use = socket.use.bind(socket);
  use((packet: Packet, next) => {
    if (wellFormedPacket(packet)) return next();
    const last: unknown = Array.isArray(packet) ? packet[packet.length - 1] : undefined;
    if (typeof last === 'function') (last as Ack)(INVALID_EVENT);
  });
  socket.use = (fn: Middleware) =>
    use((packet, next) => {
      let answered = false;
      const once = (err?: Error) => {
        if (answered) return;
        answered = true;
        next(err);
      };
      contained(
        () => fn(packet, once),
        (err) => {
          failed('middleware')(err);
          const last: unknown = packet[packet.length - 1];
          if (!answered && typeof last === 'function') (last as Ack)(INTERNAL);
          answered = true;
        },
      );
    });

  // Only listeners this server registers are wrapped, so the event name here is one of ours.
  guardListeners(socket as unknown as EventEmitter, (err, event) => failed(`listener ${String(event)}`)(err));
}
