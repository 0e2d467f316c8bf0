import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { FakeClock } from '../../server/core/clock.js';
import { openStore } from '../../server/store/lowdb-store.js';
import { SANTA_LINES } from '../../server/santa/lines.js';
import { callListSchema } from '../../shared/schemas/calls.js';
import { callStartAckSchema } from '../../shared/schemas/socket.js';
import { ApiClient, startTestServer, tempDataDir } from '../support/server.js';
import { createBrowserPeer, type BrowserPeer } from '../support/webrtc-peer.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai/server.js';
import { ack, callRowsOnDisk, connectSocket, eventually, readyParent } from './support.js';
import { assertNoTraces, type Secrets } from './traces.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The real server in its own process (`tsx server/index.ts`, started as `node --import tsx`
 * so the pid is the server itself: `npx tsx` would put wrappers in between that a SIGKILL
 * would not reach), killed with SIGKILL mid-call: no shutdown hook, no last flush.
 */
class ServerProcess {
  private child: ChildProcess | null = null;
  readonly output: string[] = [];
  url = '';

  constructor(private readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let pending = '';
    const listening = new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => {
        this.output.push(b.toString());
        pending += b.toString();
        for (const line of pending.split('\n').slice(0, -1)) {
          if (line.includes('Call Santa server listening')) resolve((JSON.parse(line) as { url: string }).url);
        }
        pending = pending.slice(pending.lastIndexOf('\n') + 1);
      });
      child.stderr!.on('data', (b: Buffer) => this.output.push(b.toString()));
      child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${this.output.join('')}`)));
      setTimeout(() => reject(new Error(`server did not listen in time:\n${this.output.join('')}`)), 60_000).unref();
    });
    this.url = await listening;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    this.child = null;
  }
}

let fake: FakeOpenAI;
const dataDir = tempDataDir('callsanta-crash-');
const processes: ServerProcess[] = [];
let socket: Socket | null = null;
let peer: BrowserPeer | null = null;

afterAll(async () => {
  socket?.disconnect();
  await peer?.close();
  for (const p of processes) await p.kill('SIGKILL');
  await fake?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the server killed mid-call', () => {
  it(
    'the next start takes an OpenAI call over by its call id and meters on from the last checkpoint; it settles once, no credit lost or doubled',
    { timeout: 120_000 },
    async () => {
      fake = await startFakeOpenAI({ persona: { language: 'en', childName: 'Ada', wishList: ['a red kite'] } });
      const env = {
        DATA_DIR: dataDir,
        OPENAI_API_KEY: fake.apiKey,
        OPENAI_BASE_URL: fake.baseURL,
        CALL_CHECKPOINT_SECONDS: '1',
      };

      // A parent who may call, prepared in-process on the same data directory (real time).
      const prep = await startTestServer({ dataDir, clock: new FakeClock(Date.now()), env });
      const parent = await readyParent(prep, { seconds: 600 });
      await prep.stop();

      const first = new ServerProcess(env);
      processes.push(first);
      await first.start();
      socket = await connectSocket(first.url, parent.token);
      peer = await createBrowserPeer();
      const res = callStartAckSchema.parse(
        await ack(socket, 'call:start', { profileId: parent.profileId, sdp: peer.offerSdp }),
      );
      if ('error' in res) throw new Error(`call:start refused: ${res.error.code}`);
      await peer.setAnswer(res.sdp);
      await peer.waitForEvent('session.created', 15_000);

      // Let the call run until a checkpoint of at least 2 s is on disk, then pull the plug.
      await eventually(
        async () => ((await callRowsOnDisk(dataDir)).find((r) => r.id === res.callId)?.meteredSeconds ?? 0) >= 2,
        20_000,
        'a checkpoint on disk',
      );
      await first.kill('SIGKILL');
      socket.disconnect();
      const onDisk = (await callRowsOnDisk(dataDir)).find((r) => r.id === res.callId);
      expect(onDisk).toMatchObject({ endedAt: null, settledAt: null, heldSeconds: 600 });
      const checkpoint = onDisk.meteredSeconds as number;
      const providerCallId = onDisk.providerCallId as string;
      expect(checkpoint).toBeGreaterThanOrEqual(2);
      // The provider's call outlived the server: nobody has hung it up yet.
      expect(fake.state.hangups).not.toContain(providerCallId);
      expect(fake.state.calls.has(providerCallId)).toBe(true);

      // The next start finds the call's owner gone (lowdb is one process's alone) and takes the
      // call over before it listens: the sideband is joined again by the call id, the child's
      // media (browser <-> provider) never stopped, and metering goes on from the checkpoint.
      const second = new ServerProcess(env);
      processes.push(second);
      await second.start();
      expect(fake.state.sidebandConnections.filter((c) => c.callId === providerCallId)).toHaveLength(2);
      expect(fake.state.hangups).not.toContain(providerCallId);
      expect(fake.state.calls.has(providerCallId)).toBe(true);
      // The call window comes back on the new process within the grace period and resumes.
      const socket2 = await connectSocket(second.url, parent.token);
      const resumed = await ack(socket2, 'call:resume', { callId: res.callId });
      expect(resumed).toMatchObject({ ok: true });
      expect(resumed.remainingSeconds).toBeLessThanOrEqual(600 - checkpoint);
      const tick = await new Promise<{ callId: string; elapsedSeconds: number }>((resolve) =>
        socket2.once('call:tick', resolve),
      );
      expect(tick.callId).toBe(res.callId);
      expect(tick.elapsedSeconds).toBeGreaterThanOrEqual(checkpoint);
      const ended = new Promise<{ reason: string; seconds: number }>((resolve) => socket2.once('call:ended', resolve));
      expect(await ack(socket2, 'call:end', { callId: res.callId })).toEqual({ ok: true });
      const end = await ended;
      expect(end.reason).toBe('hangup');
      expect(end.seconds).toBeGreaterThanOrEqual(tick.elapsedSeconds);
      socket2.disconnect();
      expect(fake.state.hangups.filter((id) => id === providerCallId)).toEqual([providerCallId]);
      const api = new ApiClient(second.url);
      const history = callListSchema.parse((await api.get('/api/calls', parent.token)).body);
      expect(history.calls).toEqual([
        {
          id: res.callId,
          profileId: parent.profileId,
          startedAt: expect.any(String),
          endedAt: expect.any(String),
          seconds: end.seconds,
          reason: 'hangup',
        },
      ]);
      const me = await api.get('/api/me', parent.token);
      expect(me.body).toMatchObject({ balanceSeconds: 600 - end.seconds, availableSeconds: 600 - end.seconds });

      // A third start finds nothing open and settles nothing twice.
      await second.kill('SIGTERM');
      const third = new ServerProcess(env);
      processes.push(third);
      await third.start();
      await third.kill('SIGTERM');
      expect(fake.state.hangups.filter((id) => id === providerCallId)).toHaveLength(1);

      const store = await openStore({ dataDir });
      try {
        const entries = (await store.ledger.findBy('callId', res.callId)).map((e) => `${e.kind}:${e.seconds}`).sort();
        expect(entries).toEqual([`capture:${end.seconds}`, 'hold:600', `release:${600 - end.seconds}`]);
        expect(await store.calls.get(res.callId)).toMatchObject({ reason: 'hangup', meteredSeconds: end.seconds });
        expect((await store.calls.findBy('endedAt', null)).length).toBe(0);
      } finally {
        await store.close();
      }

      const logs = processes.flatMap((p) => p.output);
      expect(logs.join('')).toContain('call taken over: metering goes on here');
      // Nothing said, no SDP, no token in the data or in any process's logs.
      const secrets: Secrets = {
        texts: [SANTA_LINES.en.greeting('Ada')],
        sdps: [peer.offerSdp, res.sdp],
        tokens: [parent.token, fake.apiKey],
      };
      assertNoTraces({ dataDir, logs: [...prep.logs, ...logs] }, secrets);
    },
  );
});
