import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { ackErrorSchema, callEndSchema, callResumeSchema, callStartSchema } from '../../shared/schemas/calls.js';
import type { z } from 'zod';
import { BROWSER_OFFER, FakeRealtimeProvider } from '../fakes/realtime-provider.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeParty, storeCounts, storeDigest, type Party } from '../authz/world.js';
import { invalidBody, junkText, junkValue, roundTrip } from './arbitraries.js';
import { RawSocketIo, type Frame } from '../support/raw-socket-io.js';
import { rmSync } from 'node:fs';
import { ApiClient, signUpParent, tempDataDir } from '../support/server.js';
import { freePort, ServerProcess } from '../faults/server-process.js';

/**
 * Malformed socket traffic: every client event with generated payloads (and without an ack
 * function), unknown events, oversized frames and junk handshakes. Never a crash, every ack
 * in the error shape, nothing in the store changes. FUZZ_RUNS inputs (default 10,000: sockets are cheap to fuzz).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);

let server: TestServer;
let party: Party;
let socket: Socket;
let sent = 0;
/** Anything that escaped the server's handlers in this process: a real server would have exited. */
const uncaught: unknown[] = [];
const recordUncaught = (err: unknown) => uncaught.push(err);

function open(auth: unknown): Socket {
  return connect(server.url, {
    auth: auth as Record<string, unknown>,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
}

/** Connected, refused by our handshake check (connect_error with data), or closed by socket.io's parser. */
function connected(s: Socket): Promise<{ ok: boolean; data?: unknown; closed?: boolean }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, data: 'no answer' }), 5000);
    const done = (r: { ok: boolean; data?: unknown; closed?: boolean }) => {
      clearTimeout(timer);
      resolve(r);
    };
    s.once('connect', () => done({ ok: true }));
    s.once('connect_error', (err: Error & { data?: unknown }) => done({ ok: false, data: err.data }));
    s.once('disconnect', () => done({ ok: false, closed: true }));
  });
}

async function liveSocket(): Promise<Socket> {
  if (socket?.connected) return socket;
  socket?.close();
  socket = open({ token: party.token });
  const r = await connected(socket);
  if (!r.ok) throw new Error(`fuzz socket did not connect: ${JSON.stringify(r.data)}`);
  return socket;
}

beforeAll(async () => {
  process.on('uncaughtException', recordUncaught);
  // The event rate limit runs on the injected clock, which the fuzzer moves on; nothing else
  // may fire on it meanwhile (retention would write).
  server = await startTestServer({
    env: { RETENTION_INTERVAL_MS: String(10 ** 12) },
    app: { realtime: new FakeRealtimeProvider(0) },
  });
  party = await makeParty(server, 'sockfuzz');
  await liveSocket();
  console.log(`socket fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);
}, 60_000);

afterAll(async () => {
  process.off('uncaughtException', recordUncaught);
  socket?.close();
  await server?.close();
});

interface SocketInput {
  event: string;
  payload: unknown;
  withAck: boolean;
  strategy: string;
}

const EVENTS: Record<string, { schema: z.ZodType; valid: () => Record<string, unknown> }> = {
  'call:start': { schema: callStartSchema, valid: () => ({ profileId: party.profileId, sdp: BROWSER_OFFER }) },
  'call:end': { schema: callEndSchema, valid: () => ({ callId: 'no-such-call' }) },
  'call:resume': { schema: callResumeSchema, valid: () => ({ callId: 'no-such-call' }) },
};

function inputs(): fc.Arbitrary<SocketInput> {
  const perEvent = Object.entries(EVENTS).flatMap(([event, { schema, valid }]) => [
    // Refused by the shared schema.
    fc
      .tuple(invalidBody(schema, valid()), fc.boolean())
      .map(([payload, withAck]) => ({ event, payload: roundTrip(payload), withAck, strategy: 'invalid payload' })),
    // Well formed, but naming nothing of this account's: a random child, or a call that does not exist.
    fc
      .tuple(
        junkText.filter((s) => s.length > 0 && s.length <= 64),
        fc.constantFrom(BROWSER_OFFER, 'v=0\r\nnot really sdp', 'v=0\r\nm=video 9 RTP/AVP 96\r\n'),
      )
      .map(([id, sdp]) => ({
        event,
        payload: event === 'call:start' ? { profileId: id === party.profileId ? `${id}x` : id, sdp } : { callId: id },
        withAck: true,
        strategy: 'unknown id',
      })),
  ]);
  // The account's own child with an SDP the offer check refuses (no audio, video, an answer, junk lines).
  const refusedOffer = fc
    .constantFrom(
      'v=0\r\n',
      'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n',
      BROWSER_OFFER.replace('m=audio', 'm=video'),
      BROWSER_OFFER.replace(/a=setup:actpass/g, 'a=setup:active'),
      `v=0\r\n${'x'.repeat(100)}`,
    )
    .map((sdp) => ({
      event: 'call:start',
      payload: { profileId: party.profileId, sdp },
      withAck: true,
      strategy: 'refused offer',
    }));
  return fc.oneof(
    ...perEvent,
    refusedOffer,
    fc
      .tuple(
        fc.oneof(
          junkText,
          fc.constantFrom('call:tick', 'credits:updated', 'admin', 'call:start ', '__proto__', 'constructor'),
        ),
        junkValue,
      )
      .map(([event, payload]) => ({
        event: event || 'x',
        payload,
        withAck: false,
        strategy: 'unknown event',
      })),
  );
}

function emit(s: Socket, input: SocketInput): Promise<unknown> {
  return new Promise((resolve) => {
    if (!input.withAck) {
      s.emit(input.event, input.payload);
      // A ping round trip: the server has read the frame and is still answering.
      return s
        .timeout(5000)
        .emit('call:end', { callId: 'ping' }, (err: Error | null, ack: unknown) => resolve(err ? 'no answer' : ack));
    }
    s.timeout(5000).emit(input.event, input.payload, (err: Error | null, ack: unknown) =>
      resolve(err ? 'no answer' : ack),
    );
  });
}

describe('malformed socket traffic', () => {
  it(`never crashes, always acks in the error shape, and changes nothing (${RUNS} inputs to the call events)`, async () => {
    await server.app.store.flush();
    const digest = await storeDigest(server.app.store);
    const counts = await storeCounts(server.app.store);
    await fc.assert(
      fc.asyncProperty(inputs(), async (input) => {
        // Two events per input at most; the bucket refills 2 per second of the fake clock.
        if (++sent % 4 === 0) await server.clock.advanceAsync(5000, 5000);
        const s = await liveSocket();
        const ack = await emit(s, input);
        const where = `${input.event} ${JSON.stringify(input.payload)?.slice(0, 200)} [${input.strategy}] -> ${JSON.stringify(ack)?.slice(0, 200)}`;
        expect(ack, where).not.toBe('no answer');
        expect(ackErrorSchema.safeParse(ack).success, where).toBe(true);
        // Rate limiting would mean the payload was never judged: the fuzzer refills the bucket to avoid it.
        expect(['internal_error', 'rate_limited'], where).not.toContain(
          (ack as { error: { code: string } }).error.code,
        );
        expect(server.app.services.calls.liveCount(), where).toBe(0);
        expect(await storeCounts(server.app.store), where).toEqual(counts);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    await server.app.store.flush();
    expect(await storeDigest(server.app.store)).toEqual(digest);
  }, 600_000);

  it('drops a frame over the size limit without harm to the server', async () => {
    const s = await liveSocket();
    const closed = new Promise<void>((resolve) => s.once('disconnect', () => resolve()));
    s.emit('call:start', { profileId: party.profileId, sdp: `v=0\r\n${'a'.repeat(70 * 1024)}` });
    await closed;
    const again = await liveSocket();
    const ack = await new Promise((resolve) => again.emit('call:end', { callId: 'after-oversize' }, resolve));
    expect(ackErrorSchema.safeParse(ack).success).toBe(true);
  });

  it(`refuses ${Math.max(50, Math.floor(RUNS / 10))} junk handshakes and changes nothing`, async () => {
    const counts = await storeCounts(server.app.store);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          junkValue,
          fc.record({ token: junkValue }),
          fc.record({ token: junkText.map((t) => `${party.token}${t}x`) }),
        ),
        async (auth) => {
          const s = open(auth);
          const r = await connected(s);
          s.close();
          expect(r.ok, JSON.stringify(auth)).toBe(false);
          const plainObject = typeof auth === 'object' && auth !== null && !Array.isArray(auth);
          // socket.io itself closes a handshake whose auth is not an object; ours answers the rest.
          if (plainObject || !r.closed) expect(r.data, JSON.stringify(auth)).toMatchObject({ code: 'unauthorized' });
          expect(await storeCounts(server.app.store)).toEqual(counts);
        },
      ),
      { numRuns: Math.max(50, Math.floor(RUNS / 10)), seed: SEED },
    );
  });
});

/**
 * Frames as they travel on the wire, below socket.io's client: engine.io packet types, socket.io
 * packet types, attachment counts, namespaces, ack ids and payloads in any combination, and the
 * binary frames that follow a binary event. Each arbitrary frame is one socket.io packet inside
 * an engine.io message (`4`), or an engine.io packet of its own.
 */
const frameArb: fc.Arbitrary<Frame[]> = (() => {
  const sioType = fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '9', '');
  const attachments = fc.oneof(fc.constant(''), fc.constantFrom('0-', '1-', '2-', '-', '1', '10-', '99999999999-'));
  const nsp = fc.oneof(fc.constant(''), fc.constantFrom('/,', '/admin,', '/x', '/,/'));
  const ackId = fc.oneof(
    fc.constant(''),
    fc.integer({ min: 0, max: 2 ** 53 }).map(String),
    fc.constantFrom('-1', '1.5', '00'),
  );
  const data = fc.oneof(
    fc.constant(''),
    junkValue.map((v) => JSON.stringify(v) ?? ''),
    fc.array(junkValue, { maxLength: 3 }).map((a) => JSON.stringify(a)),
    fc
      .tuple(
        fc.oneof(
          junkValue,
          fc.constantFrom('call:start', 'call:end', 'call:resume', 'disconnect', 'connect', 'error', 'newListener'),
        ),
        junkValue,
      )
      .map((a) => JSON.stringify(a)),
    fc.constantFrom(
      '[{"_placeholder":true,"num":0}]',
      '["call:end",{"_placeholder":true,"num":0}]',
      '[',
      '{"__proto__":{"x":1}}',
      'null',
      '[]',
      '[null]',
      '[1]',
      '["",1]',
    ),
    junkText,
  );
  const sioFrame = fc.tuple(sioType, attachments, nsp, ackId, data).map(([t, a, n, id, d]) => `4${t}${a}${n}${id}${d}`);
  const eioFrame = fc
    .tuple(fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', 'b', ''), junkText)
    .map(([t, d]) => `${t}${d}`);
  const binary = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));
  const one = fc.oneof(
    { weight: 6, arbitrary: sioFrame.map((f) => [f] as Frame[]) },
    { weight: 1, arbitrary: eioFrame.map((f) => [f] as Frame[]) },
  );
  // A binary event and its attachments (or too few, or junk), as one burst.
  const withAttachments = fc
    .tuple(
      sioFrame.filter((f) => f.startsWith('45') || f.startsWith('46')),
      fc.array(binary, { maxLength: 3 }),
    )
    .map(([f, bins]) => [f, ...bins] as Frame[]);
  return fc.oneof(one, withAttachments, fc.constant<Frame[]>(['42']), fc.constant<Frame[]>(['451-', Buffer.alloc(0)]));
})();

/** A socket.io CONNECT or DISCONNECT (an engine.io message `4` whose packet type is 0, 1 or missing). */
const mayLeaveNamespace = (f: Frame): boolean =>
  typeof f === 'string' && f.startsWith('4') && !/^[2-9]$/.test(f.charAt(1));

describe('raw engine.io/socket.io frames', () => {
  let bystander: Socket;
  let other: Party;
  let ackIds = 1000;

  beforeAll(async () => {
    other = await makeParty(server, 'bystander');
    bystander = open({ token: other.token });
    const r = await connected(bystander);
    if (!r.ok) throw new Error('bystander did not connect');
  }, 60_000);

  afterAll(() => bystander?.close());

  /** The bystander's socket is still the same connection and still answers. */
  async function bystanderAnswers(): Promise<void> {
    expect(bystander.connected).toBe(true);
    const ack = await bystander.timeout(5000).emitWithAck('call:end', { callId: 'bystander' });
    expect(ackErrorSchema.safeParse(ack).success).toBe(true);
  }

  it('an event with no name (`42`) and a binary event with an empty attachment (`451-`) leave the server up and every other socket connected', async () => {
    const bystanderId = bystander.id;
    for (const frames of [
      ['42'],
      ['451-', Buffer.alloc(0)],
      ['42[1]'],
      ['42[]'],
      ['420'],
      ['4510-["x",{"_placeholder":true,"num":0}]', Buffer.alloc(0)],
    ] as Frame[][]) {
      await server.clock.advanceAsync(5000, 5000);
      const raw = await RawSocketIo.open(server.url, party.token);
      for (const f of frames) raw.send(f);
      // The same connection still answers a well-formed event (or socket.io closed it for a frame it could not decode).
      const ack = await raw.ack('call:end', { callId: 'after-raw' }, ++ackIds);
      if (ack !== 'closed') expect(ackErrorSchema.safeParse(ack).success, JSON.stringify(frames)).toBe(true);
      raw.close();
      expect(uncaught, JSON.stringify(frames)).toEqual([]);
      await bystanderAnswers();
    }
    expect(bystander.id).toBe(bystanderId);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it(`generated malformed frames (${Math.max(200, Math.floor(RUNS / 10))}) never escape a handler, never disconnect another socket, and change nothing`, async () => {
    await server.app.store.flush();
    const counts = await storeCounts(server.app.store);
    const bystanderId = bystander.id;
    await fc.assert(
      fc.asyncProperty(frameArb, async (frames) => {
        if (++sent % 4 === 0) await server.clock.advanceAsync(5000, 5000);
        const raw = await RawSocketIo.open(server.url, party.token);
        for (const f of frames) raw.send(f);
        const where = JSON.stringify(
          frames.map((f) => (typeof f === 'string' ? f.slice(0, 200) : `<binary ${f.length}>`)),
        );
        if (frames.some(mayLeaveNamespace)) {
          // The client left or re-joined the namespace: its events may rightly go unanswered on
          // this connection, so a new one must answer instead.
          raw.close();
          const fresh = await RawSocketIo.open(server.url, party.token);
          expect(
            ackErrorSchema.safeParse(await fresh.ack('call:end', { callId: 'after-raw' }, ++ackIds)).success,
            where,
          ).toBe(true);
          fresh.close();
        } else {
          // The same connection answers the next well-formed event, unless socket.io closed it for a frame it could not decode.
          const ack = await raw.ack('call:end', { callId: 'after-raw' }, ++ackIds);
          if (ack !== 'closed') expect(ackErrorSchema.safeParse(ack).success, where).toBe(true);
          raw.close();
        }
        expect(uncaught, where).toEqual([]);
        expect(bystander.connected, where).toBe(true);
        expect(await storeCounts(server.app.store), where).toEqual(counts);
      }),
      { numRuns: Math.max(200, Math.floor(RUNS / 10)), seed: SEED, endOnFailure: true },
    );
    expect(bystander.id).toBe(bystanderId);
    await bystanderAnswers();
  }, 600_000);

  it('the server process itself survives `42` and `451-` (it does not exit)', async () => {
    const port = await freePort();
    const dataDir = tempDataDir();
    const proc = new ServerProcess(port, { DATA_DIR: dataDir, RETENTION_INTERVAL_MS: String(10 ** 12) });
    await proc.start();
    try {
      const parent = await signUpParent(new ApiClient(proc.url));
      for (const frames of [['42'], ['451-', Buffer.alloc(0)]] as Frame[][]) {
        const raw = await RawSocketIo.open(proc.url, parent.token);
        for (const f of frames) raw.send(f);
        const ack = await raw.ack('call:end', { callId: 'after-raw' }, 1);
        expect(ackErrorSchema.safeParse(ack).success, `${JSON.stringify(frames)}\n${proc.output()}`).toBe(true);
        raw.close();
      }
      expect(proc.pid).toBeDefined();
      expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);
    } finally {
      await proc.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
