/**
 * What the test knows from the server's answers alone. An operation is "acked" when the
 * server answered 2xx (or the socket ack said ok), "pending" when the answer was lost to a
 * kill: it may or may not have happened, and the next check decides which, once.
 */
export type Ack = 'acked' | 'pending';

export interface EventModel {
  eventId: string;
  sessionId: string;
  payload: string;
  seconds: number;
  state: Ack;
}

export interface GrantModel {
  seconds: number;
  state: Ack;
}

export interface CallModel {
  callId: string;
  /** Wall-clock ms when call:start was sent, and when the call surely ended for us (end ack or kill). */
  sentAt: number;
  endBy: number | null;
  /** The server life it started in: after the next restart's recovery it must be settled. */
  life: number;
}

export interface AccountModel {
  email: string;
  password: string;
  accountId: string | null;
  token: string | null;
  signup: Ack;
  close: 'no' | Ack;
  /** Epoch ms the DELETE /api/me answer promised. */
  purgeBy: number | null;
  liveProfiles: Set<string>;
  deletedProfiles: Map<string, Ack>;
  events: EventModel[];
  grants: GrantModel[];
  calls: CallModel[];
  busy: boolean;
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(list: readonly T[]): T | undefined {
    return list.length ? list[Math.floor(this.next() * list.length)] : undefined;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export class Model {
  readonly accounts: AccountModel[] = [];
  private counter = 0;
  private grantSeconds = 100;
  constructor(readonly tag: string) {}

  newAccount(): AccountModel {
    const n = ++this.counter;
    const a: AccountModel = {
      email: `fault-${this.tag}-${n}@example.test`,
      password: `fault password ${this.tag} ${n}`,
      accountId: null,
      token: null,
      signup: 'pending',
      close: 'no',
      purgeBy: null,
      liveProfiles: new Set(),
      deletedProfiles: new Map(),
      events: [],
      grants: [],
      calls: [],
      busy: false,
    };
    this.accounts.push(a);
    return a;
  }

  uniqueEventId(): string {
    return `evt_fault_${this.tag}_${++this.counter}`;
  }

  /** Every grant has its own number of seconds, so the ledger says which grants happened. */
  uniqueGrantSeconds(): number {
    this.grantSeconds += 1;
    return this.grantSeconds;
  }

  active(): AccountModel[] {
    return this.accounts.filter((a) => a.signup === 'acked' && a.close === 'no' && a.accountId !== null);
  }
}
