import { describe, expectTypeOf, it } from 'vitest';
import type { CallEnded, ClientEventErrorCode } from '../../shared/index.js';
import type { CallEndResult, CallStartResult, RawSocket, SantaSocket } from './socket.js';
import type { FakeSantaSocket } from './testing/fakes.js';

/**
 * The extension side of the socket contract, checked by the compiler (`npm run typecheck`
 * runs over this file; each @ts-expect-error line fails the typecheck if it ever compiles).
 * The functions below are never called: only their types matter.
 */
describe('the extension compiles only what the socket contract allows', () => {
  it('listens only to server events, each with its payload type', () => {
    const socket = null as unknown as SantaSocket;
    const typed = () => {
      socket.on('call:ended', (ended) => expectTypeOf(ended).toEqualTypeOf<CallEnded>());
      socket.on('call:tick', (tick) => expectTypeOf(tick.remainingSeconds).toBeNumber());
      // @ts-expect-error -- not an event of the contract
      socket.on('call:bogus', () => undefined);
      // @ts-expect-error -- call:start is sent by the client, never received
      socket.on('call:start', () => undefined);
      // @ts-expect-error -- a tick has no reason
      socket.on('call:tick', (tick) => tick.reason);
    };
    expectTypeOf(typed).toBeFunction();
  });

  it('emits only client events, each with its payload shape', () => {
    const socket = null as unknown as SantaSocket;
    const raw = null as unknown as RawSocket;
    const typed = async () => {
      await socket.startCall({ profileId: 'p', sdp: 'v=0', timeZone: 'Europe/Copenhagen' });
      // @ts-expect-error -- profileId is a string
      await socket.startCall({ profileId: 7, sdp: 'v=0' });
      // @ts-expect-error -- the offer is required
      await socket.startCall({ profileId: 'p' });
      await raw.timeout(1).emitWithAck('call:end', { callId: 'c' });
      // @ts-expect-error -- not an event of the contract
      await raw.timeout(1).emitWithAck('call:bogus', { callId: 'c' });
      // @ts-expect-error -- a server -> client event is not emitted by the client
      await raw.timeout(1).emitWithAck('call:ended', { callId: 'c', reason: 'hangup', seconds: 1 });
      // @ts-expect-error -- call:resume names its call as callId
      await raw.timeout(1).emitWithAck('call:resume', { id: 'c' });
    };
    expectTypeOf(typed).toBeFunction();
  });

  it('acks carry the codes the contract lists for the event, plus the two made here', () => {
    expectTypeOf<Extract<CallEndResult, { error: unknown }>['error']['code']>().toEqualTypeOf<
      ClientEventErrorCode<'call:end'> | 'network_error' | 'bad_response'
    >();
    expectTypeOf<'call_not_found'>().toExtend<Extract<CallEndResult, { error: unknown }>['error']['code']>();
    expectTypeOf<'not_found'>().not.toExtend<Extract<CallEndResult, { error: unknown }>['error']['code']>();
    expectTypeOf<'quiet_hours'>().toExtend<Extract<CallStartResult, { error: unknown }>['error']['code']>();
  });

  it('the test fake speaks the same contract as the server', () => {
    const fake = null as unknown as FakeSantaSocket;
    const typed = () => {
      fake.emit('call:warning', { callId: 'c', kind: 'safety', category: 'secret' });
      // @ts-expect-error -- not a safety category
      fake.emit('call:warning', { callId: 'c', kind: 'safety', category: 'rude' });
      // @ts-expect-error -- call:end answers call_not_found, not not_found
      fake.endAck = async () => ({ error: { code: 'not_found', message: 'x' } });
    };
    expectTypeOf(typed).toBeFunction();
  });
});
