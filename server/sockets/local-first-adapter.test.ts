import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Server, type Namespace } from 'socket.io';
import { ClusterAdapter, type ClusterMessage, type ClusterResponse } from 'socket.io-adapter';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { createLogger } from '../core/logger.js';
import { deliverLocallyFirst, RemoteBacklog } from './local-first-adapter.js';

/**
 * A cluster adapter whose Redis is away: every append waits until the test answers it
 * (`redisBack`), as the streams adapter's XADDs wait in ioredis' offline queue.
 */
class AwayCluster extends ClusterAdapter {
  readonly appended: ClusterMessage[] = [];
  private waiting: (() => void)[] = [];

  constructor(nsp: Namespace) {
    super(nsp);
  }

  protected doPublish(message: ClusterMessage): Promise<string> {
    this.appended.push(message);
    return new Promise((resolve) => this.waiting.push(() => resolve(`${this.appended.length}-0`)));
  }

  protected doPublishResponse(_uid: string, _response: ClusterResponse): Promise<void> {
    return Promise.resolve();
  }

  /** Redis answers every append that waited. */
  redisBack(): void {
    for (const answer of this.waiting.splice(0)) answer();
  }

  /** A stream entry read back, as the streams adapter's reader hands it over. */
  read(message: ClusterMessage): void {
    this.onMessage(message);
  }
}

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setUp(cap: number, neverDrop?: (event: unknown) => boolean) {
  const { logger, lines } = capture();
  let dropped = 0;
  const backlog = new RemoteBacklog({ cap, logger, onDrop: () => dropped++ });
  let cluster: AwayCluster | null = null;
  const http: HttpServer = createServer();
  const io = new Server(http, {
    adapter: function adapter(nsp: Namespace) {
      cluster = deliverLocallyFirst(new AwayCluster(nsp), backlog, neverDrop);
      return cluster;
    },
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => io.close(() => resolve())));
  const client: ClientSocket = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  closers.push(async () => void client.close());
  const received: unknown[] = [];
  client.on('words', (n: unknown) => received.push(n));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('connect_error', reject);
  });
  const until = async (check: () => boolean, what = 'the condition') => {
    for (const giveUp = Date.now() + 5000; !check(); await new Promise((r) => setTimeout(r, 5)))
      if (Date.now() > giveUp) throw new Error(`gave up waiting for ${what}`);
  };
  return { io, client, cluster: cluster! as AwayCluster, backlog, lines, received, dropped: () => dropped, until };
}

const wordsOf = (messages: ClusterMessage[]) =>
  messages.map((m) => (m as { data: { packet: { data: unknown[] } } }).data.packet.data[1]);

describe("an event goes to this process's own sockets at once, whatever Redis does", () => {
  it('delivers locally while every append for the other processes still waits, and appends the same BROADCAST in emit order', async () => {
    const { io, cluster, backlog, received, until } = await setUp(100);
    for (let n = 1; n <= 5; n++) io.emit('words', n);
    io.to('nobody-here').emit('words', 'to a room');

    await until(() => received.length === 5, 'the five events on the local socket');
    expect(received).toEqual([1, 2, 3, 4, 5]);
    expect(backlog.waiting).toBe(6);
    // What the other processes get: the library's BROADCAST message with the emit's own options.
    expect(cluster.appended.map((m) => m.type)).toEqual([3, 3, 3, 3, 3, 3]);
    expect(wordsOf(cluster.appended)).toEqual([1, 2, 3, 4, 5, 'to a room']);
    expect((cluster.appended[5] as { data: { opts: unknown } }).data.opts).toEqual({
      rooms: ['nobody-here'],
      except: [],
      flags: {},
    });
    cluster.redisBack();
    await until(() => backlog.waiting === 0);
  });

  it('appends nothing for an emit to this process only (io.local)', async () => {
    const { io, cluster, received, until } = await setUp(100);
    io.local.emit('words', 'here only');
    await until(() => received.length === 1);
    expect(cluster.appended).toEqual([]);
  });

  it('reading back its own append delivers nothing twice; an entry of another process is delivered', async () => {
    const { io, cluster, received, until } = await setUp(100);
    io.emit('words', 'once');
    await until(() => received.length === 1);
    cluster.read(cluster.appended[0]!);
    cluster.read({ ...cluster.appended[0]!, uid: 'another-process' } as ClusterMessage);
    // The socket's packets come in order: once this one is here, any earlier one is too.
    io.local.emit('words', 'last');
    await until(() => received.at(-1) === 'last');
    expect(received).toEqual(['once', 'once', 'last']);
  });
});

describe('what waits for Redis is bounded', () => {
  it('drops appends beyond the cap, counts each, warns once per outage without the payload, and never drops a local delivery', async () => {
    const { io, cluster, backlog, lines, received, dropped, until } = await setUp(3);
    for (let n = 1; n <= 5; n++) io.emit('words', `secret words ${n}`);
    await until(() => received.length === 5, 'the five events on the local socket');
    expect(received).toEqual([1, 2, 3, 4, 5].map((n) => `secret words ${n}`));
    expect(wordsOf(cluster.appended)).toEqual(['secret words 1', 'secret words 2', 'secret words 3']);
    expect(backlog.waiting).toBe(3);
    expect(dropped()).toBe(2);
    const warnings = () => lines.filter((l) => JSON.parse(l).level === 40);
    expect(warnings()).toHaveLength(1);
    expect(lines.join('')).not.toContain('secret words');

    // Redis is back: the waiting appends are answered, and the next ones are sent again.
    cluster.redisBack();
    await until(() => backlog.waiting === 0);
    expect(lines.map((l) => JSON.parse(l).dropped).filter((d) => d !== undefined)).toEqual([2]);
    io.emit('words', 'after');
    expect(wordsOf(cluster.appended).at(-1)).toBe('after');
    cluster.redisBack();
    await until(() => backlog.waiting === 0);

    // A second outage warns again, once.
    for (let n = 1; n <= 5; n++) io.emit('words', n);
    await until(() => received.length === 11);
    expect(dropped()).toBe(4);
    expect(warnings()).toHaveLength(2);
  });

  it('disconnects sockets here at once and always appends the disconnect, past the cap too: a revoked socket gets nothing emitted after', async () => {
    const { io, client, cluster, backlog, received, dropped, until } = await setUp(2);
    io.emit('words', 1);
    io.emit('words', 2);
    await until(() => received.length === 2, 'the events before the revocation');
    const gone = new Promise<string>((resolve) => client.once('disconnect', resolve));
    io.disconnectSockets(true);
    io.emit('words', 'after the revocation');
    expect(await gone).toBe('io server disconnect');
    expect(cluster.appended.map((m) => m.type)).toEqual([3, 3, 6]);
    expect(backlog.waiting).toBe(3);
    expect(dropped()).toBe(1);
    expect(received).toEqual([1, 2]);
  });

  it('appends the events it is told never to drop past the cap too', async () => {
    const { io, cluster, received, dropped, until } = await setUp(1, (event) => event === 'withdrawn');
    io.emit('words', 1);
    io.emit('words', 2);
    io.emit('withdrawn');
    await until(() => received.length === 2, 'the local events');
    expect(cluster.appended.map((m) => (m as { data: { packet: { data: unknown[] } } }).data.packet.data[0])).toEqual([
      'words',
      'withdrawn',
    ]);
    expect(dropped()).toBe(1);
  });
});
