import { describe, expectTypeOf, it } from 'vitest';
import type { CallEnded, CallTick } from '../../shared/schemas/calls.js';
import type { ClientEventAck, ClientEventErrorCode, ServerEvent } from '../../shared/schemas/socket.js';
import type { ClientSocket, Notifier, SocketServer } from './hub.js';

/**
 * The server side of the socket contract, checked by the compiler (`npm run typecheck` runs
 * over this file; each @ts-expect-error line fails the typecheck if it ever compiles). The
 * functions below are never called: only their types matter.
 */
describe('the server compiles only what the socket contract allows', () => {
  it('the Notifier takes an event of the contract with its own payload', () => {
    expectTypeOf<Parameters<Notifier['toAccount']>[1]>().toEqualTypeOf<ServerEvent>();
    const notifier = null as unknown as Notifier;
    const typed = () => {
      notifier.toAccount('a', 'call:tick', {
        callId: 'c',
        profileId: 'p',
        remainingSeconds: 10,
        elapsedSeconds: 2,
      } satisfies CallTick);
      notifier.toAccount('a', 'call:ended', { callId: 'c', reason: 'hangup', seconds: 3 } satisfies CallEnded);
      // @ts-expect-error -- not an event of the contract
      notifier.toAccount('a', 'call:bogus', { callId: 'c' });
      // @ts-expect-error -- a client -> server event is not emitted by the server
      notifier.toAccount('a', 'call:start', { profileId: 'p', sdp: 'v=0' });
      // @ts-expect-error -- a tick without its counters
      notifier.toAccount('a', 'call:tick', { callId: 'c' });
      // @ts-expect-error -- an end reason the contract does not list
      notifier.toAccount('a', 'call:ended', { callId: 'c', reason: 'bored', seconds: 3 });
      // @ts-expect-error -- seconds are a number
      notifier.toAccount('a', 'credits:updated', { balanceSeconds: '60', availableSeconds: 60 });
      // @ts-expect-error -- no untyped payloads
      notifier.toAccount('a', 'notice', {} as object);
    };
    expectTypeOf(typed).toBeFunction();
  });

  it('the socket.io server and its sockets are typed by the same map', () => {
    const io = null as unknown as SocketServer;
    const socket = null as unknown as ClientSocket;
    const typed = () => {
      io.to('room').emit('call:warning', { callId: 'c', kind: 'time_low', remainingSeconds: 60 });
      // @ts-expect-error -- not an event of the contract
      io.to('room').emit('call:bogus', {});
      // @ts-expect-error -- kind is time_low or safety
      socket.emit('call:warning', { callId: 'c', kind: 'loud' });
      socket.on('call:end', (_payload, ack) => ack?.({ ok: true }));
      socket.on('call:resume', (_payload, ack) =>
        ack?.({ error: { code: 'call_not_found', message: 'No such live call' } }),
      );
      // @ts-expect-error -- the server listens only to the contract's client events
      socket.on('call:bogus', () => undefined);
      // @ts-expect-error -- call:resume's ok answer carries remainingSeconds
      socket.on('call:resume', (_payload, ack) => ack?.({ ok: true }));
      // @ts-expect-error -- call:end does not answer insufficient_credit
      socket.on('call:end', (_payload, ack) => ack?.({ error: { code: 'insufficient_credit', message: 'x' } }));
    };
    expectTypeOf(typed).toBeFunction();
  });

  it('each event answers its own codes', () => {
    expectTypeOf<'call_not_found'>().toExtend<ClientEventErrorCode<'call:end'>>();
    expectTypeOf<'call_not_found'>().toExtend<ClientEventErrorCode<'call:resume'>>();
    expectTypeOf<'insufficient_credit'>().toExtend<ClientEventErrorCode<'call:start'>>();
    expectTypeOf<'not_found'>().not.toExtend<ClientEventErrorCode<'call:end'>>();
    expectTypeOf<{ ok: true }>().toExtend<ClientEventAck<'call:end'>>();
    expectTypeOf<{ ok: true }>().not.toExtend<ClientEventAck<'call:resume'>>();
  });
});
