import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { newId } from '../core/ids.js';
import { AppError, conflict, forbidden } from '../core/errors.js';
import { toIso, toIsoOrNull } from '../../shared/units.js';
import type {
  CallBlock,
  CallEndReason,
  CallReadiness,
  CallRecord,
  CallStartOk,
  CallStartedEvent,
} from '../../shared/schemas/calls.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { AccountRow, CallRow, ProfileRow, Store } from '../store/types.js';
import type { Notifier } from '../sockets/hub.js';
import type { ConsentBlock } from '../consent/service.js';
import {
  providerErrorToApiCode,
  RealtimeProviderError,
  type RealtimeProvider,
  type SantaSessionConfig,
  type StartedCall,
} from '../realtime/provider.js';
import { buildSantaInstructions } from '../santa/persona.js';
import { LiveCall, type CallEndResult, type CallGuard, type CallLimitReason } from './live-call.js';
import { CallCloser } from './call-closer.js';
import { offerProblem } from './sdp.js';
import {
  inQuietHours,
  isTimeZone,
  localMinuteOfDay,
  secondsUntilQuiet,
  startOfLocalDay,
  UTC,
} from './parent-controls.js';
import { settleEndedCalls, type RecoveryResult } from './recovery.js';
import { leaseExpired, LeaseWatcher } from './lease.js';
import { sweepUpTo, type SweepOptions } from '../store/sweep.js';
import { newestFirst, oldestFirst } from '../core/order.js';
import { ConcurrencyLimit } from '../core/concurrency.js';

/** What the calls service needs from the other modules: small ports, so tests can see the seams. */
export interface CallsCreditsPort {
  hold(accountId: string, callId: string, range: { min: number; max: number }): Promise<number | null>;
  settle(callId: string, meteredSeconds: number): Promise<{ capturedSeconds: number; releasedSeconds: number } | null>;
  state(accountId: string): Promise<{ owesSeconds: number; balanceSeconds: number; availableSeconds: number }>;
}
export interface CallsConsentPort {
  callBlock(accountId: string): Promise<ConsentBlock>;
}
export interface CallsProfilesPort {
  /** The account's profile; throws not_found for a missing or foreign id. */
  get(accountId: string, profileId: string): Promise<ProfileRow>;
  /** The account's profiles, oldest first (readiness answers for each child). */
  listRows(accountId: string): Promise<ProfileRow[]>;
  /** The account's profile, or undefined when it is gone (a call taken over after its child was deleted). */
  find(accountId: string, profileId: string): Promise<ProfileRow | undefined>;
}
export interface CallsAccountsPort {
  /** The account as it is now: its status and restriction decide whether it may call. */
  get(accountId: string): Promise<AccountRow | undefined>;
}

export interface CallsOptions {
  minCallSeconds: number;
  maxCallSeconds: number;
  callGraceSeconds: number;
  voice: string;
  maxOutputTokens: number;
  /** A provider that has not answered the offer by then fails the start (real time: it is a network wait). */
  providerTimeoutMs: number;
  checkpointSeconds: number;
  wrapUpSeconds: number;
  /** How long a live call stays this process's without a checkpoint (each checkpoint renews it). */
  leaseSeconds: number;
  /** How often this process looks for calls whose owner stopped renewing. */
  leaseWatchMs: number;
  /**
   * Whether other processes serve the same store (REDIS_URL): a shutdown then hands its calls
   * over instead of ending them. Alone, a shutdown ends them (nobody would take them over).
   */
  handOverOnShutdown: boolean;
}

/**
 * The other server processes, as the calls service needs them: a nudge to a call's owner that
 * its record changed (an end request, the call window moved), so it reads it now rather than
 * at its next checkpoint, and call:connected for a call another process runs. Best effort:
 * the record is the truth, and the owner reads it at every checkpoint anyway.
 */
export interface CallPeers {
  poke(callId: string): void;
  greet(callId: string): void;
}

export const NO_PEERS: CallPeers = { poke: () => undefined, greet: () => undefined };

export const DEFAULT_CALL_TUNING = {
  maxOutputTokens: 1024,
  providerTimeoutMs: 15_000,
  checkpointSeconds: 5,
  wrapUpSeconds: 60,
} as const;

export interface CallsDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  credits: CallsCreditsPort;
  consent: CallsConsentPort;
  accounts: CallsAccountsPort;
  profiles: CallsProfilesPort;
  notifier: Pick<Notifier, 'toAccount'>;
  provider: RealtimeProvider;
  /** A fresh guardrail for each call, in the child's language. */
  guard: (language: ProfileRow['language']) => CallGuard;
  options: CallsOptions;
  /** This process's id (lease.ts): the owner the records of its live calls name. */
  processId: string;
  peers?: CallPeers;
}

export interface StartCallRequest {
  accountId: string;
  /** The socket that asked: the call window. */
  socketId: string;
  profileId: string;
  sdp: string;
  /** IANA zone of the call window, for the parent controls (see parent-controls.ts). */
  timeZone?: string | undefined;
}

const refuse = (code: ErrorCode, message: string) => forbidden(code, message);
/** One answer for "no such live call of yours" on every path (call:end, call:resume, admin): an unknown id, another account's call or one already over. */
export const noSuchCall = () => new AppError('call_not_found', 404, 'No such live call');

/**
 * Live calls: the checks before a call, the credit hold, the provider, metering, every kind of
 * end and crash recovery. It knows nothing of socket.io or Express; socket.ts and routes.ts adapt.
 *
 * Truth lives in the store (call records, ledger); the in-memory map only holds the live
 * sessions' timers and control channels, which cannot outlive the process anyway.
 */
/** The zone a profile's quiet hours and daily minutes are read in: the one stored with them, else UTC. */
function controlsZone(profile: { timeZone?: string | null }): string {
  return profile.timeZone && isTimeZone(profile.timeZone) ? profile.timeZone : UTC;
}

export class CallsService {
  private readonly live = new Map<string, LiveCall>();
  /** The one closing path of every call this process ends. */
  private readonly closer: CallCloser;
  /** Starts between the first write and the ack: shutdown aborts and waits for them. */
  private readonly starting = new Map<string, StartInFlight>();
  private closing = false;
  /** Call windows connected to this process whose calls another process runs: socket id -> call id. */
  private readonly remoteWindows = new Map<string, string>();
  private readonly watcher: LeaseWatcher;
  private readonly peers: CallPeers;

  constructor(private readonly deps: CallsDeps) {
    this.closer = new CallCloser(deps);
    this.peers = deps.peers ?? NO_PEERS;
    this.watcher = new LeaseWatcher({
      clock: deps.clock,
      logger: deps.logger,
      intervalMs: deps.options.leaseWatchMs,
      scan: () => this.takeOverExpired('server_lost'),
    });
  }

  get processId(): string {
    return this.deps.processId;
  }

  private get leaseMs(): number {
    return this.deps.options.leaseSeconds * 1000;
  }

  get providerKind(): RealtimeProvider['kind'] {
    return this.deps.provider.kind;
  }

  liveCount(): number {
    return this.live.size;
  }

  // ---- start -----------------------------------------------------------------------

  /**
   * Every check, in order, then the hold, the record, Santa's session and the provider.
   * Throws AppError with a stable code on refusal; any failure after the hold releases it.
   */
  async start(req: StartCallRequest): Promise<CallStartOk> {
    const { store, clock } = this.deps;
    if (this.closing)
      throw new AppError('provider_unavailable', 503, 'The server is restarting; try again in a moment');
    // Still validated (a client that sends junk hears so), but never used: see the parent controls below.
    if (req.timeZone !== undefined && !isTimeZone(req.timeZone))
      throw new AppError('invalid_request', 400, 'Unknown time zone', { timeZone: 'Not an IANA time zone' });

    const account = await this.deps.accounts.get(req.accountId);
    const accountBlock = await this.accountBlock(account, req.accountId);
    if (accountBlock) throw refuse(accountBlock, BLOCK_MESSAGES[accountBlock]);
    const profile = await this.deps.profiles.get(req.accountId, req.profileId);

    // Parent controls. A call never runs into quiet hours or past the daily minutes: both cap its length.
    // They are read in the zone the parent stored with them, never in one the caller names
    // (a zone sent with call:start is ignored: it could move quiet hours anywhere).
    const tz = controlsZone(profile);
    const now = clock.now();
    const elsewhere = await this.liveElsewhere(req.accountId);
    const controls = await this.profileLimits(profile, now, tz, elsewhere);
    if ('block' in controls) {
      if (controls.block === 'call_in_progress') throw conflict('call_in_progress', 'This child is already on a call');
      throw refuse(controls.block, BLOCK_MESSAGES[controls.block]);
    }
    const { minSeconds, dailyLeft, untilQuiet } = controls;
    const sdpProblem = offerProblem(req.sdp);
    if (sdpProblem) throw new AppError('invalid_sdp', 400, sdpProblem);

    const limits = {
      max_duration: this.deps.options.maxCallSeconds,
      daily_limit: dailyLeft,
      quiet_hours: untilQuiet ?? Infinity,
    };
    const maxSeconds = Math.min(limits.max_duration, limits.daily_limit, limits.quiet_hours);
    const callId = newId();
    const row: CallRow = {
      id: callId,
      accountId: req.accountId,
      profileId: profile.id,
      provider: this.deps.provider.kind,
      providerCallId: null,
      heldSeconds: 0,
      startedAt: now,
      meteredSeconds: 0,
      checkpointAt: now,
      endedAt: null,
      reason: null,
      settledAt: null,
      ownerId: this.deps.processId,
      // Until the provider answers (at most its timeout), then renewed by every checkpoint.
      leaseUntil: now + this.leaseMs + this.deps.options.providerTimeoutMs,
      limitReason: null,
      endRequest: null,
      window: { processId: this.deps.processId, socketId: req.socketId, connected: true },
    };
    // One live call per child, decided atomically with the insert. The record and the hold reach
    // the disk in one commit (the store's commits are atomic across tables), so a crash leaves
    // both or neither: never a hold that recovery does not find.
    const inserted = await store.calls.insertIf(row, { field: 'profileId', value: profile.id }, (rows) =>
      rows.every((r) => r.endedAt !== null),
    );
    if (!inserted) throw conflict('call_in_progress', 'This child is already on a call');

    const abort = new AbortController();
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    const inFlight: StartInFlight = { accountId: req.accountId, profileId: profile.id, abort, done, endReason: null };
    this.starting.set(callId, inFlight);
    try {
      let held: number | null;
      try {
        held = await this.deps.credits.hold(req.accountId, callId, { min: minSeconds, max: maxSeconds });
      } catch (err) {
        await store.calls.remove(callId);
        throw err;
      }
      if (held === null) {
        await store.calls.remove(callId);
        const block =
          this.creditBlock(await this.deps.credits.state(req.accountId), req.accountId, minSeconds, elsewhere, callId)
            .block ?? 'insufficient_credit';
        throw refuse(
          block,
          block === 'insufficient_credit'
            ? `A call needs at least ${minSeconds} seconds of call time`
            : BLOCK_MESSAGES[block],
        );
      }
      return await this.startHeld(req, profile, row, held, limitReason(held, limits), inFlight);
    } finally {
      this.starting.delete(callId);
      release();
    }
  }

  private async startHeld(
    req: StartCallRequest,
    profile: ProfileRow,
    row: CallRow,
    held: number,
    limitReason: CallLimitReason,
    inFlight: StartInFlight,
  ): Promise<CallStartOk> {
    const shutdownSignal = inFlight.abort.signal;
    const { store, logger } = this.deps;
    const callId = row.id;
    let started: StartedCall | null = null;
    try {
      await store.calls.update(callId, { heldSeconds: held, limitReason });
      const session = this.sessionConfig(profile, held);
      started = await this.callProvider(req.sdp, session, shutdownSignal);
      if (this.closing || shutdownSignal.aborted)
        throw new RealtimeProviderError('aborted', 'the call was ended while it started');
      // Only while the record is open: an admin or account end may have closed it meanwhile.
      const me = this.deps.processId;
      const open = await store.calls.update(
        callId,
        { providerCallId: started.providerCallId, leaseUntil: this.deps.clock.now() + this.leaseMs },
        { if: (c) => c.endedAt === null && c.ownerId === me },
      );
      if (!open) throw new RealtimeProviderError('aborted', 'the call was ended while it started');
      // The provider's call id must be durable before the child talks: recovery hangs up by it.
      await store.flush();
    } catch (err) {
      started?.control.close();
      await this.abandon(row, inFlight.endReason ?? 'provider_error', started?.providerCallId ?? null);
      if (inFlight.endReason === 'restricted')
        throw refuse('processing_restricted', 'Processing was restricted while the call started');
      if (inFlight.endReason === 'account_closed')
        throw refuse('account_closed', 'The account was closed while the call started');
      if (err instanceof AppError) throw err;
      const code = providerErrorToApiCode(err);
      logger.warn(
        { callId, code, providerCode: err instanceof RealtimeProviderError ? err.code : 'unknown' },
        'call start failed at the provider',
      );
      throw code === 'invalid_sdp'
        ? new AppError('invalid_sdp', 400, 'The provider refused the offer')
        : code === 'rate_limited'
          ? new AppError('rate_limited', 429, 'Santa is very busy right now; try again in a minute')
          : new AppError('provider_unavailable', 503, 'Santa cannot be reached right now; no call time was used');
    }

    const callSession = new LiveCall(this.liveCallDeps(), {
      callId,
      accountId: req.accountId,
      profileId: profile.id,
      language: profile.language,
      heldSeconds: held,
      limitReason,
      providerCallId: started.providerCallId,
      control: started.control,
      guard: this.deps.guard(profile.language),
      windowSocketId: req.socketId,
      ...(started.session ? { session: started.session } : {}),
    });
    this.track(callSession);
    if (started.control.closed) {
      // The channel died while the record was written: a clean failure, nothing charged.
      await callSession.end('provider_error');
      throw new AppError('provider_unavailable', 503, 'Santa cannot be reached right now; no call time was used');
    }
    // Metering starts; Santa greets once the call window says its connection is up (call:connected).
    callSession.start();
    logger.info({ callId, provider: this.deps.provider.kind, heldSeconds: held }, 'call started');
    const startedEvent: CallStartedEvent = {
      callId,
      profileId: profile.id,
      profileName: profile.name,
      availableSeconds: held,
      simulated: this.deps.provider.kind === 'simulated',
    };
    this.deps.notifier.toAccount(req.accountId, 'call:started', startedEvent);
    return { callId, sdp: started.answerSdp, availableSeconds: held };
  }

  private liveCallDeps() {
    return {
      clock: this.deps.clock,
      logger: this.deps.logger,
      store: this.deps.store,
      notifier: this.deps.notifier,
      closer: this.closer,
      checkpointSeconds: this.deps.options.checkpointSeconds,
      wrapUpSeconds: this.deps.options.wrapUpSeconds,
      processId: this.deps.processId,
      leaseMs: this.leaseMs,
      graceSeconds: this.deps.options.callGraceSeconds,
    };
  }

  /** A live call of this process, until it ends or is no longer this process's. */
  private track(call: LiveCall): void {
    this.live.set(call.id, call);
    const forget = () => {
      if (this.live.get(call.id) === call) this.live.delete(call.id);
    };
    call.onEnded(forget);
    call.onReleased(forget);
  }

  /** The provider with a deadline; a late answer after the deadline is hung up, never leaked. */
  private async callProvider(
    sdp: string,
    session: SantaSessionConfig,
    shutdownSignal: AbortSignal,
  ): Promise<StartedCall> {
    const signal = AbortSignal.any([shutdownSignal, AbortSignal.timeout(this.deps.options.providerTimeoutMs)]);
    const attempt = this.deps.provider.startCall(sdp, session, signal);
    const aborted = new Promise<never>((_, reject) => {
      const fail = () =>
        reject(
          new RealtimeProviderError(
            shutdownSignal.aborted ? 'aborted' : 'timeout',
            'the provider did not answer in time',
          ),
        );
      if (signal.aborted) fail();
      else signal.addEventListener('abort', fail, { once: true });
    });
    try {
      return await Promise.race([attempt, aborted]);
    } catch (err) {
      attempt
        .then((late) => {
          late.control.close();
          return this.deps.provider.hangup(late.providerCallId);
        })
        .catch(() => undefined);
      throw err;
    }
  }

  /**
   * A start that failed after the hold: the closing path with no seconds, so all of the hold is
   * released, and the provider's call (if it answered) hung up. Not announced: the account never
   * saw it start; the start's ack says what went wrong.
   */
  private async abandon(row: CallRow, reason: CallEndReason, providerCallId: string | null): Promise<void> {
    await this.closer.close({
      callId: row.id,
      accountId: row.accountId,
      reason,
      meteredSeconds: 0,
      endedAt: this.deps.clock.now(),
      announce: false,
      providerCallId,
    });
  }

  /** What refuses any call on this account (closed, restricted, consent), in the order start checks it. */
  private async accountBlock(
    account: { status: string; restricted: boolean } | undefined,
    accountId: string,
  ): Promise<Exclude<CallBlock, 'insufficient_credit' | 'call_in_progress'> | null> {
    if (!account || account.status !== 'active') return 'account_closed';
    if (account.restricted) return 'processing_restricted';
    return await this.deps.consent.callBlock(accountId);
  }

  /** The parent controls and the one-call-per-child rule for this child now, or the caps a call gets. */
  private async profileLimits(
    profile: ProfileRow,
    now: number,
    tz: string,
    elsewhere: CallRow[],
  ): Promise<
    | { block: 'quiet_hours' | 'daily_limit_reached' | 'call_in_progress' }
    | { minSeconds: number; dailyLeft: number; untilQuiet: number | null }
  > {
    const dailyCap = profile.dailyMinutes === null ? null : profile.dailyMinutes * 60;
    const minSeconds = Math.min(this.deps.options.minCallSeconds, dailyCap ?? Infinity);
    if (profile.quietHours && inQuietHours(profile.quietHours, localMinuteOfDay(now, tz)))
      return { block: 'quiet_hours' };
    const untilQuiet = secondsUntilQuiet(profile.quietHours, now, tz);
    // Quiet hours that begin too soon for a call count as begun.
    if (untilQuiet !== null && untilQuiet < minSeconds) return { block: 'quiet_hours' };
    let dailyLeft = Infinity;
    if (dailyCap !== null) {
      dailyLeft = dailyCap - (await this.secondsToday(profile.id, startOfLocalDay(now, tz)));
      if (dailyLeft < minSeconds) return { block: 'daily_limit_reached' };
    }
    if (this.liveForProfile(profile.id) || elsewhere.some((r) => r.profileId === profile.id))
      return { block: 'call_in_progress' };
    return { minSeconds, dailyLeft, untilQuiet };
  }

  /**
   * Why the credit cannot hold a call of `minSeconds`, or null when it can. When another
   * child's live call holds the time, that is the reason, not "no call time".
   */
  private creditBlock(
    credit: { owesSeconds: number; availableSeconds: number },
    accountId: string,
    minSeconds: number,
    elsewhere: CallRow[],
    exceptCallId?: string,
  ): { block: 'credit_owed' | 'credit_held' | 'insufficient_credit' | null; liveProfileId: string | null } {
    if (credit.owesSeconds > 0) return { block: 'credit_owed', liveProfileId: null };
    if (credit.availableSeconds >= Math.max(1, Math.ceil(minSeconds))) return { block: null, liveProfileId: null };
    // A call still starting holds its time already (the hold comes before the provider answers).
    const holder =
      [...this.live.values()].find((s) => s.accountId === accountId && !s.ended) ??
      [...this.starting].find(([id, s]) => id !== exceptCallId && s.accountId === accountId)?.[1] ??
      elsewhere.find((r) => r.id !== exceptCallId);
    return holder
      ? { block: 'credit_held', liveProfileId: holder.profileId }
      : { block: 'insufficient_credit', liveProfileId: null };
  }

  /**
   * GET /api/calls/readiness: per child, whether call:start would refuse now and why, from the
   * same checks start() runs, so the panel and the popup can say so on the child's button.
   */
  async readiness(accountId: string, timeZone: string | undefined): Promise<CallReadiness> {
    // Validated like call:start's, and ignored like it: readiness must say what a start would.
    if (timeZone !== undefined && !isTimeZone(timeZone))
      throw new AppError('invalid_request', 400, 'Unknown time zone', { timeZone: 'Not an IANA time zone' });
    const now = this.deps.clock.now();
    const [account, credit, rows] = await Promise.all([
      this.deps.accounts.get(accountId),
      this.deps.credits.state(accountId),
      this.deps.profiles.listRows(accountId),
    ]);
    const accountBlock = await this.accountBlock(account, accountId);
    const mine = [...this.live.values()].filter((s) => s.accountId === accountId && !s.ended);
    const elsewhere = await this.liveElsewhere(accountId);
    const profiles: CallReadiness['profiles'] = [];
    for (const profile of rows.sort(oldestFirst('createdAt'))) {
      let block: CallBlock | null = accountBlock;
      let liveProfileId: string | null = null;
      if (!block) {
        const limits = await this.profileLimits(profile, now, controlsZone(profile), elsewhere);
        if ('block' in limits) {
          block = limits.block;
          if (block === 'call_in_progress') liveProfileId = profile.id;
        } else ({ block, liveProfileId } = this.creditBlock(credit, accountId, limits.minSeconds, elsewhere));
      }
      profiles.push({
        profileId: profile.id,
        block,
        until: block === 'quiet_hours' ? (profile.quietHours?.to ?? null) : null,
        liveProfileId,
      });
    }
    return {
      balanceSeconds: credit.balanceSeconds,
      availableSeconds: credit.availableSeconds,
      live: [
        ...mine.map((s) => ({
          callId: s.id,
          profileId: s.profileId,
          heldSeconds: s.heldSeconds,
          remainingSeconds: s.remainingSeconds(),
          elapsedSeconds: s.elapsedSeconds(),
          // As call:started said it: this process's provider answers the calls it runs.
          simulated: this.deps.provider.kind === 'simulated',
        })),
        // Another process's: as of its last checkpoint, counted on to now (its ticks say exactly).
        ...elsewhere.flatMap((r) => {
          if (r.profileId === null) return [];
          const elapsed = Math.min(
            r.heldSeconds,
            r.meteredSeconds + Math.max(0, Math.floor((now - r.checkpointAt) / 1000)),
          );
          return [
            {
              callId: r.id,
              profileId: r.profileId,
              heldSeconds: r.heldSeconds,
              remainingSeconds: r.heldSeconds - elapsed,
              elapsedSeconds: elapsed,
              simulated: r.provider === 'simulated',
            },
          ];
        }),
      ],
      profiles,
    };
  }

  /** The account's calls live on other processes (announced: the provider answered), from the store. */
  private async liveElsewhere(accountId: string): Promise<CallRow[]> {
    const rows = await this.deps.store.calls.findBy('accountId', accountId);
    return rows.filter(
      (r) => r.endedAt === null && r.providerCallId !== null && !this.live.has(r.id) && !this.starting.has(r.id),
    );
  }

  private liveForProfile(profileId: string): boolean {
    for (const s of this.live.values()) if (s.profileId === profileId && !s.ended) return true;
    return false;
  }

  /** Seconds this child has been on calls since `since` (live calls count what they have metered). */
  private async secondsToday(profileId: string, since: number): Promise<number> {
    let total = 0;
    for (const row of await this.deps.store.calls.findBy('profileId', profileId)) {
      if (row.startedAt < since) continue;
      const live = this.live.get(row.id);
      total += live ? live.elapsedSeconds() : row.meteredSeconds;
    }
    return total;
  }

  // ---- ends ------------------------------------------------------------------------

  /**
   * call:end from one of the account's sockets. The call window's own socket hangs up
   * ('hangup'); any other socket of the account is the parent ('parent'). Another account's
   * call is not found, and keeps running. A call another process runs is ended there: the end
   * is recorded for its owner (see requestEnd).
   */
  async endFromSocket(accountId: string, socketId: string, callId: string): Promise<void> {
    const session = this.live.get(callId);
    if (session && session.accountId === accountId) {
      await session.end(session.endReasonFor(socketId));
      return;
    }
    const row = await this.deps.store.calls.get(callId);
    // Ending an own call that already ended is fine (the child and the parent pressed at once).
    if (row && row.accountId === accountId && row.endedAt !== null) return;
    if (!row || row.accountId !== accountId || this.starting.has(callId)) throw noSuchCall();
    const window = row.window;
    const fromWindow = window?.processId === this.deps.processId && window.socketId === socketId;
    await this.requestEnd(row, fromWindow ? 'hangup' : 'parent');
  }

  /**
   * An end for a call this process does not run: kept in the record for its owner (one
   * conditional write, while the call is open and no end is asked yet), and the owner nudged
   * so it ends the call now rather than at its next checkpoint. Charged up to now, whenever the
   * owner acts. An owner that is gone (its lease passed) cannot act: this process takes the
   * call over and ends it itself.
   */
  private async requestEnd(row: CallRow, reason: CallEndReason): Promise<void> {
    const at = this.deps.clock.now();
    const asked = await this.deps.store.calls.update(
      row.id,
      { endRequest: { reason, at } },
      { if: (c) => c.endedAt === null && c.endRequest === null },
    );
    if (!asked) return;
    if (leaseExpired(asked, this.deps.clock.now())) await this.takeOver(asked, 'server_lost');
    else this.peers.poke(row.id);
  }

  /**
   * call:connected: the call window's media and data channel are up, so Santa is heard: he
   * greets now (once per call). Another account's call, or an ended one, is call_not_found.
   */
  async windowConnected(accountId: string, callId: string): Promise<void> {
    const session = this.live.get(callId);
    if (session && session.accountId === accountId && !session.ended) {
      session.greet();
      return;
    }
    const row = await this.deps.store.calls.get(callId);
    if (!row || row.accountId !== accountId || row.endedAt !== null) throw noSuchCall();
    this.peers.greet(callId);
  }

  /** call:resume: the call window came back on a new socket within the grace period. */
  async resume(accountId: string, socketId: string, callId: string): Promise<{ remainingSeconds: number }> {
    const session = this.live.get(callId);
    if (session && session.accountId === accountId && !session.ended) {
      session.attachWindow(socketId);
      return { remainingSeconds: session.remainingSeconds() };
    }
    // Another process runs the call: the record says where the window is now, and its owner is nudged.
    const me = this.deps.processId;
    const row = await this.deps.store.calls.update(
      callId,
      { window: { processId: me, socketId, connected: true } },
      { if: (c) => c.endedAt === null && c.accountId === accountId && c.providerCallId !== null },
    );
    if (!row) throw noSuchCall();
    // This process may have taken the call over while the write was in flight (its takeover
    // had already looked for windows resumed here): then the window is this call's, not remote.
    const here = this.live.get(callId);
    if (here && here.accountId === accountId && !here.ended) {
      here.attachWindow(socketId);
      return { remainingSeconds: here.remainingSeconds() };
    }
    this.remoteWindows.set(socketId, callId);
    this.peers.poke(callId);
    // As of the owner's last checkpoint, counted on to now: the owner's next tick says exactly.
    const since = Math.max(0, Math.floor((this.deps.clock.now() - row.checkpointAt) / 1000));
    return { remainingSeconds: Math.max(0, row.heldSeconds - row.meteredSeconds - since) };
  }

  /** A socket went away; calls it was the window of end after the grace period. */
  socketDisconnected(socketId: string): void {
    for (const s of this.live.values()) s.socketGone(socketId, this.deps.options.callGraceSeconds);
    const remote = this.remoteWindows.get(socketId);
    if (remote === undefined) return;
    this.remoteWindows.delete(socketId);
    // The owner runs the grace period; the record tells it the window is gone (if it is still this one).
    const me = this.deps.processId;
    this.deps.store.calls
      .update(
        remote,
        { window: { processId: me, socketId, connected: false } },
        { if: (c) => c.endedAt === null && c.window?.processId === me && c.window.socketId === socketId },
      )
      .then((row) => row && this.peers.poke(remote))
      .catch((err: unknown) =>
        this.deps.logger.warn({ callId: remote, err: (err as Error).message }, 'recording the window gone failed'),
      );
  }

  /** Another process changed a call's record: its owner (this process, if it is) reads it now. */
  async poked(callId: string): Promise<void> {
    const session = this.live.get(callId);
    if (!session || session.ended) return;
    const row = await this.deps.store.calls.get(callId);
    if (!row) return;
    if (row.endedAt !== null || row.ownerId !== this.deps.processId) session.release('lease_lost');
    else session.applyRecord(row);
  }

  /** call:connected reached another process for a call this one runs. */
  greetPoked(callId: string): void {
    this.live.get(callId)?.greet();
  }

  /**
   * Admin: end one call. A live call ends like any other end; a start in flight is aborted
   * (nothing charged); a call another process runs is ended there (requestEnd); an open
   * record no live process holds (its owner's lease passed) is taken over and ended here.
   * False when there is no open call.
   */
  async endCall(callId: string, reason: CallEndReason = 'admin'): Promise<boolean> {
    const session = this.live.get(callId);
    if (session) {
      if (session.ended) return false;
      await session.end(reason);
      return true;
    }
    const inFlight = this.starting.get(callId);
    if (inFlight) {
      inFlight.endReason = reason;
      inFlight.abort.abort();
      await inFlight.done;
      return true;
    }
    const row = await this.deps.store.calls.get(callId);
    if (!row || row.endedAt !== null) return false;
    if (!leaseExpired(row, this.deps.clock.now()) && row.ownerId !== null && row.ownerId !== this.deps.processId) {
      await this.requestEnd(row, reason);
      return true;
    }
    return this.endDetached(row, reason);
  }

  /** Account closed or restricted: end every open call of the account. Returns how many. */
  async endAllForAccount(accountId: string, reason: CallEndReason): Promise<number> {
    const ids = new Set<string>();
    for (const s of this.live.values()) if (s.accountId === accountId && !s.ended) ids.add(s.id);
    for (const [id, s] of this.starting) if (s.accountId === accountId) ids.add(id);
    for (const row of await this.deps.store.calls.findBy('accountId', accountId))
      if (row.endedAt === null) ids.add(row.id);
    const ended = await Promise.all([...ids].map((id) => this.endCall(id, reason)));
    return ended.filter(Boolean).length;
  }

  /**
   * An open record no live process holds (its owner is gone, or none was ever recorded):
   * closed from its last checkpoint, only while it is still as read (nobody claimed it since).
   */
  private async endDetached(row: CallRow, reason: CallEndReason): Promise<boolean> {
    const closed = await this.closer.close({
      callId: row.id,
      accountId: row.accountId,
      reason,
      endedAt: this.deps.clock.now(),
      announce: row.providerCallId !== null,
      ...(row.ownerId !== null ? { ownerId: row.ownerId } : {}),
    });
    return closed !== null;
  }

  // ---- takeover --------------------------------------------------------------------

  /**
   * One pass of the lease watcher (and of start-up recovery): every open call whose lease has
   * passed, not live or starting here, is claimed and taken over or ended (see lease.ts).
   * `everyOpen`: at start-up on a store only this process can open (lowdb's LOCK), every open
   * call is an orphan, whatever its lease says. Returns how many were taken over and ended.
   */
  async takeOverExpired(reasonIfLost: CallEndReason, everyOpen = false): Promise<{ takenOver: number; ended: number }> {
    const result = { takenOver: 0, ended: 0 };
    if (this.closing) return result;
    const now = this.deps.clock.now();
    const due = (await this.deps.store.calls.findBy('endedAt', null)).filter(
      (row) => !this.live.has(row.id) && !this.starting.has(row.id) && (everyOpen || leaseExpired(row, now)),
    );
    // Several at a time: a draining process hands all its calls over at once, and each takeover
    // waits on the provider (a new sideband). One by one, the last of 50 calls went unmetered
    // for seconds after the drain instead of about one watch interval.
    const atOnce = new ConcurrencyLimit(TAKEOVERS_AT_ONCE, Infinity, 'takeovers');
    await Promise.all(
      due.map((row) =>
        atOnce.run(async () => {
          if (this.live.has(row.id) || this.starting.has(row.id)) return;
          const outcome = await this.takeOver(row, reasonIfLost, everyOpen);
          if (outcome === 'taken_over') result.takenOver++;
          else if (outcome === 'ended') result.ended++;
        }),
      ),
    );
    return result;
  }

  /**
   * Claim one call whose owner is gone (one conditional write: the owner and lease read must
   * still be there, so of several processes exactly one wins), then go on with it here or end it.
   */
  private async takeOver(
    row: CallRow,
    reasonIfLost: CallEndReason,
    force = false,
  ): Promise<'taken_over' | 'ended' | 'lost_race'> {
    const { store, clock, logger, provider } = this.deps;
    const me = this.deps.processId;
    const now = clock.now();
    const claimed = await store.calls.update(
      row.id,
      // Long enough to join the call again at the provider before the first checkpoint renews it.
      { ownerId: me, leaseUntil: now + this.leaseMs + this.deps.options.providerTimeoutMs },
      {
        if: (c) =>
          c.endedAt === null &&
          c.ownerId === row.ownerId &&
          c.leaseUntil === row.leaseUntil &&
          (force || c.leaseUntil <= now),
      },
    );
    if (!claimed) return 'lost_race';
    logger.info(
      { callId: row.id, from: row.ownerId, lateMs: Math.max(0, now - row.leaseUntil) },
      'claimed a call whose owner stopped renewing its lease',
    );

    // Until the checkpoint, as far as anyone can know; the gap after it is charged only when the call goes on (lease.ts).
    const atCheckpoint = Math.max(claimed.checkpointAt, claimed.startedAt);
    const closeHere = async (reason: CallEndReason, seconds: number, endedAt: number) => {
      await this.closer.close({
        callId: claimed.id,
        accountId: claimed.accountId,
        reason,
        meteredSeconds: seconds,
        endedAt,
        announce: claimed.providerCallId !== null,
        providerCallId: claimed.providerCallId,
        ownerId: me,
      });
      return 'ended' as const;
    };

    // A start that never reached the provider: nothing was heard, nothing is charged.
    if (claimed.providerCallId === null) return closeHere('server_restart', claimed.meteredSeconds, atCheckpoint);
    const resumable = claimed.provider === provider.kind && provider.resumeCall !== undefined;
    if (!resumable) {
      const reason = claimed.endRequest?.reason ?? reasonIfLost;
      return closeHere(reason, claimed.meteredSeconds, atCheckpoint);
    }
    if (claimed.endRequest) {
      // Asked to end while the owner was gone: the media ran until then.
      const { reason, at } = claimed.endRequest;
      const seconds = Math.min(
        claimed.heldSeconds,
        claimed.meteredSeconds + Math.max(0, Math.floor((at - claimed.checkpointAt) / 1000)),
      );
      return closeHere(reason, seconds, Math.max(at, atCheckpoint));
    }

    const accountId = claimed.accountId;
    const profile =
      claimed.profileId && accountId ? await this.deps.profiles.find(accountId, claimed.profileId) : undefined;
    let resumed: Awaited<ReturnType<NonNullable<RealtimeProvider['resumeCall']>>>;
    try {
      if (!profile || !accountId)
        throw new RealtimeProviderError('provider_unavailable', 'the call has no child any more');
      resumed = await provider.resumeCall!(claimed.providerCallId, this.sessionConfig(profile, claimed.heldSeconds));
    } catch (err) {
      logger.warn(
        { callId: claimed.id, code: err instanceof RealtimeProviderError ? err.code : 'unknown' },
        'the call could not be joined again at the provider; it ends',
      );
      return closeHere(reasonIfLost, claimed.meteredSeconds, atCheckpoint);
    }
    if (this.closing) {
      resumed.control.close();
      await store.calls.update(claimed.id, { leaseUntil: clock.now() }, { if: (c) => c.ownerId === me });
      return 'lost_race';
    }

    const window = claimed.window;
    // A window on the process that is gone (or already gone itself) must resume: the grace runs from now.
    const windowHere = window && window.connected && window.processId !== row.ownerId ? window.socketId : null;
    const call = new LiveCall(this.liveCallDeps(), {
      callId: claimed.id,
      accountId,
      profileId: profile!.id,
      language: profile!.language,
      heldSeconds: claimed.heldSeconds,
      limitReason: claimed.limitReason ?? 'credit_exhausted',
      providerCallId: claimed.providerCallId,
      control: resumed.control,
      guard: this.deps.guard(profile!.language),
      windowSocketId: windowHere,
      // Its socket on the process that is gone: a record still naming it is from before the window resumed.
      ...(window && windowHere === null ? { formerWindowSocketIds: [window.socketId] } : {}),
      ...(resumed.session ? { session: resumed.session } : {}),
      takenOver: { meteredSeconds: claimed.meteredSeconds, checkpointAt: claimed.checkpointAt },
    });
    this.track(call);
    // A window that resumed on this very process while the call was being taken over found no
    // live call here yet, so it recorded itself as a remote window (resume()): it is this call's
    // window now. Without this the new session ran the grace period for a window it had, and
    // took the child's hang-up for the parent's.
    for (const [socketId, id] of this.remoteWindows) {
      if (id !== claimed.id) continue;
      this.remoteWindows.delete(socketId);
      call.attachWindow(socketId);
    }
    if (resumed.control.closed) {
      await call.end('provider_error');
      return 'ended';
    }
    call.start();
    logger.info(
      { callId: claimed.id, from: row.ownerId, elapsedSeconds: call.elapsedSeconds() },
      'call taken over: metering goes on here',
    );
    return 'taken_over';
  }

  /** Santa's session for a child: the same at the start and at a takeover, so the session check holds across both. */
  private sessionConfig(profile: ProfileRow, heldSeconds: number): SantaSessionConfig {
    return {
      instructions: buildSantaInstructions(profile, { remainingSeconds: heldSeconds }),
      voice: this.deps.options.voice,
      language: profile.language,
      maxOutputTokens: this.deps.options.maxOutputTokens,
      childName: profile.name,
      wishList: [...profile.wishList],
    };
  }

  /**
   * Usage for the admin dashboard, counts only: calls and seconds since `since`, calls open
   * now, seconds ever. The accounts in `leaveOut` (restricted processing) are not counted.
   */
  async usage(opts: {
    since: number;
    leaveOut: ReadonlySet<string>;
  }): Promise<{ callsSince: number; secondsSince: number; live: number; secondsTotal: number }> {
    const usage = { callsSince: 0, secondsSince: 0, live: 0, secondsTotal: 0 };
    for await (const batch of this.deps.store.calls.scan()) {
      for (const c of batch) {
        if (c.accountId !== null && opts.leaveOut.has(c.accountId)) continue;
        usage.secondsTotal += c.meteredSeconds;
        if (c.endedAt === null) usage.live++;
        if (c.startedAt >= opts.since) {
          usage.callsSince++;
          usage.secondsSince += c.meteredSeconds;
        }
      }
    }
    return usage;
  }

  /** The live calls, for admin views and tests: ids and numbers only. */
  liveCalls(): {
    callId: string;
    accountId: string;
    profileId: string;
    remainingSeconds: number;
    windowConnected: boolean;
  }[] {
    return [...this.live.values()].map((s) => ({
      callId: s.id,
      accountId: s.accountId,
      profileId: s.profileId,
      remainingSeconds: s.remainingSeconds(),
      windowConnected: s.windowConnected,
    }));
  }

  // ---- usage history ---------------------------------------------------------------

  /**
   * One of the account's calls, as the history shows it: what a page that lost its connection
   * asks once it is back (ended? why? how many seconds were charged?). Another account's call
   * is not_found, exactly like a missing one.
   */
  async record(accountId: string, callId: string): Promise<CallRecord> {
    const r = await this.deps.store.calls.get(callId);
    if (!r || r.accountId !== accountId) throw new AppError('not_found', 404, 'No such call');
    return this.recordView(r);
  }

  /** The account's calls, newest first: usage data only (who, when, how long, why it ended). */
  async history(accountId: string): Promise<CallRecord[]> {
    const rows = (await this.deps.store.calls.findBy('accountId', accountId)).sort(newestFirst('startedAt'));
    return rows.map((r) => this.recordView(r));
  }

  /**
   * A call as the history shows it. A call live on this process counts its seconds up to now: the
   * stored meteredSeconds are only as fresh as its last checkpoint.
   */
  private recordView(r: CallRow): CallRecord {
    const live = this.live.get(r.id);
    return {
      id: r.id,
      profileId: r.profileId,
      startedAt: toIso(r.startedAt),
      endedAt: toIsoOrNull(r.endedAt),
      seconds: live && r.endedAt === null ? live.elapsedSeconds() : r.meteredSeconds,
      reason: r.reason,
    };
  }

  // ---- process life ----------------------------------------------------------------

  /**
   * At start-up, before listening: the calls whose owner is gone (lease passed; on a store
   * only this process can open, every open one) are taken over or ended and settled
   * ('server_restart'), and ended calls left unsettled are settled. Then the lease watcher
   * starts: from here on any call whose owner stops renewing is found within the lease and
   * one watch interval.
   */
  async recover(options: { everyOpen: boolean }): Promise<RecoveryResult> {
    const { store, clock, logger, credits } = this.deps;
    const taken = await this.takeOverExpired('server_restart', options.everyOpen);
    const settled = await settleEndedCalls({ store, clock, logger, credits });
    return { ...taken, settled: settled.settled };
  }

  /** The lease watcher runs (after recovery, once the process serves). */
  startWatching(): void {
    if (!this.closing) this.watcher.start();
  }

  /**
   * Stop everything of this process's calls at once and write nothing: what a process that is
   * killed leaves behind (its calls' leases run out and another process takes them over). For
   * tests of several processes in one, which cannot kill -9 one of them.
   */
  async halt(): Promise<void> {
    this.closing = true;
    await this.watcher.stop();
    for (const s of [...this.live.values()]) s.release('halted');
  }

  /**
   * Graceful shutdown: refuse new calls, abort starts in flight, stop looking for calls to take
   * over, then each live call either goes to another process at once (handOverOnShutdown, and
   * a provider whose calls can move: its lease ends now) or ends and settles ('server_shutdown').
   */
  async shutdown(): Promise<void> {
    this.closing = true;
    await this.watcher.stop();
    for (const s of this.starting.values()) s.abort.abort();
    await Promise.all([...this.starting.values()].map((s) => s.done));
    const handOver = this.deps.options.handOverOnShutdown && this.deps.provider.resumeCall !== undefined;
    let handedOver = 0;
    let ended = 0;
    await Promise.all(
      [...this.live.values()].map(async (s) => {
        if (handOver && (await s.handOver())) {
          handedOver++;
          this.deps.logger.info({ callId: s.id }, 'call handed over to another process');
          return;
        }
        ended++;
        await s.end('server_shutdown');
      }),
    );
    if (handedOver + ended > 0) this.deps.logger.info({ handedOver, ended }, 'live calls drained');
    await this.deps.store.flush().catch(() => undefined);
  }

  /** Retention (P13): call records that ended at or before the cutoff are deleted. Returns how many. */
  async deleteEndedUpTo(cutoff: number, opts: SweepOptions): Promise<number> {
    const { calls } = this.deps.store;
    return sweepUpTo(calls, 'endedAt', cutoff, (c) => calls.remove(c.id), opts);
  }
}

/** How many calls one watcher pass takes over at once (each claims its row and opens a sideband). */
const TAKEOVERS_AT_ONCE = 8;

/**
 * Which limit a call's held seconds came from, so its end at zero says the real reason: less
 * credit than any limit is the credit running out; otherwise the tightest limit, and of equal
 * ones the longer-lasting (quiet hours, then the day's minutes, then the call's length).
 */
function limitReason(
  held: number,
  limits: { max_duration: number; daily_limit: number; quiet_hours: number },
): CallLimitReason {
  const tightest = Math.min(limits.max_duration, limits.daily_limit, limits.quiet_hours);
  if (held < tightest) return 'credit_exhausted';
  if (limits.quiet_hours === tightest) return 'quiet_hours';
  if (limits.daily_limit === tightest) return 'daily_limit';
  return 'max_duration';
}

interface StartInFlight {
  accountId: string;
  profileId: string;
  abort: AbortController;
  done: Promise<unknown>;
  /** Set when an admin or account end aborts the start: the record closes with this reason. */
  endReason: CallEndReason | null;
}

const BLOCK_MESSAGES: Record<CallBlock, string> = {
  insufficient_credit: 'Not enough call time for a call',
  call_in_progress: 'This child is already on a call',
  account_closed: 'This account is closed',
  processing_restricted: 'Processing is restricted on this account; lift the restriction to call',
  quiet_hours: 'Quiet hours are on for this child, or begin too soon for a call',
  daily_limit_reached: "This child's minutes for today are used up",
  credit_owed: 'A refunded payment left call time owing; buy time to settle it before the next call',
  credit_held: "Another child's live call holds the call time; end it or wait for it to end",
  consent_required: 'Give consent to the privacy policy before the first call',
  consent_unverified: 'Verify your consent (a card payment does it) before the first call',
  consent_outdated: 'The privacy policy changed; accept the new version before the next call',
};

export type { CallEndResult };
