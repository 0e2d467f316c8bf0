/* eslint-disable @typescript-eslint/no-explicit-any -- test client: payloads are checked by each assertion */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { parseKey, KEY_FILE } from '../../server/store/crypto.js';
import { committedRows, decryptDataFiles } from '../../server/store/disk-image.js';
import type { TestServer } from '../support/server.js';
import { signUpParent } from '../support/server.js';

export { BROWSER_OFFER } from '../fakes/realtime-provider.js';

/** A socket.io client as the extension opens it: same server, `auth: { token }`, websocket only. */
export async function connectSocket(url: string, token: string, opts: { timeoutMs?: number } = {}): Promise<Socket> {
  const socket = io(url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: opts.timeoutMs ?? 5000,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}

/** Emit with an ack and wait for it. */
export function ack<T = any>(socket: Socket, event: string, payload: unknown, timeoutMs = 10_000): Promise<T> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<T>;
}

/** Every server event a socket receives, in order, with a way to wait for one. */
export class EventLog {
  readonly events: { event: string; payload: any }[] = [];
  private waiters: { event: string; test: (p: any) => boolean; resolve: (p: any) => void }[] = [];

  constructor(socket: Socket) {
    socket.onAny((event: string, payload: unknown) => {
      this.events.push({ event, payload });
      this.waiters = this.waiters.filter((w) => {
        if (w.event !== event || !w.test(payload)) return true;
        w.resolve(payload);
        return false;
      });
    });
  }

  of(event: string): any[] {
    return this.events.filter((e) => e.event === event).map((e) => e.payload);
  }

  wait<T = any>(event: string, test: (p: any) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
    const seen = this.events.find((e) => e.event === event && test(e.payload));
    if (seen) return Promise.resolve(seen.payload as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        event,
        test,
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p as T);
        },
      });
    });
  }
}

export interface ReadyParent {
  token: string;
  accountId: string;
  profileId: string;
  email: string;
  password: string;
}

/**
 * A parent who may call: consent given and verified, call time bought, one child profile.
 * Credit and verification go straight through the services (the payments module is not
 * under test here).
 */
export async function readyParent(
  server: TestServer,
  opts: { seconds?: number; verified?: boolean; consent?: boolean; profile?: Record<string, unknown> } = {},
): Promise<ReadyParent> {
  const parent = await signUpParent(server.api, { consent: opts.consent !== false });
  const profile = await server.api.post(
    '/api/profiles',
    { name: 'Ada', age: 6, language: 'en', wishList: ['a red kite'], ...opts.profile },
    parent.token,
  );
  if (opts.consent !== false && profile.status !== 201)
    throw new Error(`profile failed: ${profile.status} ${JSON.stringify(profile.body)}`);
  if (opts.consent !== false && opts.verified !== false)
    await server.app.services.consent.markVerified(parent.accountId, 'test_card_payment');
  if (opts.seconds)
    await server.app.services.credits.purchase(
      parent.accountId,
      opts.seconds,
      `test-${parent.accountId}-${opts.seconds}`,
    );
  return {
    token: parent.token,
    accountId: parent.accountId,
    profileId: profile.status === 201 ? (profile.body.id as string) : '',
    email: parent.email,
    password: parent.password,
  };
}

/** Every data file of a data directory, decrypted, as text; other files (photos' sealed bytes, the key) as found. */
export function decryptedDataDir(dataDir: string): string {
  const key = parseKey(readFileSync(join(dataDir, KEY_FILE), 'utf8'));
  const sealed = decryptDataFiles(dataDir, key);
  const out: string[] = [...sealed].map(([name, plain]) => `== ${name}\n${plain}`);
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!sealed.has(relative(dataDir, path)))
        out.push(`== ${relative(dataDir, path)}\n${readFileSync(path).toString('latin1')}`);
    }
  };
  walk(dataDir);
  return out.join('\n');
}

/** The committed call records of a data directory, read from its files (for a server in another process). */
export async function callRowsOnDisk(dataDir: string): Promise<any[]> {
  const key = parseKey(readFileSync(join(dataDir, KEY_FILE), 'utf8'));
  for (let attempt = 1; ; attempt++) {
    try {
      return await committedRows(dataDir, key, 'calls');
    } catch (err) {
      // The live server may fold and delete a journal between our listing and our read.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw err;
    }
  }
}

/**
 * A call's ledger entries as `kind:seconds`, sorted: what settling it wrote (hold, capture,
 * release), compared as a whole so a second settlement shows as extra entries.
 */
export async function callLedger(server: TestServer, callId: string): Promise<string[]> {
  return (await server.app.store.ledger.findBy('callId', callId)).map((e) => `${e.kind}:${e.seconds}`).sort();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll until `check` returns a value (not undefined/false), or fail after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
